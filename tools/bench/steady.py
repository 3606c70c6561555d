#!/usr/bin/env python3
"""Steady-state cost per frame, apart from a job's fixed cost (flat, start, end).

    steady.py [--copies K] [--repeat R] [--workers W ...] ACQ \
        'NAME=EXE [segment arguments...]' ...

A job's process totals (minor page faults, CPU, wall time) mix what every
frame costs with what the job costs once: the flat's stack (9 frames of
37 MB at 12 MP, each page mapped once), the workers' first buffers, the
process's start and the export. This runs each variant on a copy of ACQ and
on a copy K times as long (the same frames again under new names, an
integrity.check to match), both in a scratch data root, and reports the
difference per extra frame: (long - short) / (K·N - N). That is the steady
state; what is left of the short job's total is its fixed cost. Same output
as levers.py (one row per variant, ratios to the first), load average noted.
"""

import argparse
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import levers  # noqa: E402  (run_once, scratch_acquisition, variant syntax)

def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--copies", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, nargs="+", default=[2])
    ap.add_argument("acq")
    ap.add_argument("variants", nargs="+", help="NAME=EXE [segment arguments...]")
    args = ap.parse_args()
    if args.copies < 2:
        sys.exit("error: --copies must be at least 2")
    variants = levers.parse_variants(args.variants)
    src = os.path.abspath(args.acq)
    metrics = [("faults/frame", "faults"), ("CPU ms/frame", "cpu_ms"),
               ("frames/s", "fps"), ("fixed faults/job", "fixed_faults"),
               ("peak RSS MB (long job)", "rss_mb")]
    lines = [f"load average before: {levers.load_average()}", ""]
    with tempfile.TemporaryDirectory(prefix="segflow-steady.") as scratch:
        acqs = {}
        for label, copies in (("short", 1), ("long", args.copies)):
            acqs[label], n = levers.scratch_acquisition(src, scratch, label, copies)
        extra_frames = n * (args.copies - 1)
        lines += [f"{n} frames against {n * args.copies}", "",
                  "| workers | variant | " + " | ".join(m[0] for m in metrics) + " |",
                  "|" + "---|" * (len(metrics) + 2)]
        ratio_lines = []
        for w in args.workers:
            samples = {name: [] for name, _, _ in variants}
            for r in range(args.repeat):
                order = variants if r % 2 == 0 else list(reversed(variants))
                for name, exe, extra in order:
                    short = levers.run_once(exe, extra, w, acqs["short"], scratch)
                    long = levers.run_once(exe, extra, w, acqs["long"], scratch)
                    per = (long["faults_frame"] * n * args.copies
                           - short["faults_frame"] * n) / extra_frames
                    samples[name].append({
                        "faults": per,
                        "cpu_ms": (long["cpu_s"] - short["cpu_s"]) * 1000 / extra_frames,
                        "fps": extra_frames / (long["job_s"] - short["job_s"]),
                        "fixed_faults": short["faults_frame"] * n - per * n,
                        "rss_mb": long["rss_mb"],
                    })
            base = variants[0][0]
            for name, _, _ in variants:
                med = [statistics.median(s[key] for s in samples[name]) for _, key in metrics]
                lines.append(f"| {w} | {name} | " + " | ".join(f"{x:.0f}" if abs(x) >= 100
                                                             else f"{x:.2f}" for x in med) + " |")
                if name != base:
                    ratio_lines.append(
                        f"- {w} worker(s), {name} / {base} (median of per-repeat ratios): "
                        + ", ".join(
                            f"{label} {statistics.median(b[key] / a[key] for a, b in zip(samples[base], samples[name]) if a[key]):.2f}"
                            for label, key in metrics))
        lines += [""] + ratio_lines + ["", f"load average after: {levers.load_average()}"]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
