"""Google Benchmark JSON files of zcpipe's suites, read into medians by benchmark case."""

import json
import re
import statistics
import sys

US_PER_UNIT = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}
# Parts of a benchmark name that Google Benchmark adds and that identify no case.
RUN_OPTIONS = re.compile(r"^(min_time|iterations|repeats|real_time|manual_time|process_time)")

HANDOFF_TRANSPORTS = [
    "zero_copy_spin", "zero_copy_sleep", "zero_copy_no_touch", "mailbox_spin", "mailbox_futex",
    "message_queue", "unix_socket", "pipe", "zmq",
]
COPY_TRANSPORTS = ["message_queue", "unix_socket", "pipe", "zmq"]
MESSAGE_TRANSPORTS = [
    "ring_spin", "ring_sleep", "mailbox_spin", "message_queue", "unix_socket", "pipe", "zmq",
]
SPINNING = {"zero_copy_spin", "zero_copy_no_touch", "mailbox_spin", "ring_spin"}
MIN_CPU_SHARE = 0.9  # a spinner below this was descheduled: its result is marked


def case_of(name):
    """('handoff', ('pipe', '65536')) from 'handoff/pipe/65536/min_time:0.100/real_time'."""
    parts = [p for p in name.split("/") if not RUN_OPTIONS.match(p)]
    return parts[0], tuple(parts[1:])


def summary(bench):
    """The numbers of one JSON entry: real time in µs as "us", the CPU share, every counter."""
    scale = US_PER_UNIT[bench.get("time_unit", "ns")]
    values = {k: v for k, v in bench.items()
              if isinstance(v, (int, float)) and not isinstance(v, bool)}
    values["us"] = bench["real_time"] * scale
    values["cpu_share"] = bench["cpu_time"] / bench["real_time"] if bench["real_time"] else 0.0
    return values


def median_of(runs):
    fields = set().union(*runs)
    return {f: statistics.median(r[f] for r in runs if f in r) for f in fields}


def load(paths):
    """Returns ({(family, case): summary}, {(family, case): error}, context of the first file)."""
    results, errors, context = {}, {}, {}
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, json.JSONDecodeError) as e:  # a suite that ran nothing (a filter)
            print(f"bench-report: skipping {path}: {e}", file=sys.stderr)
            continue
        context = context or data.get("context", {})  # the first file's: when the run began
        medians, runs = {}, {}
        for bench in data.get("benchmarks", []):
            key = case_of(bench.get("run_name") or bench.get("name", ""))
            if bench.get("error_occurred"):
                errors[key] = bench.get("error_message", "error")
            elif bench.get("run_type") == "aggregate":
                if bench.get("aggregate_name") == "median":
                    medians[key] = summary(bench)
            else:
                runs.setdefault(key, []).append(summary(bench))
        for key, key_runs in runs.items():
            medians.setdefault(key, median_of(key_runs))
        for key in medians:
            errors.pop(key, None)
        results.update(medians)
    return results, errors, context


def family(results, name):
    """{case: summary} of one benchmark family."""
    return {case: r for (fam, case), r in results.items() if fam == name}


def arguments(case):
    """{'workers': 1, 'mib': 64} from ('in_process', 'workers:1', 'mib:64')."""
    out = {}
    for part in case:
        key, sep, value = part.partition(":")
        if sep:
            out[key] = int(value) if value.isdigit() else value
    return out


def handoff_results(results):
    """{(transport, bytes): summary}."""
    return {(c[0], int(c[1])): r for c, r in family(results, "handoff").items()
            if len(c) >= 2 and c[1].isdigit()}


def messages_results(results):
    """{transport: summary} of the 64-byte streams."""
    return {c[0]: r for c, r in family(results, "messages").items() if c}


def pipeline_results(results):
    """{(mode, workers, mib): summary}."""
    out = {}
    for case, r in family(results, "pipeline").items():
        args = arguments(case)
        if case and "workers" in args and "mib" in args:
            out[(case[0], args["workers"], args["mib"])] = r
    return out


def paired_results(results):
    """{(workers, mib): summary} of the paired rounds (medians of the rounds' ratios)."""
    out = {}
    for case, r in family(results, "pipeline_paired").items():
        args = arguments(case)
        if "workers" in args and "mib" in args:
            out[(args["workers"], args["mib"])] = r
    return out


def noisy(key, result):
    """Whether a spinning result (key[0] is the transport) ran with a process off its core."""
    if key[0] not in SPINNING:
        return False
    shares = (result["cpu_share"], result.get("peer_cpu"))
    return any(s is not None and s < MIN_CPU_SHARE for s in shares)


def ordered(present, known):
    return [t for t in known if t in present] + sorted(set(present) - set(known))


def size_label(size):
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} B"
