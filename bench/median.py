#!/usr/bin/python3
"""bench/median.py: the median of several bench runs, as one table.

    bench/median.py var/bench/results/*-upload.json
    bench/median.py var/bench/results/*-download.json
    bench/median.py --last 3 var/bench/results/*.json     (the 3 newest of each bench)

Each bench run (bench/run.sh) leaves one JSON file per bench in
var/bench/results/.  A ratio's median is the median of the per-run ratios
(each run measured httpd and its reference side by side), not the ratio of
the medians.  Every run's figure is listed next to the median.
"""
import argparse
import json
import os
import statistics
import sys

def s3_side(d, k):
    """RGW's (radosgw + ceph-osd + ceph-mon) CPU-seconds per GiB moved."""
    r = d["results"][k]
    return r["cpu_seconds"]["s3"] / (r["bytes"] / 2**30)


UPLOAD = [
    # (label, unit, getter, goal text, goal test)
    ("upload MB/s, 1 in flight: httpd", "MB/s", lambda d: d["results"]["httpd_1"]["MBps"], "", None),
    ("upload MB/s, 1 in flight: S3 direct", "MB/s", lambda d: d["results"]["s3_1"]["MBps"], "", None),
    ("  ratio httpd / S3, 1 in flight", "", lambda d: d["ratio_1"], ">= 0.90", lambda v: v >= 0.90),
    ("upload MB/s, 4 in flight: httpd", "MB/s", lambda d: d["results"]["httpd_4"]["MBps"], "", None),
    ("upload MB/s, 4 in flight: S3 direct", "MB/s", lambda d: d["results"]["s3_4"]["MBps"], "", None),
    ("  ratio httpd / S3, 4 in flight", "", lambda d: d["ratio_4"], ">= 0.90", lambda v: v >= 0.90),
    ("httpd RSS growth, max of both", "MiB",
     lambda d: max(d["results"]["httpd_1"]["rss_growth_MiB"], d["results"]["httpd_4"]["rss_growth_MiB"]),
     "<= 4", lambda v: v <= 4),
    ("httpd CPU-s per GiB, 1 in flight", "s/GiB", lambda d: d["results"]["httpd_1"]["httpd_cpu_s_per_GiB"],
     "<= 0.6", lambda v: v <= 0.6),
    ("httpd CPU-s per GiB, 4 in flight", "s/GiB", lambda d: d["results"]["httpd_4"]["httpd_cpu_s_per_GiB"],
     "<= 0.6", lambda v: v <= 0.6),
    ("S3 side CPU-s per GiB (httpd, 1 in flight)", "s/GiB",
     lambda d: s3_side(d, "httpd_1"), "", None),
    ("S3 side CPU-s per GiB (direct, 1 in flight)", "s/GiB", lambda d: s3_side(d, "s3_1"), "", None),
]

DOWNLOAD = [
    ("download MB/s, 1 stream: httpd", "MB/s", lambda d: d["results"]["httpd_1"]["MBps"], "", None),
    ("download MB/s, 1 stream: S3 direct", "MB/s", lambda d: d["results"]["s3_1"]["MBps"], "", None),
    ("  ratio httpd / S3, 1 stream", "", lambda d: d["ratio_1"], ">= 0.95", lambda v: v >= 0.95),
    ("download MB/s, 8 streams: httpd", "MB/s", lambda d: d["results"]["httpd_8"]["MBps"], "", None),
    ("download MB/s, 8 streams: S3 direct", "MB/s", lambda d: d["results"]["s3_8"]["MBps"], "", None),
    ("  ratio httpd / S3, 8 streams", "", lambda d: d["ratio_8"], "", None),
    ("TTFB 1 MiB mid range: httpd", "ms", lambda d: d["ttfb_ms"]["httpd"], "", None),
    ("TTFB 1 MiB mid range: S3 direct", "ms", lambda d: d["ttfb_ms"]["s3"], "", None),
    ("  ratio httpd / S3", "", lambda d: d["ttfb_ratio"], "<= 1.5", lambda v: v <= 1.5),
    ("TTFB first 64 KiB: httpd", "ms", lambda d: d["ttfb_head_ms"]["httpd"], "", None),
    ("TTFB first 64 KiB: S3 direct", "ms", lambda d: d["ttfb_head_ms"]["s3"], "", None),
    ("httpd RSS growth, 8 parallel", "MiB", lambda d: d["results"]["httpd_8"]["rss_growth_MiB"],
     "<= 8", lambda v: v <= 8),
    ("httpd CPU-s per GiB, 1 stream", "s/GiB", lambda d: d["results"]["httpd_1"]["httpd_cpu_s_per_GiB"],
     "<= 0.4", lambda v: v <= 0.4),
    ("httpd CPU-s per GiB, 8 streams", "s/GiB", lambda d: d["results"]["httpd_8"]["httpd_cpu_s_per_GiB"],
     "<= 0.4", lambda v: v <= 0.4),
    ("S3 side CPU-s per GiB (httpd, 1 stream)", "s/GiB",
     lambda d: s3_side(d, "httpd_1"), "", None),
    ("S3 side CPU-s per GiB (direct, 1 stream)", "s/GiB", lambda d: s3_side(d, "s3_1"), "", None),
]


def fmt(v):
    return "%.3f" % v if abs(v) < 10 else "%.1f" % v


def table(bench, runs):
    rows = UPLOAD if bench == "upload" else DOWNLOAD
    print("bench/%s: median of %d runs (%s)" % (bench, len(runs),
                                                ", ".join(os.path.basename(p) for p, _ in runs)))
    out = [("figure", "median", "unit", "runs", "goal", "")]
    for label, unit, get, goal, test in rows:
        vals = [get(d) for _, d in runs]
        med = statistics.median(vals)
        out.append((label, fmt(med), unit, " ".join(fmt(v) for v in vals), goal,
                    ("met" if test(med) else "MISSED") if test else ""))
    w = [max(len(r[i]) for r in out) for i in range(6)]
    for i, r in enumerate(out):
        print("  ".join(c.ljust(w[j]) if j in (0, 2, 3, 5) else c.rjust(w[j]) for j, c in enumerate(r)).rstrip())
        if i == 0:
            print("  ".join("-" * x for x in w))
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--last", type=int, default=0, help="only the N newest runs of each bench")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    by = {}
    for p in sorted(a.files):
        with open(p, encoding="utf-8") as f:
            d = json.load(f)
        by.setdefault(d["bench"], []).append((p, d))
    if not by:
        sys.exit("median: no results")
    for bench in ("upload", "download"):
        if bench in by:
            runs = by[bench][-a.last:] if a.last else by[bench]
            table(bench, runs)


if __name__ == "__main__":
    main()
