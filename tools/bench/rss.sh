#!/usr/bin/env bash
# Peak memory of every process of a serve with worker processes, on one
# acquisition: serve (queue, reader, exporter, flat field in shared memory)
# plus N `segflow worker` processes with one segment worker each.
#
# usage: tools/bench/rss.sh SEGFLOW ACQUISITION [N]
#   SEGFLOW      the segflow executable
#   ACQUISITION  an acquisition folder (segmented with --force: its outputs
#                are replaced)
#   N            worker processes (default 3)
#
# Prints one line per process (peak RSS in MB, from wait4 for the workers
# and VmHWM for serve) and their total. Shared pages (libraries, the flat
# field, the flat's frame stack) count in every process that touched them,
# so that total over-counts; the sampled peak of the summed PSS does not,
# but misses shared-memory pages no process maps at that moment, so the
# segments' own peak size is printed too.
set -euo pipefail

if [ $# -lt 2 ]; then
  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
SEGFLOW="$1"
ACQ="$2"
N="${3:-3}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/segflow-rss.XXXXXX")"
trap 'kill "$SERVE" 2> /dev/null && wait "$SERVE"; rm -rf "$WORK"' EXIT

"$SEGFLOW" serve --listen 127.0.0.1:0 --state "$WORK/state" --workers 0 \
  --worker-processes "$N" > "$WORK/out" 2> "$WORK/log" &
SERVE=$!
for _ in $(seq 300); do
  grep -qs '^listening: ' "$WORK/out" && break
  sleep 0.1
done
ADDR="$(sed -n 's/^listening: //p' "$WORK/out")"
[ -n "$ADDR" ] || { echo "serve did not start" >&2; cat "$WORK/log" >&2; exit 1; }
for _ in $(seq 300); do
  [ "$(grep -c worker_process_joined "$WORK/log" || true)" -ge "$N" ] && break
  sleep 0.1
done
PIDS="$SERVE $(sed -n 's/.*worker_process_started slot=[0-9]* pid=//p' "$WORK/log" | tr '\n' ' ')"
"$SEGFLOW" ctl --connect "$ADDR" --token "$WORK/state/token" add --force "$ACQ" > /dev/null
# Sampled every 0.1 s while the job runs: the sum of the processes'
# proportional set sizes (shared pages split between their users), which is
# what the machine really gives them.
PSS_PEAK=0
SHM_PEAK=0
until "$SEGFLOW" ctl --connect "$ADDR" --token "$WORK/state/token" status 1 --json | grep -q '"state":"\(done\|failed\)"'; do
  for _ in 1 2 3 4 5; do
    pss=0
    for p in $PIDS; do
      kb=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2> /dev/null || echo 0)
      pss=$((pss + ${kb:-0}))
    done
    [ "$pss" -gt "$PSS_PEAK" ] && PSS_PEAK=$pss
    shm=$( (du -sck /dev/shm/segflow-"$SERVE"-* 2> /dev/null || true) | awk 'END {print $1 + 0}')
    [ "$shm" -gt "$SHM_PEAK" ] && SHM_PEAK=$shm
    sleep 0.1
  done
done
"$SEGFLOW" ctl --connect "$ADDR" --token "$WORK/state/token" status 1 --json | sed 's/.*"frames_done":\([0-9]*\).*"frames_failed":\([0-9]*\).*/frames done \1, failed \2/'
kill -TERM "$SERVE"
wait "$SERVE" || true

awk '
  /worker_process_exited/ {
    for (i = 1; i <= NF; ++i) {
      if ($i ~ /^pid=/) pid = substr($i, 5)
      if ($i ~ /^peak_rss_mb=/) mb = substr($i, 13)
    }
    printf "worker pid %-8s %6d MB\n", pid, mb; total += mb
  }
  /serve_stopped/ {
    for (i = 1; i <= NF; ++i) if ($i ~ /^peak_rss_mb=/) mb = substr($i, 13)
    printf "serve            %6d MB\n", mb; total += mb
  }
  END { printf "total            %6d MB (sum of the peaks)\n", total }
' "$WORK/log"
echo "peak of the summed PSS, sampled: $((PSS_PEAK / 1024)) MB"
echo "peak of serve's shared-memory segments, sampled: $((SHM_PEAK / 1024)) MB (the flat's frame stack and the flat; pages no process maps at that moment are in no PSS)"
