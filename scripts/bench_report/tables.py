"""The Markdown tables of the report, with the targets each benchmark is held to."""

from .results import (COPY_TRANSPORTS, HANDOFF_TRANSPORTS, MESSAGE_TRANSPORTS, MIN_CPU_SHARE,
                      arguments, family, handoff_results, messages_results, noisy, ordered,
                      paired_results, pipeline_results, size_label)

RING_VS_MAILBOX_TARGET = 1.5  # ring round trip at 64 B within 1.5x of the bare mailbox
COPY_VS_ZERO_COPY_TARGET = 20.0  # zero copy at 16/64 MiB at least 20x faster than any copy
RSS_FLAT_TARGET = 0.10  # in-process peak RSS from the smallest to the largest input: within 10%


def number(value):
    if value < 10:
        return f"{value:.2f}"
    if value < 100:
        return f"{value:.1f}"
    return f"{value:,.0f}"


def ratio(value):
    return f"{value:.2f}x" if value < 10 else f"{value:.0f}x"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def best_copy(handoff, size):
    """(transport, µs) of the fastest copying transport at `size`, or None."""
    found = [(handoff[(t, size)]["us"], t) for t in COPY_TRANSPORTS if (t, size) in handoff]
    return (min(found)[1], min(found)[0]) if found else None


def handoff_section(results, errors):
    handoff = handoff_results(results)
    failed = {(c[0], int(c[1])): e for (fam, c), e in errors.items()
              if fam == "handoff" and len(c) >= 2 and c[1].isdigit()}
    if not handoff and not failed:
        return []
    keys = set(handoff) | set(failed)
    columns = ordered({t for t, _ in keys}, HANDOFF_TRANSPORTS)
    rows = []
    for size in sorted({s for _, s in keys}):
        row = [size_label(size)]
        for transport in columns:
            key = (transport, size)
            if key in handoff:
                mark = " \\*" if noisy(key, handoff[key]) else ""
                row.append(number(handoff[key]["us"]) + mark)
            else:
                row.append("error" if key in failed else "–")
        best, zero_copy = best_copy(handoff, size), handoff.get(("zero_copy_spin", size))
        row.append(f"{ratio(best[1] / zero_copy['us'])} ({best[0]})"
                   if best and zero_copy else "–")
        rows.append(row)
    lines = ["**Handing a payload to another process and getting a small ack back** "
             "(`bench_handoff`, median µs per round trip; every receiver reads one byte per 4 KiB "
             "page of what it got):", ""]
    lines += table(["payload"] + columns + ["best copy / zero_copy_spin"], rows)
    lines.append("")

    def caveat(*keys_):
        marked = any(noisy(k, handoff[k]) for k in keys_)
        return " — marked \\*, not trustworthy" if marked else ""

    for ring, mailbox in (("zero_copy_spin", "mailbox_spin"), ("zero_copy_sleep", "mailbox_futex")):
        ring_key, mailbox_key = (ring, 64), (mailbox, 64)
        if ring_key in handoff and mailbox_key in handoff:
            value = handoff[ring_key]["us"] / handoff[mailbox_key]["us"]
            lines.append(f"- 64 B {ring} / {mailbox}: **{value:.2f}x** (target ≤ "
                         f"{RING_VS_MAILBOX_TARGET}x: {verdict(value <= RING_VS_MAILBOX_TARGET)}){caveat(ring_key, mailbox_key)}")
    for size in (16 << 20, 64 << 20):
        best, key = best_copy(handoff, size), ("zero_copy_spin", size)
        if best and key in handoff:
            value = best[1] / handoff[key]["us"]
            lines.append(f"- {size_label(size)} best copy ({best[0]}) / zero_copy_spin: "
                         f"**{value:.0f}x** (target ≥ {COPY_VS_ZERO_COPY_TARGET:.0f}x: "
                         f"{verdict(value >= COPY_VS_ZERO_COPY_TARGET)}){caveat(key)}")
    if any(noisy(k, r) for k, r in handoff.items()):
        lines.append(f"- \\* a spinning side was off its core for more than "
                     f"{1 - MIN_CPU_SHARE:.0%} of the run: the machine was busy")
    return lines


def messages_section(results):
    messages = messages_results(results)
    if not messages:
        return []
    floor = messages.get("mailbox_spin")
    rows = []
    for transport in ordered(messages, MESSAGE_TRANSPORTS):
        rate = messages[transport].get("items_per_second", 0)
        mark = " \\*" if noisy((transport,), messages[transport]) else ""
        rows.append([transport, f"{rate / 1e6:.2f}{mark}", number(1e9 / rate) if rate else "–",
                     f"{rate / floor['items_per_second']:.2f}x" if floor else "–",
                     f"{messages[transport].get('blocked', 0):.3f}"])
    lines = ["**Many small messages, one way** (`bench_messages`: 2^20 messages of 64 B streamed "
             "to another process, medians):", ""]
    lines += table(["transport", "M messages/s", "ns / message", "vs mailbox_spin",
                    "sleeps / message"], rows)
    if any(noisy((t,), r) for t, r in messages.items()):
        lines += ["", f"\\* a spinning side was off its core for more than {1 - MIN_CPU_SHARE:.0%} "
                  "of the run: the machine was busy"]
    return lines + [""]


def stages_section(results):
    stages = family(results, "stages")
    if not stages:
        return []
    rows = [[case[0], f"{r.get('bytes_per_second', 0) / 1e6:,.0f}"] for case, r in stages.items()]
    lines = ["**Stages, one core** (`bench_stages`, MB/s):", ""]
    return lines + table(["stage", "MB/s"], rows) + [""]


def latency(result):
    return f"{number(result.get('latency_p50_us', 0))} / {number(result.get('latency_p99_us', 0))}"


def mib(value):
    return f"{value / (1 << 20):,.0f} MiB"


def efficiency_section(results):
    cases = family(results, "pipeline_vs_stages")
    if not cases:
        return []
    rows = []
    for case, r in sorted(cases.items(), key=lambda item: arguments(item[0]).get("threads", 0)):
        rows.append([str(arguments(case).get("threads", "?")),
                     f"{r.get('bytes_per_second', 0) / 1e6:,.0f}",
                     f"**{r.get('efficiency', 0):.2f}**",
                     latency(r), mib(r.get("arena_peak_bytes", 0)),
                     f"{r.get('cpu_utilization', 0):.2f}",
                     f"{r.get('bytes_copied_between_stages', 0):.0f}"])
    lines = ["**The whole import against its stages** (`pipeline_vs_stages`, in-process; "
             "efficiency = sum of the single-stage passes / threads / measured):", ""]
    return lines + table(["threads", "MB/s", "efficiency", "progress p50 / p99 µs", "arena peak",
                          "CPUs used", "payload bytes copied"], rows) + [""]


def pipeline_section(results):
    cases = pipeline_results(results)
    if not cases:
        return []
    rows = []
    for (mode, workers, size), r in sorted(cases.items()):
        rows.append([mode, str(workers), size_label(size << 20),
                     f"{r.get('bytes_per_second', 0) / 1e6:,.0f}", mib(r.get("peak_rss_bytes", 0)),
                     mib(r.get("arena_peak_bytes", 0)), f"{r.get('cpu_seconds', 0):.2f}",
                     f"{r.get('page_faults', 0) / 1e3:,.1f}k", latency(r),
                     f"{r.get('bytes_copied_between_stages', 0):,.0f}"])
    lines = ["**Imports by mode and input size** (`bench_pipeline`, CSV → `.zcp`, medians; CPU "
             "time and page faults include the workers'):", ""]
    lines += table(["mode", "workers", "input", "MB/s", "peak RSS", "arena peak", "CPU s",
                    "page faults", "progress p50 / p99 µs", "payload bytes copied"], rows)
    lines.append("")
    for workers in sorted({w for m, w, _ in cases if m == "in_process"}):
        sizes = sorted(s for m, w, s in cases if m == "in_process" and w == workers)
        if len(sizes) >= 2:
            small, large = (cases[("in_process", workers, s)]["peak_rss_bytes"]
                            for s in (sizes[0], sizes[-1]))
            change = round(large / small - 1, 2)
            lines.append(f"- in_process, {workers} worker(s): peak RSS {mib(small)} at "
                         f"{size_label(sizes[0] << 20)}, {mib(large)} at "
                         f"{size_label(sizes[-1] << 20)}: **{round(change * 100):+d}%** "
                         f"(target within ±{RSS_FLAT_TARGET:.0%}: "
                         f"{verdict(abs(change) <= RSS_FLAT_TARGET)})")
    return lines + isolation_lines(cases, paired_results(results)) + [""]


DISPATCH_TARGET_US = 10.0  # an empty job's round trip through a worker
ISOLATED_VS_IN_PROCESS_TARGET = 0.9
ZERO_COPY_VS_COPY_TARGET = 1.2  # isolated pipeline at 2 workers


def verdict(met):
    return "met" if met else "MISSED"


def workgroup_section(results):
    cases = {(c[1], arguments(c).get("bytes", 0)): r
             for c, r in family(results, "workgroup").items() if len(c) >= 2}
    if not cases:
        return []
    rows = []
    for size in sorted({b for _, b in cases}):
        zero, copy = cases.get(("zero_copy", size)), cases.get(("copy", size))
        rows.append([size_label(size) if size else "empty",
                     number(zero["us"]) if zero else "–", number(copy["us"]) if copy else "–",
                     ratio(copy["us"] / zero["us"]) if zero and copy else "–"])
    lines = ["**Workgroup dispatch round trip** (`bench_workgroup`: a job to a worker process "
             "and back, the worker reading the whole payload; µs, medians):", ""]
    lines += table(["payload", "handles", "copy transport", "copy / handles"], rows)
    empty = cases.get(("zero_copy", 0))
    if empty:
        lines += ["", f"- empty job: {number(empty['us'])} µs (target ≤ {DISPATCH_TARGET_US:.0f} "
                  f"µs: {verdict(empty['us'] <= DISPATCH_TARGET_US)})"]
    return lines + [""]


def isolation_lines(cases, paired):
    """Ratios of the isolated modes, per workers and size present in both. Where the paired
    rounds ran (pipeline_paired), their medians decide the verdicts: they compare imports run
    seconds apart, the ratios of the medians above imports run minutes apart."""
    lines = []
    for (mode, workers, size), r in sorted(cases.items()):
        if mode != "isolated_zero_copy":
            continue
        local = cases.get(("in_process", workers, size))
        copy = cases.get(("isolated_copy", workers, size))
        pairs = paired.get((workers, size), {})
        speed = r.get("bytes_per_second", 0)
        parts = []

        def ratio_part(label, unpaired, paired_key, target):
            if paired_key in pairs:
                value = pairs[paired_key]
                cpu = pairs.get(paired_key + "_cpu")
                cpu_text = f"CPU time {cpu:.2f}x; " if cpu is not None else ""
                rounds = int(pairs.get("repetitions", 0))
                rounds_text = f"{rounds} round{'s' if rounds != 1 else ''}; " if rounds else ""
                text = (f"{label} **{value:.2f}x** paired ({rounds_text}{cpu_text}"
                        f"{unpaired:.2f}x from the medians)")
            else:
                value, text = unpaired, f"{label} **{unpaired:.2f}x**"
            if target is not None:
                text += f" (target ≥ {target}x: {verdict(value >= target)})"
            parts.append(text)

        if local and local.get("bytes_per_second"):
            ratio_part("isolated / in-process", speed / local["bytes_per_second"],
                       "isolated_over_in_process", ISOLATED_VS_IN_PROCESS_TARGET)
        if copy and copy.get("bytes_per_second"):
            ratio_part("zero-copy / copy transport", speed / copy["bytes_per_second"],
                       "zero_copy_over_copy", ZERO_COPY_VS_COPY_TARGET if workers == 2 else None)
        if parts:
            lines.append(f"- {workers} worker(s), {size_label(size << 20)}: " + "; ".join(parts))
    if paired:
        lines.append("- paired: the median of the ratios of rounds that run the three modes back "
                     "to back in a random order (`pipeline_paired`; a single round's at 2 GiB); "
                     "CPU time: the median of the same rounds' ratios of CPU time (workers' "
                     "included), the same way round")
    return lines


def error_lines(errors):
    return [f"- error in {fam}/{'/'.join(case)}: {message}"
            for (fam, case), message in sorted(errors.items())]
