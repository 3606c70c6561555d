# The memory preflight refuses a run that cannot fit, with the numbers and
# the fix, before anything starts (exit code 2); --force-run starts anyway.
# The frame is a JPEG header claiming 60000x60000 pixels (10.8 GB decoded):
# the estimate comes from the header, nothing that size is ever allocated.
source "$(dirname "$0")/lib.bash"

acq="$(synth_acquisition "$WORK/a" --frames 1 --width 200 --height 150 --objects 1)"
rm "$acq"/*.jpg
printf '\xff\xd8\xff\xc0\x00\x11\x08\xea\x60\xea\x60\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01\xff\xd9' \
  > "$acq/2024-01-01_00-00-00-000000.jpg"
# Untiled, one worker needs 6 + 2 frames of 10.8 GB = 86.4 GB; use enough
# workers to exceed this machine's available memory whatever it is.
avail_kb=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
workers=$((avail_kb * 1024 / 64800000000 + 1))
[ "$workers" -le 256 ] || fail "this machine has too much memory for this test"
big=(--set pipeline.max_frame_pixels=4000000000 --set tiling.max_frame_pixels=4000000000
  --workers "$workers")

set +e
"$SEGFLOW" segment "${big[@]}" "$acq" > "$WORK/out.txt" 2> "$WORK/err.txt"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "expected exit code 2, got $rc: $(cat "$WORK/err.txt")"
grep -q "not enough memory" "$WORK/err.txt" || fail "no memory refusal: $(cat "$WORK/err.txt")"
grep -q "60000x60000" "$WORK/err.txt" || fail "the refusal does not give the frame size"
grep -q "GiB" "$WORK/err.txt" || fail "the refusal does not give the numbers"
grep -q -- "--force-run" "$WORK/err.txt" || fail "the refusal does not name --force-run"
[ ! -d "$WORK/a/objects" ] || fail "the run started although refused"

set +e
"$SEGFLOW" segment "${big[@]}" --force-run "$acq" > "$WORK/forced.txt" 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "forced run: expected exit code 1 (the frame has no image), got $rc"
grep -q "preflight_overridden" "$WORK/forced.txt" || fail "the override is not logged"
grep -q "no frame of the acquisition is a usable JPEG" "$WORK/forced.txt" \
  || fail "the forced run did not reach the frame: $(tail "$WORK/forced.txt")"
# Tiled, the estimate counts the frames in flight that tiling.frames_memory_mb
# allows: one 10.8 GB frame at the default 1024 MB, two without the bound.
for case in "1024 1" "0 2"; do
  read -r memory_mb in_flight <<< "$case"
  set +e
  "$SEGFLOW" segment --set pipeline.max_frame_pixels=4000000000 --workers 1 --force-run \
    --set tiling.frames_memory_mb="$memory_mb" "$acq" > "$WORK/tiled-$memory_mb.txt" 2>&1
  set -e
  grep -q "($in_flight tiled frame(s) in flight and the flat, 60000x60000x3 bytes each)" \
    "$WORK/tiled-$memory_mb.txt" \
    || fail "frames_memory_mb=$memory_mb: the estimate is not for $in_flight frame(s) in flight: $(grep preflight "$WORK/tiled-$memory_mb.txt")"
done
echo "bad_preflight: ok"
