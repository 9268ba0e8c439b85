#!/usr/bin/python3
"""bench/pvm_report.py: tables, targets and plots from one pvm_bench JSON file.

Usage: pvm_report.py BENCH.json [--out DIR] [--no-plot]

Every ratio is computed from figures of the same run (the same JSON file). Times are the
CPU time per iteration; with --benchmark_repetitions the median is used. Writes
DIR/report.md (the tables as Markdown) and, unless --no-plot, DIR/pvm_throughput.svg,
DIR/pvm_batch.svg and DIR/pvm_scaling.svg (needs matplotlib: Debian's python3-matplotlib,
run with /usr/bin/python3). The tables need only the standard library.
"""

import argparse
import json
import math
import os
import sys

UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
KIB, MIB = 1024, 1024 * 1024
SHAPES = ["1x1", "1xN", "1024x1", "1x1024", "1024x1024"]


def size_name(b):
    if b >= MIB and b % MIB == 0:
        return "%d MiB" % (b // MIB)
    if b >= KIB and b % KIB == 0:
        return "%d KiB" % (b // KIB)
    return "%d B" % b


def fmt_time(ns):
    if ns is None:
        return "-"
    if ns >= 1e6:
        return "%.2f ms" % (ns / 1e6)
    if ns >= 1e3:
        return "%.2f us" % (ns / 1e3)
    return "%.0f ns" % ns


def fmt_rate(bytes_per_s):
    if bytes_per_s is None:
        return "-"
    return "%.2f" % (bytes_per_s / 1e9)


def fmt_ratio(x):
    return "-" if x is None else "%.2f" % x


def load(path):
    """Returns (context, {name: record}); record has ns (CPU time per iteration) and the
    counters. Medians win over single runs when repetitions were asked for."""
    with open(path) as f:
        data = json.load(f)
    runs, medians, errors = {}, {}, {}
    for b in data.get("benchmarks", []):
        name = b.get("run_name", b["name"])
        if b.get("error_occurred"):
            errors[name] = b.get("error_message", "error")
            continue
        rec = dict(b)
        rec["ns"] = b["cpu_time"] * UNIT_NS[b.get("time_unit", "ns")]
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                medians[name] = rec
        else:
            runs.setdefault(name, rec)  # the first repetition if there is no median
    runs.update(medians)
    return data.get("context", {}), runs, errors


class Results:
    def __init__(self, runs):
        self.runs = runs

    def get(self, name):
        return self.runs.get(name)

    def ns(self, name):
        r = self.runs.get(name)
        return None if r is None else r["ns"]

    def counter(self, name, key):
        r = self.runs.get(name)
        return None if r is None or key not in r else r[key]

    def names(self, prefix):
        return [n for n in self.runs if n.startswith(prefix)]


def ratio(num, den):
    if num is None or den is None or den == 0:
        return None
    return num / den


def matrix_rows(res, op, state):
    """(shape, bytes, sim ns, host ns, memcpy ns) for every measured combination."""
    rows = []
    for name in res.names("pvm/sim/%s/" % op):
        parts = name.split("/")
        if len(parts) != 6 or parts[4] != state:
            continue
        shape, size = parts[3], int(parts[5])
        tail = "%s/%s/%d" % (shape, state, size)
        rows.append((shape, size, res.ns(name), res.ns("pvm/host/%s/%s" % (op, tail)),
                     res.ns("pvm/memcpy/copy/%s/prefaulted/%d" % (shape, size)), name))
    rows.sort(key=lambda r: (SHAPES.index(r[0]) if r[0] in SHAPES else 99, r[1]))
    return rows


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def build_report(ctx, res, errors):
    out = []
    load_avg = ctx.get("load_avg")
    out.append("Run: %s on %s (tree %s), %s CPUs at %s MHz; load average at start: %s." % (
        ctx.get("date", "?"), ctx.get("host_name", "?"), os.environ.get("PVM_REPORT_REV", "?"),
        ctx.get("num_cpus", "?"),
        ctx.get("mhz_per_cpu", "?"),
        ", ".join("%.2f" % x for x in load_avg) if load_avg else "?"))
    caches = [c for c in ctx.get("caches", []) if c.get("type") != "Instruction"]
    if caches:
        line = "Host caches (sysfs): " + ", ".join(
            "L%d %s" % (c.get("level", 0), size_name(c.get("size", 0))) for c in caches)
        threshold = ctx.get("mmsim_stream_threshold")
        if threshold and threshold.isdigit():
            line += ("; the simulator copies with non-temporal stores once a run of page "
                     "copies passes %s (3/4 of the last level, at least 4 MiB)" % size_name(int(threshold)))
        out.append(line + ".")
    out.append("Times are CPU time per call (the host syscall runs in the calling thread); "
               "ratios are from this run only. sim/host and sim/memcpy are throughput "
               "ratios (> 1: the simulator is faster).")

    targets = []

    for op in ("readv", "writev"):
        rows = []
        for shape, size, sim, host, mc, name in matrix_rows(res, op, "prefaulted"):
            rows.append([shape, size_name(size), fmt_time(sim), fmt_time(host), fmt_time(mc),
                         fmt_rate(size / sim * 1e9) if sim else "-",
                         fmt_rate(size / host * 1e9) if host else "-",
                         fmt_rate(size / mc * 1e9) if mc else "-",
                         fmt_ratio(ratio(host, sim)), fmt_ratio(ratio(mc, sim)),
                         "%.0f" % res.counter(name, "pins") if res.counter(name, "pins") is not None else "-",
                         "%.0f" % res.counter(name, "dtlb_misses") if res.counter(name, "dtlb_misses") is not None else "-",
                         "%.0f" % res.counter(name, "stlb_misses") if res.counter(name, "stlb_misses") is not None else "-"])
        if rows:
            out.append("\n### process_vm_%s, pre-faulted\n" % op)
            out.append(md_table(["shape", "size", "sim/call", "host/call", "memcpy", "sim GB/s",
                                 "host GB/s", "memcpy GB/s", "sim/host", "sim/memcpy",
                                 "pins/call", "DTLB miss/call", "STLB miss/call"], rows))

    rows = []
    for name in sorted(res.names("pvm/memcpy/pages/1x1/prefaulted/"),
                       key=lambda n: int(n.split("/")[-1])):
        size = int(name.split("/")[-1])
        tail = "1x1/prefaulted/%d" % size
        pages, mc = res.ns(name), res.ns("pvm/memcpy/copy/" + tail)
        sim, host = res.ns("pvm/sim/readv/" + tail), res.ns("pvm/host/readv/" + tail)
        n = size // 4096
        rows.append([size_name(size), fmt_time(mc), fmt_time(pages), fmt_ratio(ratio(mc, pages)),
                     fmt_time(sim), fmt_time((sim - pages) / n) if sim and pages else "-",
                     fmt_time(host), fmt_time((host - pages) / n) if host and pages else "-"])
    if rows:
        out.append("\n### The copies alone: memcpy in page-sized pieces (readv, 1x1, pre-faulted)\n")
        out.append(md_table(["size", "memcpy", "memcpy by page", "by page/memcpy", "sim/call",
                             "sim path/page", "host/call", "host path/page"], rows))
        out.append("\n\"memcpy by page\" makes one memcpy per 4 KiB source page, the copies "
                   "a kernel that moves one pinned page at a time makes, and nothing else. "
                   "\"by page/memcpy\" is the best sim/memcpy any such kernel could reach; "
                   "\"path/page\" is what the rest of the call costs per page (the call minus "
                   "the copies).")

    rows = []
    for op in ("readv", "writev"):
        for shape, size, sim, host, _, name in matrix_rows(res, op, "firsttouch"):
            pages = max(1, (size + 4095) // 4096)
            rows.append([op, size_name(size), fmt_time(sim / pages) if sim else "-",
                         fmt_time(host / pages) if host else "-", fmt_ratio(ratio(host, sim))])
    if rows:
        out.append("\n### First touch (writev into untouched memory; readv of the zero page), "
                   "cost per page\n")
        out.append(md_table(["op", "size", "sim/page", "host/page", "sim/host"], rows))

    rows = []
    for name in sorted(res.names("thp/sim/readv/"), key=lambda n: int(n.split("/")[-1])):
        size = int(name.split("/")[-1])
        tail = "1x1/prefaulted/%d" % size
        sim, host = res.ns(name), res.ns("thp/host/readv/" + tail)
        mc = res.ns("thp/memcpy/copy/" + tail)
        small = res.ns("pvm/sim/readv/" + tail)
        cnt = lambda key: ("%.0f" % res.counter(name, key)
                           if res.counter(name, key) is not None else "-")
        rows.append([size_name(size), fmt_time(sim), fmt_time(host), fmt_time(mc),
                     fmt_rate(size / sim * 1e9) if sim else "-",
                     fmt_rate(size / host * 1e9) if host else "-",
                     fmt_ratio(ratio(host, sim)), fmt_ratio(ratio(mc, sim)),
                     fmt_ratio(ratio(small, sim)), cnt("pins"), cnt("dtlb_misses"),
                     cnt("stlb_misses")])
    if rows:
        out.append("\n### process_vm_readv on THP (both regions 2 MiB aligned, MADV_HUGEPAGE, "
                   "PMD-mapped on both sides), 1x1, pre-faulted\n")
        out.append(md_table(["size", "sim/call", "host/call", "memcpy", "sim GB/s", "host GB/s",
                             "sim/host", "sim/memcpy", "sim THP vs 4 KiB", "pins/call",
                             "DTLB miss/call", "STLB miss/call"], rows))
        out.append("\nmemcpy here copies between two THP-backed buffers; \"sim THP vs 4 KiB\" is "
                   "the simulator's throughput on THP over its own on 4 KiB pages, same run.")

    rows = []
    for name in sorted(res.names("batch/sim/"), key=lambda n: (n.split("/")[2], int(n.split("/")[5]), int(n.split("/")[6]))):
        parts = name.split("/")
        op, size, batch = parts[2], int(parts[5]), int(parts[6])
        ref = res.ns("batch/sim/%s/1x1/prefaulted/%d/1024" % (op, size))
        sim = res.ns(name)
        rows.append([op, size_name(size), batch, fmt_time(sim), fmt_rate(size / sim * 1e9),
                     "%.0f" % (res.counter(name, "pins") or 0), fmt_ratio(ratio(ref, sim))])
    if rows:
        out.append("\n### Batch size (pages pinned per pin_user_pages_remote call; Linux: 1024)\n")
        out.append(md_table(["op", "size", "batch", "sim/call", "GB/s", "pins/call",
                             "throughput vs 1024"], rows))

    rows = []
    for name in sorted(res.names("scale_pages/sim/"), key=lambda n: int(n.split("/")[-1])):
        pages = int(name.split("/")[-1])
        host = res.ns("scale_pages/host/readv/1x1/%d" % pages)
        mc = res.ns("scale_pages/memcpy/copy/1x1/%d" % pages)
        sim = res.ns(name)
        rows.append([pages, size_name(pages * 4096), fmt_time(sim / pages),
                     fmt_time(host / pages) if host else "-",
                     fmt_time(mc / pages) if mc else "-",
                     fmt_time((sim - mc) / pages) if mc else "-",
                     fmt_time((host - mc) / pages) if mc and host else "-",
                     fmt_ratio(ratio(host, sim))])
    if rows:
        out.append("\n### Scaling with pages (readv 1x1, pre-faulted): cost per page\n")
        out.append(md_table(["pages", "size", "sim/page", "host/page", "memcpy/page",
                             "sim - memcpy", "host - memcpy", "sim/host"], rows))
        out.append("\nThe memcpy column moves the same bytes with no kernel around them: what "
                   "the cache hierarchy charges per page at that size. The difference columns "
                   "are the cost of the kernel path per page.")

    vrows = []
    for name in sorted(res.names("scale_vmas/sim/"), key=lambda n: int(n.split("/")[-1])):
        vrows.append((int(name.split("/")[-1]), res.ns(name)))
    if vrows:
        rows = [[v, fmt_time(t)] for v, t in vrows]
        fit = ""
        pts = [(math.log2(v), t) for v, t in vrows if v >= 10]
        if len(pts) >= 2:
            n = len(pts)
            mx = sum(p[0] for p in pts) / n
            my = sum(p[1] for p in pts) / n
            sxx = sum((p[0] - mx) ** 2 for p in pts)
            slope = sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx if sxx else 0
            fit = ("\nLeast-squares fit over 10..%d VMAs: %.1f ns per doubling of the VMA "
                   "count (on a base of %.0f ns per call)." % (vrows[-1][0], slope, my - slope * mx))
        out.append("\n### Scaling with the target's VMA count (readv of one page): cost per call\n")
        out.append(md_table(["VMAs", "sim/call"], rows) + fit)

    for name in res.names("memory/sim/"):
        r = res.get(name)
        parts = name.split("/")
        out.append("\n### Memory (%s MiB simulated, %s MiB touched)\n" % (parts[2], parts[3]))
        out.append(md_table(["figure", "value"], [
            ["struct page (host bytes per simulated 4 KiB frame)", "%.0f B" % r["struct_page_bytes"]],
            ["RSS a booted machine adds per frame", "%.1f B" % r["boot_bytes_per_frame"]],
            ["RSS of the process before the machine", "%.0f MiB" % r["base_rss_mib"]],
            ["RSS with the memory touched", "%.0f MiB" % r["touched_rss_mib"]],
            ["peak RSS (VmHWM%s)" % ("" if r.get("peak_was_reset") else ", not reset"), "%.0f MiB" % r["peak_rss_mib"]],
            ["peak RSS over the process's base", "%.0f MiB" % r["peak_over_base_mib"]],
            ["RSS after the machine is destroyed", "%.0f MiB" % r["after_destroy_mib"]],
        ]))

    # Targets.
    def tgt(label, value, want, ok):
        # ok None: a figure shown beside the targets, with no target of its own.
        targets.append([label, "-" if value is None else "%.2f" % value, want,
                        "n/a" if value is None else
                        ("" if ok is None else ("met" if ok else "MISSED"))])

    for size in (64 * KIB, MIB):
        sim = res.ns("pvm/sim/readv/1x1/prefaulted/%d" % size)
        host = res.ns("pvm/host/readv/1x1/prefaulted/%d" % size)
        mc = res.ns("pvm/memcpy/copy/1x1/prefaulted/%d" % size)
        r1, r2 = ratio(host, sim), ratio(mc, sim)
        tgt("readv %s pre-faulted: sim/host throughput" % size_name(size), r1, ">= 1.5",
            r1 is not None and r1 >= 1.5)
        tgt("readv %s pre-faulted: sim/memcpy throughput" % size_name(size), r2, ">= 0.5",
            r2 is not None and r2 >= 0.5)
        r3 = ratio(mc, res.ns("pvm/memcpy/pages/1x1/prefaulted/%d" % size))
        if r3 is not None:
            tgt("  (beside it: memcpy by 4 KiB page/memcpy, the copies alone)", r3, "-", None)
    for size in (8, 4 * KIB):
        sim = res.ns("pvm/sim/readv/1x1/prefaulted/%d" % size)
        host = res.ns("pvm/host/readv/1x1/prefaulted/%d" % size)
        r = ratio(sim, host)
        tgt("readv %s: sim time / host time per call" % size_name(size), r, "<= 0.5",
            r is not None and r <= 0.5)
    for op in ("readv", "writev"):
        size = 64 * MIB
        r = ratio(res.ns("pvm/host/%s/1x1/prefaulted/%d" % (op, size)),
                  res.ns("pvm/sim/%s/1x1/prefaulted/%d" % (op, size)))
        tgt("%s 64 MiB pre-faulted: sim/host throughput" % op, r, ">= 1.0", r is not None and r >= 1.0)
    for size in (64 * KIB, MIB, 64 * MIB):
        tail = "1x1/prefaulted/%d" % size
        sim = res.ns("thp/sim/readv/" + tail)
        if sim is None:
            continue
        r = ratio(res.ns("thp/host/readv/" + tail), sim)
        tgt("THP readv %s pre-faulted: sim/host throughput" % size_name(size), r,
            ">= 1.0" if size == 64 * MIB else "-",
            (r is not None and r >= 1.0) if size == 64 * MIB else None)
    for _, size, sim, host, _, _ in matrix_rows(res, "writev", "firsttouch"):
        r = ratio(host, sim)
        tgt("writev %s first touch: host/sim cost per page" % size_name(size), r, ">= 1.0",
            r is not None and r >= 1.0)
    if targets:
        out.insert(2, "\n### Targets\n\n" + md_table(["target", "measured", "wanted", ""], targets))

    if errors:
        out.append("\n### Errors\n")
        out.append(md_table(["benchmark", "error"], [[k, v] for k, v in sorted(errors.items())]))
    return "\n".join(out) + "\n"


def plot(res, outdir):
    import matplotlib
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"  # text as text: small SVG files
    matplotlib.rcParams["svg.hashsalt"] = "pvm_report"  # stable ids across runs
    import matplotlib.pyplot as plt

    files = []
    # 1. Throughput against size, sim / host / memcpy (1x1, pre-faulted).
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, op in zip(axes, ("readv", "writev")):
        for impl, label, style in (("sim", "simulator", "o-"), ("host", "host kernel", "s-"),
                                   ("memcpy", "memcpy", "^--")):
            pts = []
            for name in res.names("pvm/%s/" % impl):
                p = name.split("/")
                if len(p) == 6 and p[3] == "1x1" and p[4] == "prefaulted" and (
                        (p[2] == "copy" if impl == "memcpy" else p[2] == op)):
                    size = int(p[5])
                    pts.append((size, size / res.ns(name)))
            pts.sort()
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=label)
        if op == "readv":
            # The THP targets (thp/...): both regions PMD-mapped on both sides.
            for impl, label, style in (("sim", "simulator, THP", "o:"),
                                       ("host", "host kernel, THP", "s:")):
                pts = sorted((int(n.split("/")[-1]), int(n.split("/")[-1]) / res.ns(n))
                             for n in res.names("thp/%s/readv/1x1/prefaulted/" % impl))
                if pts:
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=label)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title("process_vm_%s (1x1, pre-faulted)" % op)
        ax.set_xlabel("bytes per call")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("GB/s (CPU time)")
    axes[0].legend(fontsize="small")
    fig.tight_layout()
    path = os.path.join(outdir, "pvm_throughput.svg")
    fig.savefig(path)
    files.append(path)
    plt.close(fig)

    # 2. Throughput against batch size.
    fig, ax = plt.subplots(figsize=(6, 4))
    series = {}
    for name in res.names("batch/sim/"):
        p = name.split("/")
        series.setdefault((p[2], int(p[5])), []).append((int(p[6]), int(p[5]) / res.ns(name)))
    for (op, size), pts in sorted(series.items()):
        pts.sort()
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label="%s %s" % (op, size_name(size)))
    ax.axvline(1024, color="gray", linestyle=":", label="Linux (1024)")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("pages per pin batch")
    ax.set_ylabel("GB/s (CPU time)")
    ax.set_title("Simulator: throughput against batch size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path = os.path.join(outdir, "pvm_batch.svg")
    fig.savefig(path)
    files.append(path)
    plt.close(fig)

    # 3. Scaling: per page against pages, per call against VMAs.
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for impl, style, label in (("sim", "o-", "simulator"), ("host", "s-", "host kernel"),
                               ("memcpy", "^--", "memcpy")):
        pts = sorted((int(n.split("/")[-1]), res.ns(n) / int(n.split("/")[-1]))
                     for n in res.names("scale_pages/%s/" % impl))
        if pts:
            axes[0].plot([p[0] for p in pts], [p[1] for p in pts], style, label=label)
    axes[0].set_xscale("log", base=2)
    axes[0].set_xlabel("pages per readv")
    axes[0].set_ylabel("ns per page")
    axes[0].set_title("Cost per page (flat = linear in pages)")
    axes[0].set_yscale("log")
    axes[0].grid(True, which="both", alpha=0.3)
    axes[0].legend()
    pts = sorted((int(n.split("/")[-1]), res.ns(n)) for n in res.names("scale_vmas/sim/"))
    if pts:
        axes[1].plot([p[0] for p in pts], [p[1] for p in pts], "o-", label="simulator")
    axes[1].set_xscale("log")
    axes[1].set_xlabel("VMAs in the target")
    axes[1].set_ylabel("ns per call (4 KiB readv)")
    axes[1].set_title("Cost per call (straight on log x = logarithmic)")
    axes[1].grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    path = os.path.join(outdir, "pvm_scaling.svg")
    fig.savefig(path)
    files.append(path)
    plt.close(fig)
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("json")
    ap.add_argument("--out", default=None)
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args()
    outdir = args.out or os.path.dirname(os.path.abspath(args.json))
    os.makedirs(outdir, exist_ok=True)
    ctx, runs, errors = load(args.json)
    res = Results(runs)
    report = build_report(ctx, res, errors)
    sys.stdout.write(report)
    with open(os.path.join(outdir, "report.md"), "w") as f:
        f.write(report)
    if not args.no_plot:
        try:
            files = plot(res, outdir)
            print("\nPlots: " + " ".join(files))
        except ImportError:
            print("\nNo plots: matplotlib is missing (apt-get install python3-matplotlib; "
                  "run with /usr/bin/python3)", file=sys.stderr)
    print("Report: " + os.path.join(outdir, "report.md"))
    # What the host cannot run ("unavailable: ...", bench/bench_main.h) is listed, not failed.
    return 1 if any(not e.startswith("unavailable: ") for e in errors.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
