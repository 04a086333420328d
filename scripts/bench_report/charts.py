"""The SVG charts of the report, drawn by gnuplot."""

import os
import subprocess
import tempfile

from .results import (HANDOFF_TRANSPORTS, MESSAGE_TRANSPORTS, handoff_results,
                      messages_results, ordered, pipeline_results, size_label)


def gnuplot(script, data_files):
    """Runs gnuplot on `script` with `data_files` ({name: text}) in a scratch directory."""
    with tempfile.TemporaryDirectory(prefix="bench-report-") as scratch:
        for name, text in data_files.items():
            with open(os.path.join(scratch, name), "w", encoding="utf-8") as f:
                f.write(text)
        subprocess.run(["gnuplot"], input=script, text=True, cwd=scratch, check=True)


TERMINAL = ('set terminal svg size 860,480 dynamic noenhanced font "sans,12" '
            'background rgb "white"\n')


def quoted(text):
    return '"' + text.replace('"', "'") + '"'


def round_trip_chart(results, path):
    handoff = handoff_results(results)
    if not handoff:
        return False
    transports = ordered({t for t, _ in handoff}, HANDOFF_TRANSPORTS)
    sizes = sorted({s for _, s in handoff})
    lines = ["size " + " ".join(transports)]
    for size in sizes:
        lines.append(f"{size} " + " ".join(
            f"{handoff[(t, size)]['us']:.6g}" if (t, size) in handoff else "?" for t in transports))
    tics = ", ".join(f"{quoted(size_label(s))} {s}" for s in sizes)
    gnuplot(TERMINAL + f"""set output {quoted(path)}
set title "Round trip: payload to another process, small ack back (median)"
set logscale xy
set xlabel "payload"
set ylabel "µs per round trip (log)"
set xtics ({tics})
set grid
set key outside right
set datafile missing "?"
plot for [i=2:{len(transports) + 1}] "handoff.dat" using 1:i with linespoints title columnheader(i)
""", {"handoff.dat": "\n".join(lines) + "\n"})
    return True


def bar_chart(path, title, ylabel, labels, series, values, logscale=False):
    """Clustered bars: a group per label, a bar per series; values[(label, series)]."""
    lines = ["label " + " ".join(quoted(s) for s in series)]
    for label in labels:
        lines.append(quoted(label) + " " + " ".join(
            f"{values[(label, s)]:.6g}" if (label, s) in values else "?" for s in series))
    gnuplot(TERMINAL + f"""set output {quoted(path)}
set title {quoted(title)}
set ylabel {quoted(ylabel)}
{"set logscale y" if logscale else "set yrange [0:*]"}
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
{"set key outside right" if len(series) > 1 else "set key off"}
set xtics rotate by -20
set datafile missing "?"
plot for [i=2:{len(series) + 1}] "bars.dat" using i:xtic(1) title columnheader(i)
""", {"bars.dat": "\n".join(lines) + "\n"})


def messages_chart(results, path):
    messages = messages_results(results)
    if not messages:
        return False
    transports = ordered(messages, MESSAGE_TRANSPORTS)
    values = {(t, "64 B"): messages[t].get("items_per_second", 0) / 1e6 for t in transports}
    bar_chart(path, "64-byte messages streamed one way (median)", "million messages / s (log)",
              transports, ["64 B"], values, logscale=True)
    return True


def pipeline_chart(results, path):
    cases = pipeline_results(results)
    if not cases:
        return False
    modes = sorted({(m, w) for m, w, _ in cases})
    labels = [f"{m} ×{w}" for m, w in modes]
    sizes = sorted({s for _, _, s in cases})
    series = [size_label(s << 20) for s in sizes]
    values = {(f"{m} ×{w}", size_label(s << 20)): r.get("bytes_per_second", 0) / 1e6
              for (m, w, s), r in cases.items()}
    bar_chart(path, "CSV → .zcp import throughput by mode, workers and input (median)", "MB/s",
              labels, series, values)
    return True
