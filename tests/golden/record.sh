#!/usr/bin/env bash
# Re-records the golden traces in this folder (tests/cli/trace_replay.sh
# replays them in ctest).
#
#   tests/golden/record.sh SEGFLOW [NAME...]     (default: every golden)
#
# NAME.synth holds the `segflow synth` arguments of each acquisition the
# golden runs, one line per acquisition, all synthesised into one data root.
# Recordings use the neutral data root /srv/segflow-golden (GOLDEN_ROOT to
# change it; it is wiped first), so no path of the recording machine lands
# in the repository: replay --root maps it to wherever the test synthesises
# the inputs again. Each new trace is replayed at once and only kept if it
# replays to the same messages; a recording whose timing went wrong (the
# kill of a worker process missed its frame, ...) is tried again.
set -euo pipefail
SEGFLOW="$(realpath "$1")"
shift
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="${GOLDEN_ROOT:-/srv/segflow-golden}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/segflow-golden.XXXXXX")"
SERVE_PID=""
cleanup() {
  [ -n "$SERVE_PID" ] && kill -9 "$SERVE_PID" 2> /dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
# segment's operations journal (its default state directory) goes to the
# scratch folder, not the recording user's.
export XDG_STATE_HOME="$TMP/state-home"

# wait_for SECONDS CMD...: polls CMD every 0.05 s until it succeeds; gives
# up at once when CMD returns 2.
wait_for() {
  local end=$((SECONDS + $1)) rc
  shift
  while :; do
    "$@" && return 0
    rc=$?
    [ "$rc" -ne 2 ] && [ "$SECONDS" -lt "$end" ] || return 1
    sleep 0.05
  done
}

# synth_inputs NAME: a fresh data root with NAME's acquisitions; sets ACQ.
synth_inputs() {
  rm -rf "$ROOT"
  ACQ=()
  while read -r line; do
    [ -n "$line" ] || continue
    # shellcheck disable=SC2086
    ACQ+=("$("$SEGFLOW" synth --out "$ROOT" $line | sed -n 's/^acquisition: //p')")
  done < "$HERE/$1.synth"
}

# start_serve ARGS...: serve on a free port with a fresh state directory;
# sets SERVE_PID and ADDR.
start_serve() {
  rm -rf "$TMP/state"
  "$SEGFLOW" serve --listen 127.0.0.1:0 --state "$TMP/state" "$@" \
    > "$TMP/serve.out" 2> "$TMP/serve.err" &
  SERVE_PID=$!
  wait_for 30 grep -qs '^listening: ' "$TMP/serve.out" || { cat "$TMP/serve.err"; exit 1; }
  ADDR="$(sed -n 's/^listening: //p' "$TMP/serve.out")"
}

stop_serve() {
  kill -INT "$SERVE_PID"
  wait "$SERVE_PID" || true
  SERVE_PID=""
}

ctl() {
  "$SEGFLOW" ctl --connect "$ADDR" --token "$TMP/state/token" "$@"
}

# A serve that died ends the wait at once (the attempt fails).
serve_alive() {
  kill -0 "$SERVE_PID" 2> /dev/null || { tail -5 "$TMP/serve.err" >&2; return 2; }
}

frames_done_at_least() { # ID N
  serve_alive || return 2
  local n
  n="$(ctl status "$1" --json 2> /dev/null | jq -r .frames_done)"
  [ "${n:-0}" -ge "$2" ]
}

frame_events_at_least() { # FILE N: --status-json output with N frames done
  local n
  n="$(grep -cs '"event":"frame_done"' "$1" || true)"
  [ "${n:-0}" -ge "$2" ]
}

all_done() {
  serve_alive || return 2
  [ "$(ctl list --json | jq '[.jobs[] | select(.state != "done")] | length')" -eq 0 ]
}

# -- one recorder per golden: records into $TMP/NAME.trace -------------------
# They run as an `if` condition, where errexit is off: each step checks.

record_clean() {
  "$SEGFLOW" segment -q --workers 2 --trace "$TMP/clean.trace" "${ACQ[0]}" > /dev/null \
    2> "$TMP/clean.err" || return 1
}

# Every frame tiled (400x300 frames in 128x128 cores: 12 tiles each), two
# workers: tile reads, tiles, their reports, the stitcher's merges and its
# (stitched) notices to the reader.
record_tiled() {
  "$SEGFLOW" segment -q --workers 2 --tile-size 128x128 --trace "$TMP/tiled.trace" \
    "${ACQ[0]}" > /dev/null 2> "$TMP/tiled.err" || return 1
}

# A run stopped (SIGINT) once 3 frames are done, one worker.
record_stop-at-3() {
  "$SEGFLOW" segment --status-json --workers 1 --trace "$TMP/stop-at-3.trace" "${ACQ[0]}" \
    > "$TMP/stop.json" 2> /dev/null &
  local pid=$!
  wait_for 120 frame_events_at_least "$TMP/stop.json" 3 || return 1
  kill -INT "$pid"
  wait "$pid" || true
}

# serve, three jobs queued at once; while job 1 runs (a frame in, many to
# go: far from its drain, where job 2 would be prepared), job 3 is moved
# before job 2.
record_serve-reorder() {
  start_serve --workers 1 --trace "$TMP/serve-reorder.trace" || return 1
  ctl add "${ACQ[@]}" > /dev/null || return 1
  wait_for 60 frames_done_at_least 1 1 || return 1
  ctl move 3 --to 1 > /dev/null || return 1
  wait_for 120 all_done || return 1
  stop_serve
  # Job 3 ran before job 2.
  local order
  order="$(grep -o 'job_started job=[0-9]*' "$TMP/serve.err" | cut -d= -f2 | paste -sd,)"
  [ "$order" = "1,3,2" ] || { echo "serve-reorder: jobs ran as $order" >&2; return 1; }
}

# A run interrupted after 3 frames, then a second run that resumes from the
# committed frames: the second run's trace is the golden.
record_resume() {
  "$SEGFLOW" segment --status-json --workers 1 "${ACQ[0]}" > "$TMP/first.json" 2> /dev/null &
  local pid=$!
  wait_for 120 frame_events_at_least "$TMP/first.json" 3 || return 1
  kill -INT "$pid"
  local rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 3 ] || { echo "resume: the first run was not interrupted (exit $rc)" >&2; return 1; }
  "$SEGFLOW" segment -q --workers 1 --trace "$TMP/resume.trace" "${ACQ[0]}" > /dev/null \
    2> "$TMP/resume.err" || return 1
}

# serve with two worker processes and no in-process worker; one worker
# process is killed (-9) mid-job, and the frame it held is requeued.
record_worker-loss() {
  start_serve --workers 0 --worker-processes 2 --trace "$TMP/worker-loss.trace" || return 1
  ctl add "${ACQ[0]}" > /dev/null || return 1
  wait_for 120 frames_done_at_least 1 2 || return 1
  kill -9 "$(pgrep -P "$SERVE_PID" | head -1)" || return 1
  wait_for 120 all_done || return 1
  stop_serve
  grep -q 'worker_lost job=1 frame=.* action=requeue' "$TMP/serve.err" \
    || { echo "worker-loss: the killed process held no frame" >&2; return 1; }
}

# serve with two worker processes, every frame tiled (2048x1536 frames in
# 256x256 cores: 48 tiles each); one worker process is killed (-9) while it
# holds a tile, and that tile is handed out again.
record_serve-tiled-loss() {
  start_serve --workers 0 --worker-processes 2 --set tiling.max_frame_pixels=0 \
    --set tiling.tile_width=256 --set tiling.tile_height=256 \
    --trace "$TMP/serve-tiled-loss.trace" || return 1
  ctl add "${ACQ[0]}" > /dev/null || return 1
  wait_for 120 frames_done_at_least 1 1 || return 1
  kill -9 "$(pgrep -P "$SERVE_PID" | head -1)" || return 1
  wait_for 120 all_done || return 1
  stop_serve
  grep -qE 'worker_lost job=1 frame=.* tile=[0-9]+ action=requeue' "$TMP/serve.err" \
    || { echo "serve-tiled-loss: the killed process held no tile" >&2; return 1; }
}

# The test fault hook holds the export (grep's 2 for a file not yet there
# would end the wait).
export_paused() { grep -qs "test_fault action=sleep" "$1" || return 1; }

# A segment run killed (-9) inside its export (the archive written, no
# done.txt yet: the test fault hook holds it there), then `ops recover`
# replays the export under the stuck operation's id: the recovery's trace is
# the golden.
record_export-recovered() {
  local state="$TMP/ops-state" log="$TMP/crash.log" pid id
  rm -rf "$state"
  SEGFLOW_TEST_FAULT="sleep=60@export:written" \
    "$SEGFLOW" segment --workers 1 --state "$state" "${ACQ[0]}" > "$log" 2>&1 &
  pid=$!
  if ! wait_for 120 export_paused "$log"; then
    kill -9 "$pid" 2> /dev/null
    return 1
  fi
  kill -9 "$pid"
  wait "$pid" || true
  id="$("$SEGFLOW" ops stuck --state "$state" --min-age 0 --json | jq -r '.[0].id')"
  [ -n "$id" ] && [ "$id" != null ] || { echo "export-recovered: nothing stuck" >&2; return 1; }
  "$SEGFLOW" ops recover "$id" --state "$state" --set pipeline.workers=1 \
    --trace "$TMP/export-recovered.trace" > /dev/null 2> "$TMP/recover.err" || return 1
  # Dumped to a file first: grep -q leaving the pipe early would fail the
  # dump with SIGPIPE under pipefail.
  "$SEGFLOW" trace dump "$TMP/export-recovered.trace" > "$TMP/export-recovered.dump"
  grep -q "note:operation.*\"$id\"" "$TMP/export-recovered.dump" \
    || { echo "export-recovered: the recovery ran under another id than $id" >&2; return 1; }
}

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in "$HERE"/*.synth; do
    names+=("$(basename "$f" .synth)")
  done
fi
for name in "${names[@]}"; do
  kept=0
  for attempt in 1 2 3 4 5; do
    synth_inputs "$name"
    if "record_$name" && "$SEGFLOW" replay "$TMP/$name.trace" > "$TMP/replay.txt" 2>&1; then
      mv "$TMP/$name.trace" "$HERE/$name.trace"
      echo "$name: recorded ($(tail -1 "$TMP/replay.txt"))"
      kept=1
      break
    fi
    echo "$name: attempt $attempt not kept: $(tail -1 "$TMP/replay.txt" 2> /dev/null)" >&2
  done
  [ "$kept" -eq 1 ] || { echo "$name: no recording kept" >&2; exit 1; }
done
