# Tiled frames (issue 17) give exactly the objects of untiled frames: a
# synthetic acquisition with particles on the seams of 1024, 1500 and 4096 px
# grids (synth --seam-grid: across corners, on seams, across three tiles,
# holes on seams, at the frame border, just short of a seam), segmented
# untiled and then tiled at each of those sizes with 1, 2 and 4 in-process
# workers and with serve's worker processes, gives the same TSV (every column
# but the run's identity and time), the same crops and the same zip, byte for
# byte. So do a tiled run stopped by SIGINT and run again, and a serve job
# whose worker process is killed (kill -9) while it holds a tile. Each tiled
# run must really have cut its frames (log line tiled_frames, and
# --summary-json's stage totals once they count tiles), the untiled one not.
#
# TILES_LONG=1: 16000x12000 frames (the issue's size) and every tile size
# with every worker count; about 10 minutes on 2 cores, by hand.
source "$(dirname "$0")/serve_lib.bash"

# Settings every run gets (the long frames are above pipeline.max_frame_pixels,
# which refuses frames unread, tiled or not).
ALL=()
if [ "${TILES_LONG:-0}" = 1 ]; then
  W=16000 H=12000 FRAMES=4 OBJECTS=40
  ALL=(--set pipeline.max_frame_pixels=300000000)
  RUNS=(1024:1 1024:2 1024:4 1500:1 1500:2 1500:4 4096:1 4096:2 4096:4)
else
  # Wider than 4096, so every size cuts the frame: 15, 8 and 2 tiles.
  W=4600 H=2400 FRAMES=8 OBJECTS=15
  RUNS=(1024:1 1024:2 1024:4 1500:2 1500:4 4096:1 4096:2)
fi
mkdir -p "$WORK/src"
synth_acquisition "$WORK/src" --frames "$FRAMES" --width "$W" --height "$H" \
  --objects "$OBJECTS" --seed 17 --seam-grid 1024x1024,1500x1500,4096x4096 > /dev/null
seam_objects="$(jq '[.frames[].objects[] | select(.seam)] | length' "$WORK/src/ground_truth.json")"
[ "$seam_objects" -ge $((FRAMES * 15)) ] || fail "synth put only $seam_objects objects on seams"
# Never tiled, whatever the frame size.
UNTILED=(--set tiling.max_frame_pixels=4000000000 --set pipeline.max_frame_pixels=300000000)

# fresh NAME: a copy of the acquisition under $WORK/NAME (outputs go beside
# it); prints its path.
fresh() {
  mkdir -p "$WORK/$1"
  cp -r "$WORK/src/img" "$WORK/$1/"
  find "$WORK/$1/img" -name metadata.json -printf '%h\n'
}

# tiles_of SIZE: tiles per frame at SIZExSIZE cores.
tiles_of() {
  local tw=$(($1 < W ? $1 : W)) th=$(($1 < H ? $1 : H))
  echo $(((W + tw - 1) / tw * ((H + th - 1) / th)))
}

# segment_run NAME ARGS...: segments a fresh copy with ARGS; log NAME.err,
# summary NAME.json.
segment_run() {
  local name="$1"
  shift
  local acq
  acq="$(fresh "$name")"
  "$SEGFLOW" segment --summary-json "$WORK/$name.json" "${ALL[@]}" "$@" "$acq" > "$WORK/$name.out" \
    2> "$WORK/$name.err" || fail "$name: segment failed (log: $(tail -3 "$WORK/$name.err"))"
}

# json_tiles JSON: the stage totals' tile count of the first job, empty if
# the summary does not count tiles.
json_tiles() {
  jq -r '.jobs[0].stages.tiles // empty' "$1"
}

# tiled NAME SIZE LOG [JSON]: the run NAME cut its frames into SIZE tiles.
tiled() {
  local want
  want="$(tiles_of "$2")"
  grep -q "tiled_frames job=[0-9]* size=${W}x$H .* tiles=$want in_flight=[0-9]*\$" "$3" \
    || fail "$1: not tiled into $want tiles (no tiled_frames line in its log)"
  if [ -n "${4:-}" ] && [ -n "$(json_tiles "$4")" ]; then
    awk -v n="$(json_tiles "$4")" 'BEGIN { exit !(n > 0) }' \
      || fail "$1: --summary-json counts no tile"
  fi
}

# zip_of ROOT: the EcoTaxa zip under ROOT/export.
zip_of() {
  find "$1/export" -name 'ecotaxa_*.zip' | head -1
}

# same_objects NAME: NAME's outputs equal the untiled run's: the TSV but for
# the run's identity and time, every crop under objects/, and the zip (entry
# names and order, every crop's bytes, its TSV likewise).
same_objects() {
  local a="$WORK/untiled" b="$WORK/$1"
  "$TOOLS/tsv_compare" "$(tsv_of "$a")" "$(tsv_of "$b")" --rel-tol 0 \
    --ignore process_datetime --ignore process_uuid --ignore process_id > /dev/null \
    || fail "$1: TSV differs from the untiled run"
  diff_outputs "$a/objects" "$b/objects" > /dev/null || fail "$1: crops differ from the untiled run"
  cmp -s "$(find "$a/objects" -name flat.jpg)" "$(find "$b/objects" -name flat.jpg)" \
    || fail "$1: the flat field (.segflow/flat.jpg) differs from the untiled run's"
  "$TOOLS/zip_list" "$(zip_of "$a")" | cut -f1 > "$WORK/$1.entries.want"
  "$TOOLS/zip_list" "$(zip_of "$b")" | cut -f1 > "$WORK/$1.entries"
  diff "$WORK/$1.entries.want" "$WORK/$1.entries" > /dev/null \
    || fail "$1: zip entries differ from the untiled run"
  rm -rf "$WORK/unzip-a" "$WORK/unzip-b"
  unzip -q "$(zip_of "$a")" -d "$WORK/unzip-a"
  unzip -q "$(zip_of "$b")" -d "$WORK/unzip-b"
  diff -r -x '*.tsv' "$WORK/unzip-a" "$WORK/unzip-b" > /dev/null \
    || fail "$1: zipped crops differ from the untiled run"
  "$TOOLS/tsv_compare" "$(find "$WORK/unzip-a" -name '*.tsv')" \
    "$(find "$WORK/unzip-b" -name '*.tsv')" --rel-tol 0 \
    --ignore process_datetime --ignore process_uuid --ignore process_id > /dev/null \
    || fail "$1: zipped TSV differs from the untiled run"
}

segment_run untiled --workers 2 "${UNTILED[@]}"
! grep -q tiled_frames "$WORK/untiled.err" || fail "the untiled run tiled its frames"
[ "$(json_tiles "$WORK/untiled.json")" = "" ] || [ "$(json_tiles "$WORK/untiled.json")" = 0 ] \
  || fail "the untiled run counts tiles"
objects="$(jq '.jobs[0].objects' "$WORK/untiled.json")"
[ "$objects" -ge $((FRAMES * 20)) ] || fail "untiled run: only $objects objects"
[ "$(find "$WORK/untiled/objects" -name '*.jpg' -not -path '*/.segflow/*' | wc -l)" \
  -eq "$objects" ] \
  || fail "untiled run: not one crop per object"

for run in "${RUNS[@]}"; do
  size="${run%:*}" workers="${run#*:}"
  name="t$size-w$workers"
  segment_run "$name" --workers "$workers" --tile-size "${size}x$size"
  tiled "$name" "$size" "$WORK/$name.err" "$WORK/$name.json"
  same_objects "$name"
  echo "$name: same objects as untiled ($(tiles_of "$size") tiles per frame)"
done

# Stopped by SIGINT once a few frames are committed, then run again.
acq="$(fresh resumed)"
records="$WORK/resumed/objects/$(realpath --relative-to="$WORK/resumed/img" "$acq")/.segflow/frames"
committed() { [ "$(ls "$records" 2> /dev/null | grep -c '\.jsonl$')" -ge 2 ]; }
"$SEGFLOW" segment --workers 1 --tile-size 1024x1024 "${ALL[@]}" "$acq" > "$WORK/resumed1.out" \
  2> "$WORK/resumed1.err" &
pid=$!
CHILDREN+=("$pid")
wait_for 120 committed || fail "resumed: no frame committed in time"
signal_and_wait INT "$pid"
[ "$rc" -eq 3 ] || fail "resumed: expected exit code 3 after SIGINT, got $rc"
n="$(ls "$records" | grep -c '\.jsonl$')"
[ "$n" -lt "$FRAMES" ] || fail "resumed: all $FRAMES frames committed before the stop"
! ls /dev/shm | grep -q "^segflow-$pid-" || fail "resumed: shared memory left after SIGINT"
tiled resumed 1024 "$WORK/resumed1.err"
"$SEGFLOW" segment --workers 2 --tile-size 1024x1024 "${ALL[@]}" "$acq" > "$WORK/resumed2.out" \
  2> "$WORK/resumed2.err" || fail "resumed: the second run failed"
tiled resumed 1024 "$WORK/resumed2.err"
same_objects resumed
echo "resumed: same objects as untiled (stopped after $n of $FRAMES frames)"

# serve with two worker processes and no worker of its own.
# log_count N PATTERN: serve's log has at least N lines matching PATTERN.
log_count() {
  [ "$(grep -c -- "$2" "$SERVE_LOG" || true)" -ge "$1" ]
}
start_serve --workers 0 --worker-processes 2
wait_for 30 log_count 2 worker_process_joined || fail "the two worker processes did not join"
CHILDREN+=($(sed -n 's/.*worker_process_started slot=[0-9]* pid=//p' "$SERVE_LOG"))
tile_set() {
  echo "${ALL[@]}" --set tiling.max_frame_pixels=0 --set "tiling.tile_width=$1" \
    --set "tiling.tile_height=$1"
}

ctl add "$(fresh serve)" $(tile_set 1500) > /dev/null
wait_for 120 state_in 1 done failed partial || fail "serve job 1 did not finish"
state_is 1 done || fail "serve job 1 ended $(field 1 state): $(field 1 error)"
grep "tiled_frames job=1 " "$SERVE_LOG" > "$WORK/serve-job1.log" || true
tiled serve 1500 "$WORK/serve-job1.log"
same_objects serve
echo "serve: same objects as untiled (worker processes, 1500 px tiles)"

# kill -9 of a worker process while it holds a tile: the tile is handed out
# again and the frame still commits whole. A worker maps a tiled frame
# read-only only to cut its tiles (the frame's read maps it writable).
cutting_tiles() {
  grep -qE '^[^ ]+ r--s .*/segflow-[^ ]*-tiled[0-9]+$' "/proc/$1/maps" 2> /dev/null
}
VICTIM="$(sed -n 's/.*worker_process_started slot=0 pid=//p' "$SERVE_LOG" | tail -1)"
ctl add "$(fresh killed)" $(tile_set 1024) > /dev/null
end=$((SECONDS + 60))
until cutting_tiles "$VICTIM"; do
  [ "$SECONDS" -lt "$end" ] || fail "serve job 2: worker $VICTIM never cut a tile"
  sleep 0.005
done
kill -9 "$VICTIM"
wait_for 30 grep -q "worker_lost job=2 " "$SERVE_LOG" \
  || fail "killed worker: nothing it held was handed out again"
grep -q "worker_lost job=2 frame=.* tile=[0-9][0-9]* action=requeue" "$SERVE_LOG" \
  || fail "killed worker did not hold a tile: $(grep -o 'worker_lost job=2 .*' "$SERVE_LOG")"
wait_for 30 log_count 3 'worker_process_started slot=' \
  || fail "serve did not restart the killed worker process"
CHILDREN+=($(sed -n 's/.*worker_process_started slot=[0-9]* pid=//p' "$SERVE_LOG"))
wait_for 120 state_in 2 done failed partial || fail "serve job 2 did not finish"
state_is 2 done || fail "serve job 2 ended $(field 2 state): $(field 2 error)"
[ "$(field 2 frames_failed)" -eq 0 ] || fail "serve job 2: frames failed: $(field 2 failures)"
same_objects killed
echo "killed: same objects as untiled ($(grep -o 'worker_lost job=2 [^"]*' "$SERVE_LOG" | head -1))"
stop_serve TERM
[ "$SERVE_RC" -eq 0 ] || fail "idle serve: exit $SERVE_RC on SIGTERM"
[ -z "$(ls /dev/shm | grep "^segflow-$SERVE_PID-" || true)" ] || fail "shm segments left"
echo "tiles_parity: ok"
