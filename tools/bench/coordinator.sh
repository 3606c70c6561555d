#!/usr/bin/env bash
# What one coordinator can feed (docs/CLUSTER.md, capacity model): serve on
# loopback with P worker processes that are fake workers
# (SEGFLOW_TEST_FAULT=skip@*: each frame is handed out, its bytes sent,
# and it is reported done with no objects, no kernel run), so the job's
# frames/s is the ceiling of serve's reader, messages and exporter (frame
# records; no crops). P = 1, 2, 4, 8, side by side in one run, rounds
# rotated; each job's time is serve's (`job_finished ... s=`, flat and
# export included).
#
# usage: tools/bench/coordinator.sh BUILD_DIR [ROUNDS] [FRAMES] [WIDTH] [HEIGHT]
# (defaults 2 rounds of 200 frames of 4056x3040)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "${1:?usage: tools/bench/coordinator.sh BUILD_DIR [ROUNDS] [FRAMES] [WIDTH] [HEIGHT]}" && pwd)"
rounds="${2:-2}" frames="${3:-200}" width="${4:-4056}" height="${5:-3040}"
source "$here/serve_bench.bash"

ACQ="$(synth_acquisition "$WORK/a" --frames "$frames" --width "$width" --height "$height" \
  --objects 30 --seed 82)"

# run_variant PROCESSES: sets job_s to serve's job seconds (not in a
# subshell: the processes it starts must stay known to the cleanup trap).
run_variant() {
  SEGFLOW_TEST_FAULT='skip@*' start_serve --workers 0 --worker-processes "$1"
  wait_for 60 bash -c "[ \$(grep -c worker_supervisor_joined '$SERVE_LOG') -ge $1 ]" \
    || fail "$1 worker processes did not join"
  ctl add --force "$ACQ" > /dev/null
  await_first_job "P=$1"
  stop_serve TERM
  rm -rf "$STATE"
}

variants=(1 2 4 8)
run_rounds "$rounds" "${variants[@]}"
echo "$frames frames of ${width}x${height}, fake workers, $rounds rounds, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| fake worker processes | job s, median (rounds) | frames/s | ms a frame |"
echo "|---|---|---|---|"
for v in "${variants[@]}"; do
  m="$(median_of "$v")"
  awk -v v="$v" -v m="$m" -v f="$frames" -v all="${seconds[$v]}" \
    'BEGIN { printf "| %s | %.2f (%s) | %.1f | %.2f |\n", v, m, substr(all, 2), f / m, 1000 * m / f }'
done
