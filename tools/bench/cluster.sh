#!/usr/bin/env bash
# Cluster bench (docs/CLUSTER.md, "Measured"): the frames/s of one job run
# by serve with local workers only, against serve with one worker of its
# own plus a worker host in a network namespace (the same total worker
# count), in bytes mode and in paths mode (`worker --data`), with the
# host's link unshaped and shaped by tc tbf (1 Gbit/s, 100 Mbit/s, both
# directions). Side by side in one run: each round runs every variant once,
# in an order rotated from round to round. Each job's time is serve's own
# (`job_finished ... s=`: flat, frames and export). Over mutual TLS, as in
# the cluster tests (tests/cli/netns_lib.bash). Needs root.
#
# usage: tools/bench/cluster.sh BUILD_DIR [ROUNDS] [FRAMES] [WIDTH] [HEIGHT]
# (defaults 3 rounds of 16 frames of 4056x3040)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "${1:?usage: tools/bench/cluster.sh BUILD_DIR [ROUNDS] [FRAMES] [WIDTH] [HEIGHT]}" && pwd)"
rounds="${2:-3}" frames="${3:-16}" width="${4:-4056}" height="${5:-3040}"
source "$here/serve_bench.bash"
source "$here/../../tests/cli/netns_lib.bash"

ACQ="$(synth_acquisition "$WORK/a" --frames "$frames" --width "$width" --height "$height" \
  --objects 30 --seed 81)"
frame_kb=$(( $(cat "$ACQ"/*.jpg | wc -c) / frames / 1024 ))

shape() { # RATE|none: the host's link, both directions
  for dev in "$SW:$tag-v2" "$HOST1:eth0"; do
    ip netns exec "${dev%%:*}" tc qdisc del dev "${dev#*:}" root 2> /dev/null || true
    [ "$1" = none ] || ip netns exec "${dev%%:*}" tc qdisc add dev "${dev#*:}" root \
      tbf rate "$1" burst 256kb latency 100ms
  done
}

# run_variant NAME: one job of ACQ (forced); sets job_s to serve's job
# seconds (not in a subshell: the processes it starts must stay known to
# the cleanup trap).
run_variant() {
  local name="$1" mode rate
  mode="${name%%@*}" rate="${name#*@}"
  [ "$rate" != "$name" ] || rate=none
  shape "$rate"
  if [ "$mode" = local ]; then
    start_coordinator --workers 2
  else
    start_coordinator --workers 1
    local data=()
    [ "$mode" = paths ] && data=(--data "$WORK/a")
    start_worker_host --workers 1 "${data[@]}"
  fi
  cctl add --force "$ACQ" > /dev/null
  cctl resume-queue > /dev/null
  await_first_job "$name" # a fresh serve state each time: the job is number 1
  [ "$mode" = local ] || { kill -TERM "$NODE1"; wait_exit "$NODE1" 30 "the worker host"; }
  kill -TERM "$SERVE_PID"
  wait_exit "$SERVE_PID" 60 "serve"
  rm -rf "$STATE"
}

variants=(local bytes paths bytes@1gbit paths@1gbit bytes@100mbit paths@100mbit)
run_rounds "$rounds" "${variants[@]}"
local_s="$(median_of local)"
echo "$frames frames of ${width}x${height} (${frame_kb} kB each), $rounds rounds, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| variant (2 workers in all) | job s (median) | frames/s | vs local |"
echo "|---|---|---|---|"
for v in "${variants[@]}"; do
  m="$(median_of "$v")"
  awk -v v="$v" -v m="$m" -v f="$frames" -v l="$local_s" -v all="${seconds[$v]}" \
    'BEGIN { printf "| %s | %.2f (%s) | %.2f | %.2f |\n", v, m, substr(all, 2), f / m, l / m }'
done
