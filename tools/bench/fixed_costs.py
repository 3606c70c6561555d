#!/usr/bin/env python3
"""Where a job's fixed costs go (issue 21, lever 5): the phases of one
`segflow segment` run, from the process's start to its exit.

    fixed_costs.py [--repeat R] [--workers W] [--force] SEGFLOW ACQ...

Each run segments a fresh scratch copy of ACQ (never ACQ itself), so it
measures a first run; --force runs twice on one copy and times the second
(--force removes the first run's outputs on the critical path). The phases,
from the status events' elapsed_s and the clock around the process:

    start      process start -> job_started (libraries, settings, preflight,
               journal, leases of the queue's start)
    to flat    job_started -> flat_ready (listing, output folder, leases,
               reading and decoding the flat's frames, the median)
    to frame 1 flat_ready -> the first frame_done
    frames     the first frame_done -> the last (the steady part)
    export     the last frame_done -> job_finished (TSV, zip, report, done.txt)
    exit       job_finished -> process exit (actor system shutdown)

Medians of R runs; the load average is printed before and after.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import levers  # noqa: E402  (scratch_acquisition, load_average)

PHASES = ["start", "to flat", "to frame 1", "frames", "export", "exit"]


def one_run(exe, acq, workers, force, state):
    cmd = [exe, "segment", "-q", "--status-json", "--workers", str(workers)]
    if force:
        cmd.append("--force")
    env = dict(os.environ, XDG_STATE_HOME=state)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd + [acq], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         env=env, text=True)
    seen = {}
    frames = []
    for line in p.stdout:
        now = time.monotonic() - t0
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        kind = ev.get("event")
        if kind == "job_started":
            seen["job_started"] = now
            seen["elapsed_origin"] = now
        elif kind == "flat_ready":
            seen["flat_ready"] = now
        elif kind == "frame_done":
            frames.append(now)
        elif kind == "job_finished":
            seen["job_finished"] = now
            seen["state"] = ev.get("state")
    rc = p.wait()
    end = time.monotonic() - t0
    if rc != 0 or seen.get("state") != "done" or not frames or "flat_ready" not in seen:
        sys.exit(f"error: {' '.join(cmd)} {acq}: exit {rc}, state {seen.get('state')}")
    return {
        "start": seen["job_started"],
        "to flat": seen["flat_ready"] - seen["job_started"],
        "to frame 1": frames[0] - seen["flat_ready"],
        "frames": frames[-1] - frames[0],
        "export": seen["job_finished"] - frames[-1],
        "exit": end - seen["job_finished"],
        "total": end,
        "frames_n": len(frames),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--force", action="store_true")
    ap.add_argument("segflow")
    ap.add_argument("acqs", nargs="+")
    a = ap.parse_args()
    print(f"load average before: {levers.load_average()}")
    header = "| acquisition | frames | " + " | ".join(PHASES) + " | total s | fixed share |"
    print(header)
    print("|" + "---|" * (len(PHASES) + 4))
    with tempfile.TemporaryDirectory(prefix="segflow-fixed.") as scratch:
        for src in a.acqs:
            runs = []
            for r in range(a.repeat):
                label = f"{os.path.basename(os.path.normpath(src))}-{r}"
                dst, _ = levers.scratch_acquisition(src, scratch, label)
                state = os.path.join(scratch, "state")
                if a.force:
                    one_run(a.segflow, dst, a.workers, False, state)
                runs.append(one_run(a.segflow, dst, a.workers, a.force, state))
            med = {k: statistics.median(r[k] for r in runs) for k in PHASES + ["total"]}
            fixed = (med["total"] - med["frames"]) / med["total"]
            cells = " | ".join(f"{med[k] * 1000:.0f} ms" for k in PHASES)
            print(f"| {os.path.basename(os.path.normpath(src))} | {runs[0]['frames_n']} | "
                  f"{cells} | {med['total']:.2f} | {fixed:.0%} |")
    print(f"load average after: {levers.load_average()}")


if __name__ == "__main__":
    main()
