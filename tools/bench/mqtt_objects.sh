#!/usr/bin/env bash
# What the per-object MQTT messages cost the broker: `serve --mqtt` on a real
# mosquitto segments one synthetic acquisition of dense frames (FRAMES frames
# of WIDTH x HEIGHT, every one drawing Poisson(DENSE) particles) with
# `--mqtt-objects on` (status/segmenter/object_id and .../metric per object)
# and `off`, alternating REPEAT times each so load on the machine hits both
# alike. Each run gets its own broker on a free loopback port, a subscriber
# on status/segmenter/# (so delivery costs too), a fresh serve, and the
# dashboard's segment payload (force: true, so every run segments again);
# the run ends at Done.
#
# usage: tools/bench/mqtt_objects.sh SEGFLOW OUT_DIR [CROPS_DIR]
#   SEGFLOW    the segflow executable
#   OUT_DIR    scratch folder: the acquisition, per-run logs, runs.txt
#   CROPS_DIR  optional folder of real object crops (*.jpg, e.g. the
#              santa-cruz-wharf crops of the shared data) pasted instead of
#              synthetic particles: they keep their size, so a 12 MP frame
#              holds about 500 (synthetic ones grow with the frame: ~170)
# environment: FRAMES (default 8), WIDTH x HEIGHT (default 4056 x 3040),
#              DENSE (default 1000), WORKERS (default 1), REPEAT (default 3)
#
# Per run: messages and bytes serve published (its mqtt_bridge_stopped
# line), messages the subscriber got, objects (TSV rows), job wall time
# (Started to Done as the subscriber saw them), mosquitto's CPU time and
# serve's (their threads' time from /proc, between Ready and Done), and
# the broker's $SYS counters at the end (over the broker's whole life:
# connects, Ready, Dead included). Then medians and the ratios on / off.
# Needs mosquitto and mosquitto-clients. About 2 minutes on 2 cores with the
# defaults.
set -euo pipefail

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
  sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
SEGFLOW="$(realpath "$1")"
OUT="$(realpath -m "$2")"
CROPS=()
[ $# -lt 3 ] || CROPS=(--crops "$3")
FRAMES="${FRAMES:-8}"
WIDTH="${WIDTH:-4056}"
HEIGHT="${HEIGHT:-3040}"
DENSE="${DENSE:-1000}"
WORKERS="${WORKERS:-1}"
REPEAT="${REPEAT:-3}"
MOSQUITTO="$(command -v mosquitto || echo /usr/sbin/mosquitto)"
if [ ! -x "$MOSQUITTO" ] || ! command -v mosquitto_sub > /dev/null; then
  echo "mosquitto and mosquitto-clients are needed (tools/setup.sh installs them)" >&2
  exit 2
fi
mkdir -p "$OUT"
PIDS=()
trap 'for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2> /dev/null; done; true' EXIT

acq="$("$SEGFLOW" synth --out "$OUT/data" --frames "$FRAMES" --width "$WIDTH" --height "$HEIGHT" \
  --dense "0:$FRAMES:$DENSE" --seed 3 "${CROPS[@]}" | sed -n 's/^acquisition: //p')"
acq="$(realpath "$acq")"
tsv="$OUT/data/objects/$(realpath --relative-to="$OUT/data/img" "$acq")/ecotaxa_$(basename "$acq").tsv"
# The dashboard's segment payload (sendSegment), with force ticked.
settings='{"force":true,"recursive":true,"ecotaxa":true,"keep":true,"process_id":1,"process_min_ESD":20}'
dataset='{"project_name":"bench","sample_id":"s","acquisition_id":"a","operator_name":"o"}'
payload='{"action":"segment","path":["'"$acq"'"],"settings":'"$settings"',"dataset":'"$dataset"'}'

# cpu_ns PID: CPU time of a live process's threads, in ns (schedstat: finer
# than the 10 ms ticks of utime + stime).
cpu_ns() {
  cat /proc/"$1"/task/*/schedstat | awk '{ ns += $1 } END { printf "%d", ns }'
}

# ms NS_BEFORE NS_AFTER: the difference in ms.
ms() {
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'
}

# wait_line SECONDS FILE REGEX
wait_line() {
  local end=$((SECONDS + $1))
  until grep -qE "$3" "$2" 2> /dev/null; do
    [ "$SECONDS" -lt "$end" ] || { echo "timed out waiting for /$3/ in $2" >&2; exit 1; }
    sleep 0.05
  done
}

# start_broker DIR: mosquitto on a free loopback port (random ones until one
# binds), $SYS every second; sets PORT and BROKER.
start_broker() {
  local tries
  for tries in $(seq 20); do
    PORT=$((20000 + RANDOM % 30000))
    printf '%s\n' "listener $PORT 127.0.0.1" "allow_anonymous true" "persistence false" \
      "sys_interval 1" "log_dest stderr" > "$1/mosquitto.conf"
    "$MOSQUITTO" -c "$1/mosquitto.conf" 2> "$1/mosquitto.log" &
    BROKER=$!
    PIDS+=("$BROKER")
    local _
    for _ in $(seq 50); do
      kill -0 "$BROKER" 2> /dev/null || break
      mosquitto_pub -h 127.0.0.1 -p "$PORT" -t bench/probe -m up 2> /dev/null && return 0
      sleep 0.1
    done
    kill -9 "$BROKER" 2> /dev/null || true
  done
  echo "mosquitto did not start on a free port (tries: $tries)" >&2
  exit 1
}

# run MODE N: one run with --mqtt-objects MODE; appends its row to runs.txt.
run() {
  local mode="$1" dir="$OUT/run-$2-$1"
  rm -rf "$dir"
  mkdir -p "$dir"
  start_broker "$dir"
  mosquitto_sub -h 127.0.0.1 -p "$PORT" -F '%U %t %p' -t 'status/segmenter/#' -t bench/ready \
    > "$dir/sub.txt" 2> /dev/null &
  local sub=$!
  PIDS+=("$sub")
  local tries=0
  until grep -q ' bench/ready ready$' "$dir/sub.txt"; do
    tries=$((tries + 1))
    [ "$tries" -le 100 ] || { echo "mosquitto_sub did not subscribe within 5 s" >&2; exit 1; }
    mosquitto_pub -h 127.0.0.1 -p "$PORT" -t bench/ready -m ready
    sleep 0.05
  done
  "$SEGFLOW" serve --listen 127.0.0.1:0 --state "$dir/state" --workers "$WORKERS" \
    --profile planktoscope --data "$OUT/data" --mqtt "127.0.0.1:$PORT" --mqtt-objects "$mode" \
    > "$dir/serve.out" 2> "$dir/serve.err" &
  local serve=$!
  PIDS+=("$serve")
  wait_line 60 "$dir/sub.txt" ' status/segmenter \{"status":"Ready"\}$'
  local b0 s0 b1 s1
  b0="$(cpu_ns "$BROKER")" s0="$(cpu_ns "$serve")"
  mosquitto_pub -h 127.0.0.1 -p "$PORT" -t segmenter/segment -m "$payload"
  wait_line 900 "$dir/sub.txt" ' status/segmenter \{"status":"(Done|An exception[^}]*)"\}$'
  b1="$(cpu_ns "$BROKER")" s1="$(cpu_ns "$serve")"
  grep -q ' status/segmenter {"status":"Done"}$' "$dir/sub.txt" \
    || { grep ' status/segmenter ' "$dir/sub.txt" | tail -1 >&2; exit 1; }
  kill -TERM "$serve"
  wait "$serve" || { echo "serve failed: see $dir/serve.err" >&2; exit 1; }
  sleep 2 # one more $SYS interval, after serve's Dead and disconnect
  mosquitto_sub -h 127.0.0.1 -p "$PORT" -v -W 3 -t '$SYS/broker/messages/received' \
    -t '$SYS/broker/messages/sent' -t '$SYS/broker/bytes/received' -t '$SYS/broker/bytes/sent' \
    > "$dir/sys.txt" 2> /dev/null || true
  kill "$sub" "$BROKER" 2> /dev/null || true
  wait "$sub" "$BROKER" 2> /dev/null || true

  local published bytes got objects wall sys
  published="$(sed -n 's/.*mqtt_bridge_stopped published=\([0-9]*\) .*/\1/p' "$dir/serve.err")"
  bytes="$(sed -n 's/.*mqtt_bridge_stopped .*bytes=\([0-9]*\).*/\1/p' "$dir/serve.err")"
  got="$(grep -c ' status/segmenter' "$dir/sub.txt")"
  objects=$(($(wc -l < "$tsv") - 2))
  wall="$(awk '$2 == "status/segmenter" && $3 == "{\"status\":\"Started\"}" { t0 = $1 }
    $2 == "status/segmenter" && $3 == "{\"status\":\"Done\"}" { t1 = $1 }
    END { printf "%.2f", t1 - t0 }' "$dir/sub.txt")"
  sys="$(awk '{ v[$1] = $2 } END { printf "%s %s %s %s", v["$SYS/broker/messages/received"],
    v["$SYS/broker/messages/sent"], v["$SYS/broker/bytes/received"], v["$SYS/broker/bytes/sent"] }' \
    "$dir/sys.txt")"
  echo "$mode $published $bytes $got $objects $wall $(ms "$b0" "$b1") $(ms "$s0" "$s1") $sys" \
    >> "$OUT/runs.txt"
}

# median MODE COLUMN (of runs.txt)
median() {
  awk -v m="$1" -v c="$2" '$1 == m { print $c }' "$OUT/runs.txt" | sort -g \
    | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f", a / b }'
}

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
started=$SECONDS
: > "$OUT/runs.txt"
for n in $(seq "$REPEAT"); do
  run on "$n"
  run off "$n"
done

columns=("messages published" "bytes published" "messages delivered" objects "job wall s"
  "broker CPU ms" "serve CPU ms" '$SYS msgs received' '$SYS msgs sent' '$SYS bytes received'
  '$SYS bytes sent')
echo "| --mqtt-objects | $(printf '%s | ' "${columns[@]}")"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
awk '{ line = "|"; for (i = 1; i <= NF; i++) line = line " " $i " |"; print line }' "$OUT/runs.txt"
echo
echo "| median | on | off | on / off |"
echo "|---|---|---|---|"
for c in 2 3 4 5 6 7 8 9 10 11 12; do
  on="$(median on "$c")" off="$(median off "$c")"
  echo "| ${columns[$((c - 2))]} | $on | $off | $(ratio "$on" "$off") |"
done
echo
echo "$FRAMES frames of ${WIDTH}x${HEIGHT}, Poisson($DENSE) particles each, $WORKERS worker(s),"
echo "median of $REPEAT alternating runs; $(nproc) cores; load average $load_before before,"
echo "$(cut -d' ' -f1-3 /proc/loadavg) after; $((SECONDS - started)) s of runs"
