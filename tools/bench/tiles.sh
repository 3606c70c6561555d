#!/usr/bin/env bash
# Tiled frames (issue 17) against untiled ones, side by side in one run:
#   1. frames/s on ~50 MP frames (8192x6144), untiled and tiled (4096 px
#      tiles, the default), with 1 and 2 workers; also 2048 px tiles;
#   2. pixel work of the tiled runs: tile_pixels / tiled_frame_pixels
#      (--summary-json's stage totals: the tiles' cores and halos over the
#      frames' pixels);
#   3. the tile stitcher's wait for tiles (stitch_wait) and the workers'
#      wait while the reader holds tiled frames back (held_back), against the
#      worker count (1, 2, 4);
#   4. peak memory with ~200 MP frames (16384x12288) and 2 workers, tiled and
#      untiled, and tiled with two frames in flight whatever their size
#      (tiling.frames_memory_mb = 0): segment's peak RSS (VmHWM: private memory plus the shared
#      pages it touched) and the peak of its /dev/shm segments, sampled,
#      apart for the flat field's phase (untiled: its stack of frames; tiled:
#      streamed) and the frames' (tiled: the frames in flight).
# Every measurement segments a fresh copy in OUT_DIR; nothing is written
# beside the inputs. Not a test: numbers only.
#
# usage: tools/bench/tiles.sh SEGFLOW OUT_DIR
#   SEGFLOW  the segflow executable
#   OUT_DIR  scratch folder (synthetic acquisitions, copies, logs, report.md)
# environment: FRAMES_50 (default 6), FRAMES_200 (default 3), REPEAT (rounds
#   of the frames/s variants, rotated; default 1), BIG (default 16384x12288),
#   MID (default 8192x6144), ONLY=memory (part 4 alone)
#
# On 2 quiet cores the defaults take about 4 minutes.
set -euo pipefail

if [ $# -lt 2 ]; then
  sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
SEGFLOW="$1"
OUT="$2"
FRAMES_50="${FRAMES_50:-6}"
FRAMES_200="${FRAMES_200:-3}"
REPEAT="${REPEAT:-1}"
BIG="${BIG:-16384x12288}"
MID="${MID:-8192x6144}"
mkdir -p "$OUT"
OUT="$(realpath "$OUT")"
REPORT="$OUT/report.md"
CHILD=""
trap '[ -z "$CHILD" ] || kill "$CHILD" 2> /dev/null || true' EXIT
# Never tiled, whatever the frame size (and not refused as too large).
UNTILED=(--set tiling.max_frame_pixels=4000000000 --set pipeline.max_frame_pixels=300000000)

# synth NAME WxH FRAMES: a synthetic acquisition in its own data root.
synth() {
  "$SEGFLOW" synth --out "$OUT/src-$1" --frames "$3" --width "${2%x*}" --height "${2#*x}" \
    --objects 40 --seed 5 > /dev/null
}

# run NAME SRC ARGS...: segments a fresh copy of SRC's acquisition with ARGS,
# sampling its shared-memory segments every 0.1 s; leaves NAME.json
# (--summary-json), NAME.err (log), NAME.out (summary) and
# NAME.shm ("flat_kb frames_kb": peaks before and after the log's flat_ready).
run() {
  local name="$1" src="$2"
  shift 2
  rm -rf "$OUT/run-$name"
  mkdir -p "$OUT/run-$name"
  cp -r "$OUT/src-$src/img" "$OUT/run-$name/"
  local acq
  acq="$(find "$OUT/run-$name/img" -name metadata.json -printf '%h\n')"
  sync
  "$SEGFLOW" segment --summary-json "$OUT/$name.json" "$@" "$acq" \
    > "$OUT/$name.out" 2> "$OUT/$name.err" &
  CHILD=$!
  local flat=0 frames=0 kb
  while kill -0 "$CHILD" 2> /dev/null; do
    kb=$( (du -sck /dev/shm/segflow-"$CHILD"-* 2> /dev/null || true) | awk 'END { print $1 + 0 }')
    if grep -qs ' flat_ready ' "$OUT/$name.err"; then
      [ "$kb" -gt "$frames" ] && frames=$kb
    else
      [ "$kb" -gt "$flat" ] && flat=$kb
    fi
    sleep 0.1
  done
  wait "$CHILD" || { echo "$name: segment failed:" >&2; tail -5 "$OUT/$name.err" >&2; exit 1; }
  CHILD=""
  echo "$flat $frames" > "$OUT/$name.shm"
  rm -rf "$OUT/run-$name"
  echo "  $name: $(jq -r '.jobs[0] | "\(.frames_done) frames, \(.objects) objects, \(.seconds | . * 10 | round / 10) s"' "$OUT/$name.json")" >&2
}

# stage NAME FIELD: a stage total of NAME's job (--summary-json), "n/a" if
# the summary lacks it.
stage() {
  jq -r --arg f "$2" '.jobs[0].stages[$f] // "n/a"' "$OUT/$1.json"
}

# ms NAME FIELD: stage NAME FIELD to 0.1.
ms() {
  stage "$1" "$2" | awk '$1 == "n/a" { print; next } { printf "%.1f\n", $1 }'
}

# pixel_work NAME: tile_pixels / tiled_frame_pixels.
pixel_work() {
  awk -v a="$(stage "$1" tile_pixels)" -v b="$(stage "$1" tiled_frame_pixels)" \
    'BEGIN { if (b + 0 > 0) printf "%.3f", a / b; else printf "n/a" }'
}

fps() {
  jq -r '.jobs[0] | (.frames_done / .seconds) | . * 1000 | round / 1000' "$OUT/$1.json"
}

echo "tiles: synthesising $FRAMES_50 frames of $MID and $FRAMES_200 of $BIG in $OUT" >&2
[ "${ONLY:-}" = memory ] || synth mid "$MID" "$FRAMES_50"
synth big "$BIG" "$FRAMES_200"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"

echo "tiles: frames/s on $MID ($REPEAT round(s), variants rotated)" >&2
variants=(untiled-w1 tiled-w1 untiled-w2 tiled-w2)
[ "${ONLY:-}" != memory ] || REPEAT=0
for ((round = 1; round <= REPEAT; ++round)); do
  for ((i = 0; i < ${#variants[@]}; ++i)); do
    v="${variants[$(((i + round - 1) % ${#variants[@]}))]}"
    w="${v##*-w}"
    if [ "${v%-w*}" = untiled ]; then
      run "$v-r$round" mid --workers "$w" "${UNTILED[@]}"
    else
      run "$v-r$round" mid --workers "$w" --set tiling.max_frame_pixels=0
    fi
  done
done
if [ "${ONLY:-}" != memory ]; then
  run tiled2048-w2 mid --workers 2 --tile-size 2048x2048
  run tiled-w4 mid --workers 4 --set tiling.max_frame_pixels=0
fi

echo "tiles: peak memory on $BIG, 2 workers" >&2
run big-untiled big --workers 2 "${UNTILED[@]}"
# pipeline.max_frame_pixels refuses bigger frames unread, tiled or not.
run big-tiled big --workers 2 --set tiling.max_frame_pixels=0 \
  --set pipeline.max_frame_pixels=300000000
run big-tiled-2inflight big --workers 2 --set tiling.max_frame_pixels=0 \
  --set pipeline.max_frame_pixels=300000000 --set tiling.frames_memory_mb=0
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

# median NAME-PREFIX: the median frames/s of the rounds of one variant.
median_fps() {
  for ((round = 1; round <= REPEAT; ++round)); do fps "$1-r$round"; done | sort -g \
    | awk '{ v[NR] = $1 } END { printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

{
  echo "load average before / after: $load_before / $load_after"
  echo
  if [ "${ONLY:-}" != memory ]; then
  echo "### Frames/s on $MID frames ($FRAMES_50 frames, flat field included, median of $REPEAT)"
  echo
  echo "| workers | untiled | tiled (4096) | tiled / untiled |"
  echo "|---|---|---|---|"
  for w in 1 2; do
    u="$(median_fps "untiled-w$w")" t="$(median_fps "tiled-w$w")"
    awk -v w="$w" -v u="$u" -v t="$t" 'BEGIN { printf "| %d | %.3f | %.3f | %.2fx |\n", w, u, t, t / u }'
  done
  echo
  echo "### Pixel work and the stitcher's waits on $MID frames"
  echo
  echo "| run | tiles | pixel work (tile / frame pixels) | tile_read ms | tile_segment ms | stitch ms | stitch_wait ms | held_back ms | frames/s |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for r in tiled-w1-r1 tiled-w2-r1 tiled-w4 tiled2048-w2; do
    echo "| $r | $(stage "$r" tiles) | $(pixel_work "$r") | $(ms "$r" tile_read_ms) | $(ms "$r" tile_segment_ms) | $(ms "$r" stitch_ms) | $(ms "$r" stitch_wait_ms) | $(ms "$r" held_back_ms) | $(fps "$r") |"
  done
  echo
  fi
  echo "### Peak memory on $BIG frames ($FRAMES_200 frames), 2 workers"
  echo
  echo "| run | peak RSS MB | /dev/shm peak, flat phase MB | /dev/shm peak, frames MB | frames/s |"
  echo "|---|---|---|---|---|"
  for r in big-untiled big-tiled big-tiled-2inflight; do
    read -r flat frames < "$OUT/$r.shm"
    echo "| $r | $(mb "$(jq '.process.peak_rss_kb' "$OUT/$r.json")") | $(mb "$flat") | $(mb "$frames") | $(fps "$r") |"
  done
} | tee "$REPORT"
