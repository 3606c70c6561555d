#!/usr/bin/env bash
# What segmentation.remove_previous_mask costs: frames/s of `segflow segment`
# on one synthetic acquisition without and with the option, side by side in
# one run (alternating, so load on the machine hits both alike), for 1 and 2
# workers. With the option a worker rebuilds the previous frame's threshold
# mask unless it segmented that frame itself: one extra decode + correction +
# threshold per frame with 2+ workers, almost nothing with 1.
#
# usage: tools/bench/previous_mask.sh SEGFLOW OUT_DIR
# environment: FRAMES (default 30), WIDTH x HEIGHT (default 4056 x 3040),
#              REPEAT (default 3; medians reported)
set -euo pipefail

if [ $# -ne 2 ]; then
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
SEGFLOW="$1"
OUT="$2"
FRAMES="${FRAMES:-30}"
WIDTH="${WIDTH:-4056}"
HEIGHT="${HEIGHT:-3040}"
REPEAT="${REPEAT:-3}"
mkdir -p "$OUT"

acq="$("$SEGFLOW" synth --out "$OUT/data" --frames "$FRAMES" --width "$WIDTH" --height "$HEIGHT" \
  --objects 20 --stuck 2 | sed -n 's/^acquisition: //p')"

# run WORKERS ARGS...: "<frames/s> <worker ms per frame>" of one forced run:
# frames/s over the job (flat field included), and the worker's time per
# frame summed over its stages (decode, correct, mask, label+features, crops;
# less sensitive to other load on the machine than frames/s).
run() {
  local workers="$1"
  shift
  "$SEGFLOW" segment -q --force --workers "$workers" --summary-json "$OUT/summary.json" "$@" \
    "$acq" > /dev/null 2>&1
  awk -F'[:,]' '/"frames_done"/ { f = $2 } /"seconds"/ { s = $2 }
    /"(decode|correct|mask|label_features|crops)_ms"/ { w += $2 }
    END { printf "%.2f %.1f\n", f / s, w / f }' "$OUT/summary.json"
}

# median FILE COLUMN
median() {
  awk -v c="$2" '{ print $c }' "$1" | sort -g \
    | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}

echo "| workers | frames/s without | frames/s with | with / without | worker ms/frame without | with | with / without |"
echo "|---|---|---|---|---|---|---|"
for workers in 1 2; do
  : > "$OUT/off.txt"
  : > "$OUT/on.txt"
  for _ in $(seq "$REPEAT"); do
    run "$workers" >> "$OUT/off.txt"
    run "$workers" --set segmentation.remove_previous_mask=true >> "$OUT/on.txt"
  done
  f0="$(median "$OUT/off.txt" 1)" f1="$(median "$OUT/on.txt" 1)"
  w0="$(median "$OUT/off.txt" 2)" w1="$(median "$OUT/on.txt" 2)"
  echo "| $workers | $f0 | $f1 | $(ratio "$f1" "$f0") | $w0 | $w1 | $(ratio "$w1" "$w0") |"
done
echo
echo "${FRAMES} frames of ${WIDTH}x${HEIGHT}, median of ${REPEAT}; $(nproc) cores"
