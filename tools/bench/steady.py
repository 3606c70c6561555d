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
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import levers  # noqa: E402  (run_once, load_average, variant syntax)

FRAME_EXT = (".jpg", ".jpeg")


def sha1(path):
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def make_acquisition(src, dst, copies):
    """dst: src's frames `copies` times (copy k > 0 named <stem>-c<k><ext>)."""
    os.makedirs(dst)
    frames = sorted(n for n in os.listdir(src) if n.lower().endswith(FRAME_EXT))
    names = []
    for k in range(copies):
        for n in frames:
            stem, ext = os.path.splitext(n)
            name = n if k == 0 else f"{stem}-c{k}{ext}"
            try:  # a hard link where it can be: no copy of the pixels
                os.link(os.path.join(src, n), os.path.join(dst, name))
            except OSError:
                shutil.copyfile(os.path.join(src, n), os.path.join(dst, name))
            names.append(name)
    with open(os.path.join(src, "metadata.json")) as f:
        meta = json.load(f)
    if "acq_nb_frame" in meta:
        meta["acq_nb_frame"] = len(names)
    with open(os.path.join(dst, "metadata.json"), "w") as f:
        json.dump(meta, f, indent=4)
    with open(os.path.join(dst, "integrity.check"), "w") as f:
        f.write("# planktoscope integrity file, see https://www.planktoscope.org\n")
        f.write("# filename,size,sha1\n")
        for n in ["metadata.json"] + names:
            p = os.path.join(dst, n)
            f.write(f"{n},{os.path.getsize(p)},{sha1(p)}\n")
    return len(frames)


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
            # <root>/img/<date>/<sample>/<acquisition>, as segment expects.
            acqs[label] = os.path.join(scratch, "root", "img", "20000101", "steady", label)
            os.makedirs(os.path.dirname(acqs[label]), exist_ok=True)
            n = make_acquisition(src, acqs[label], copies)
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
