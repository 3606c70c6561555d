# The fake-worker hook of the benchmarks (SEGFLOW_TEST_FAULT=skip@*): every
# frame is reported done with no objects and no kernel run, so serve's
# reader and exporter can be measured alone (tools/bench/coordinator.sh);
# a frame name instead of * skips that frame only.
source "$(dirname "$0")/lib.bash"

args=(--frames 12 --width 800 --height 600 --objects 8 --seed 91)
A="$(synth_acquisition "$WORK/a" "${args[@]}")"
B="$(synth_acquisition "$WORK/b" "${args[@]}")"
C="$(synth_acquisition "$WORK/c" "${args[@]}")"
one="$(ls "$C" | grep -E '\.jpg$' | sort | sed -n 3p)"

SEGFLOW_TEST_FAULT='skip@*' "$SEGFLOW" segment --workers 2 --summary-json "$WORK/fake.json" "$A" \
  > /dev/null 2>&1 || fail "segment with fake workers failed"
"$SEGFLOW" segment --workers 2 --summary-json "$WORK/real.json" "$B" > /dev/null 2>&1 \
  || fail "segment failed"
SEGFLOW_TEST_FAULT="skip@$one" "$SEGFLOW" segment --workers 2 --summary-json "$WORK/one.json" "$C" \
  > /dev/null 2>&1 || fail "segment with one frame skipped failed"

jq -e '.jobs[0] | .state == "done" and .frames_done == 12 and .objects == 0
       and .stages.decode_ms == 0 and .stages.mask_ms == 0' "$WORK/fake.json" > /dev/null \
  || fail "fake workers: $(jq -c '.jobs[0] | {state, frames_done, objects, stages}' "$WORK/fake.json")"
real="$(jq '.jobs[0].objects' "$WORK/real.json")"
[ "$real" -gt 0 ] || fail "the real run found no objects"
one_objects="$(jq '.jobs[0].objects' "$WORK/one.json")"
frame_objects="$(objects_of "$WORK/b" | grep -c "_${one%.jpg}_[0-9]* " || true)"
[ "$frame_objects" -gt 0 ] || fail "frame $one has no objects in the real run"
[ "$one_objects" -eq $((real - frame_objects)) ] \
  || fail "one frame skipped: $one_objects objects, expected $real - $frame_objects"
echo "fake_workers: ok (real run $real objects; skipping $one dropped its $frame_objects)"
