#!/usr/bin/env bash
# Remakes docs/report.png, the README's picture of a report: a synthetic
# acquisition (segflow synth, with faulty files) segmented by segflow, its
# report made again by `segflow report` with a short mosaic, rendered by
# headless chromium, shrunk and reduced to 64 colours.
#   tools/report_screenshot.sh [SEGFLOW]   (default build/tools/segflow)
set -euo pipefail
cd "$(dirname "$0")/.."
segflow="$(realpath "${1:-build/tools/segflow}")"
out="docs/report.png"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
acq="$("$segflow" synth --out "$work" --frames 24 --width 1014 --height 760 --objects 14 \
  --seed 5 --bad | sed -n 's/^acquisition: //p')"
"$segflow" segment "$acq" > /dev/null 2>&1 || true # the faulty files fail their frames
# Two rows of the mosaic, so the picture reaches the plots.
report="$("$segflow" report --mosaic 22 "$acq" | sed -n 's/^report: //p')"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/profile" --hide-scrollbars --window-size=1100,1640 \
  --screenshot="$work/shot.png" "file://$report" > /dev/null 2>&1
convert "$work/shot.png" -resize 60% -colors 64 -strip "$out"
echo "$out: $(stat -c %s "$out") bytes"
