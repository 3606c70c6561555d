#!/usr/bin/env python3
"""Before/after of one performance lever, side by side in one run.

    levers.py [--repeat R] [--workers W ...] [--out FILE.md] ACQ \
        'NAME=[EXE] [segment arguments...]' 'NAME2=...'

Each variant is a segflow executable and the arguments that switch a lever
(e.g. `off=build/tools/segflow --set export.commit_frames=1` against
`on=build/tools/segflow`, or an older build against the new one). For every
repeat and worker count the variants run one right after the other, in
alternating order, as `EXE segment -q --force --summary-json F --workers W
[arguments] ACQ`; the table gives each variant's medians and the ratio of each
variant to the first, per repeat, then the median of those ratios. The load
average is printed before and after: only ratios measured in one run compare.

What is reported, per variant (from the summary JSON the run writes):
frames/s over the job (flat and export included), the flat's time, the
workers' decode and correct ms per frame (summed over the workers; with
correct while decoding the two are timed band by band), the exporter's commit ms per frame (with `--set log.level=debug`, split into
writing the files and making them durable, and the frames per group), the
process's minor page faults per frame and CPU seconds, its peak RSS.
"""

import argparse
import json
import math
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile

METRICS = [
    ("frames/s", "fps", True),
    ("job s", "job_s", False),
    ("flat ms", "flat_ms", False),
    ("decode ms/frame", "decode_ms_frame", False),
    ("correct ms/frame", "correct_ms_frame", False),
    ("commit ms/frame", "commit_ms_frame", False),
    ("of it writing", "write_ms_frame", False),
    ("of it syncing", "sync_ms_frame", False),
    ("frames/group", "frames_group", False),
    ("page faults/frame", "faults_frame", False),
    ("CPU s", "cpu_s", False),
    ("peak RSS MB", "rss_mb", False),
]


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def run_once(exe, extra, workers, acq, scratch):
    summary = os.path.join(scratch, "summary.json")
    if os.path.exists(summary):
        os.remove(summary)
    cmd = [exe, "segment", "-q", "--force", "--status-json", "--summary-json", summary,
           "--workers", str(workers)] + extra + [acq]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.exit(f"error: {' '.join(map(shlex.quote, cmd))} exited {proc.returncode}:\n"
                 f"{proc.stderr[-2000:]}")
    with open(summary) as f:
        s = json.load(f)
    job = s["jobs"][0]
    frames = max(1, job["frames_done"])
    stages = job["stages"]
    proc_info = s["process"]
    flat_ms = float("nan")
    for line in proc.stdout.splitlines():
        if '"flat_ready"' in line:
            flat_ms = json.loads(line).get("ms", flat_ms)
    # With log.level = debug a group commit logs where its time went.
    write_ms = sync_ms = 0.0
    groups = 0
    for m in re.finditer(r"commit_group frames=\d+ files=\d+ write_ms=([\d.]+) "
                         r"sync_ms=([\d.]+)", proc.stderr):
        write_ms += float(m.group(1))
        sync_ms += float(m.group(2))
        groups += 1
    return {
        "fps": frames / job["seconds"],
        "job_s": job["seconds"],
        "flat_ms": flat_ms,
        "write_ms_frame": write_ms / frames if groups else float("nan"),
        "sync_ms_frame": sync_ms / frames if groups else float("nan"),
        "frames_group": frames / groups if groups else float("nan"),
        "decode_ms_frame": stages["decode_ms"] / frames,
        "correct_ms_frame": stages["correct_ms"] / frames,
        "commit_ms_frame": stages["commit_ms"] / frames,
        "faults_frame": proc_info.get("minor_faults", float("nan")) / frames,
        "cpu_s": proc_info["cpu_s"],
        "rss_mb": proc_info["peak_rss_kb"] / 1024.0,
    }


def parse_variants(specs):
    """'NAME=EXE [arguments...]' each -> [(NAME, absolute EXE, [arguments])]."""
    variants = []
    for v in specs:
        name, _, rest = v.partition("=")
        words = shlex.split(rest)
        if not name or not words:
            sys.exit(f"error: variant '{v}' is not NAME=EXE [arguments...]")
        variants.append((name, os.path.abspath(words[0]), words[1:]))
    return variants


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, nargs="+", default=[2])
    ap.add_argument("--out", help="also write the Markdown table here")
    ap.add_argument("acq")
    ap.add_argument("variants", nargs="+", help="NAME=EXE [segment arguments...]")
    args = ap.parse_args()
    variants = parse_variants(args.variants)
    lines = [f"load average before: {load_average()}", ""]
    header = "| workers | variant | " + " | ".join(m[0] for m in METRICS) + " |"
    lines += [header, "|" + "---|" * (len(METRICS) + 2)]
    ratio_lines = []
    with tempfile.TemporaryDirectory(prefix="segflow-levers.") as scratch:
        for w in args.workers:
            samples = {name: [] for name, _, _ in variants}
            for r in range(args.repeat):
                order = variants if r % 2 == 0 else list(reversed(variants))
                for name, exe, extra in order:
                    samples[name].append(run_once(exe, extra, w, args.acq, scratch))
            base = variants[0][0]
            for name, _, _ in variants:
                med = [statistics.median(s[key] for s in samples[name]) for _, key, _ in METRICS]
                lines.append(f"| {w} | {name} | " + " | ".join(f"{x:.1f}" if abs(x) >= 10
                                                             else f"{x:.2f}" for x in med) + " |")
                if name == base:
                    continue
                ratios = []
                for label, key, _ in METRICS:
                    per = [b[key] / a[key] for a, b in zip(samples[base], samples[name])
                           if a[key] != 0 and not math.isnan(a[key]) and not math.isnan(b[key])]
                    ratios.append(f"{label} {statistics.median(per):.2f}" if per else
                                  f"{label} –")
                ratio_lines.append(f"- {w} worker(s), {name} / {base} (median of per-repeat "
                                   f"ratios): " + ", ".join(ratios))
            for name, _, _ in variants:
                ratio_lines.append(f"- {w} worker(s), {name} per repeat frames/s: "
                                   + ", ".join(f"{s['fps']:.2f}" for s in samples[name]))
    lines += [""] + ratio_lines + ["", f"load average after: {load_average()}"]
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
