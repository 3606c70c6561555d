#!/usr/bin/env bash
# How segflow's cost grows with the work: frame size (1, 4, 12, 48 MP, ~30
# objects per frame) and object density (10, 100, 1000 objects per 12 MP
# frame), each measured by `segflow bench` for 1..WORKERS_MAX workers.
#
# usage: tools/bench/scaling.sh SEGFLOW OUT_DIR [CROPS_DIR]
#   SEGFLOW    the segflow executable
#   OUT_DIR    scratch folder: synthetic acquisitions, then size.{md,json},
#              density.{md,json} and placed.md (objects asked vs placed)
#   CROPS_DIR  optional folder of real object crops (*.jpg, e.g. the
#              santa-cruz-wharf crops of the shared data) pasted instead of
#              synthetic particles. Synthetic particles grow with the frame
#              (equivalent diameter x sqrt(area / 0.77 MP)); real crops keep
#              their size, as plankton does.
# environment: FRAMES (default 12), REPEAT (default 1), WORKERS_MAX (default 2)
#
# On 2 cores the whole run takes about 4 minutes with REPEAT=1, 7 with REPEAT=3.
set -euo pipefail

if [ $# -lt 2 ]; then
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
SEGFLOW="$1"
OUT="$2"
CROPS="${3:-}"
FRAMES="${FRAMES:-12}"
REPEAT="${REPEAT:-1}"
WORKERS_MAX="${WORKERS_MAX:-2}"
mkdir -p "$OUT"

crop_args=()
[ -z "$CROPS" ] || crop_args=(--crops "$CROPS")

placed="$OUT/placed.md"
printf '| acquisition | objects asked (Poisson mean) | drawn per frame | placed per frame |\n|---|---|---|---|\n' \
  > "$placed"

# synth NAME WIDTH HEIGHT OBJECTS: makes the acquisition in its own data root
# (synth's ground_truth.json describes the last acquisition of a root) and
# prints its folder.
synth() {
  local root="$OUT/data/$1"
  local acq
  acq="$("$SEGFLOW" synth --out "$root" --frames "$FRAMES" --width "$2" --height "$3" \
    --objects "$4" --seed 11 "${crop_args[@]}" | sed -n 's/^acquisition: //p')"
  # Particles that find no free place (they may not touch) are dropped.
  local gt="$root/ground_truth.json"
  local drawn placed_n
  drawn="$(grep -o '"drawn": [0-9]*' "$gt" | awk '{ s += $2 } END { print s + 0 }')"
  placed_n="$(grep -o '"kind"' "$gt" | wc -l)"
  awk -v n="$(basename "$acq")" -v k="$4" -v d="$drawn" -v p="$placed_n" -v f="$FRAMES" \
    'BEGIN { printf "| %s | %d | %.1f | %.1f |\n", n, k, d / f, p / f }' >> "$placed"
  echo "$acq"
}

echo "scaling: synthesising acquisitions in $OUT/data" >&2
size=()
for wh in 1152x864 2304x1728 4056x3040 8112x6080; do
  size+=("$(synth "size-$wh" "${wh%x*}" "${wh#*x}" 30)")
done
density=()
for k in 10 100 1000; do
  density+=("$(synth "density-$k" 4056 3040 "$k")")
done

echo "scaling: frame size" >&2
"$SEGFLOW" bench --workers-max "$WORKERS_MAX" --repeat "$REPEAT" \
  --json "$OUT/size.json" --markdown "$OUT/size.md" "${size[@]}" > /dev/null
echo "scaling: object density" >&2
"$SEGFLOW" bench --workers-max "$WORKERS_MAX" --repeat "$REPEAT" \
  --json "$OUT/density.json" --markdown "$OUT/density.md" "${density[@]}" > /dev/null

echo "## Frame size"
cat "$OUT/size.md"
echo
echo "## Object density"
cat "$OUT/density.md"
echo
echo "## Objects asked vs placed"
cat "$placed"
