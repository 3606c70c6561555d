# segment reproduces the reference's EcoTaxa TSV on dev-small (8 frames of
# 1014x760) with the planktoscope profile, one flat as well: the end-to-end
# parity check small enough for the arm64 step under qemu (tools/ci/arm64.sh),
# where dev-a's takes minutes. Correct while decoding (every frame, none
# from the flat's stack) gives the same TSV and the same crops, byte for byte;
# so do tiles of 300x200 (each frame cut into 4x4 tiles, the flat streamed):
# the reference's numbers through the tiled path.
source "$(dirname "$0")/lib.bash"

small="$(copy_acquisition dev-small "$WORK/small")"
"$SEGFLOW" segment --profile planktoscope --set export.process_id=1 --workers 2 "$small" \
  > "$WORK/out.txt" 2> "$WORK/log.txt" || fail "segment dev-small failed"
grep -q "flat_recalc_summary .* recalculations=0 " "$WORK/log.txt" \
  || fail "dev-small: the flat recalculation fired or did not run"
"$TOOLS/tsv_compare" "$(tsv_of "$WORK/small")" \
  "$SHARED/composed/dev-small/reference/ecotaxa_dev-small.tsv" \
  --ignore process_datetime --ignore process_uuid || fail "dev-small TSV differs from the reference"

banded="$(copy_acquisition dev-small "$WORK/banded")"
"$SEGFLOW" segment --profile planktoscope --set export.process_id=1 --workers 2 \
  --set pipeline.decode_band_rows=16 --set pipeline.decode_once=false "$banded" \
  > "$WORK/banded-out.txt" 2> "$WORK/banded-log.txt" || fail "segment dev-small in bands failed"
"$TOOLS/tsv_compare" "$(tsv_of "$WORK/banded")" \
  "$SHARED/composed/dev-small/reference/ecotaxa_dev-small.tsv" \
  --ignore process_datetime --ignore process_uuid || fail "dev-small TSV in bands differs"
crops() { (cd "$1/objects" && find . -name '*.jpg' -type f | sort | xargs md5sum); }
crops "$WORK/small" > "$WORK/crops.txt"
crops "$WORK/banded" > "$WORK/banded-crops.txt"
[ "$(wc -l < "$WORK/crops.txt")" -ge 70 ] || fail "dev-small: too few crops to compare"
diff "$WORK/crops.txt" "$WORK/banded-crops.txt" > /dev/null \
  || fail "dev-small: crops in bands differ from whole frames"

tiled="$(copy_acquisition dev-small "$WORK/tiled")"
"$SEGFLOW" segment --profile planktoscope --set export.process_id=1 --workers 2 -v \
  --tile-size 300x200 "$tiled" > "$WORK/tiled-out.txt" 2> "$WORK/tiled-log.txt" \
  || fail "segment dev-small in tiles failed"
grep -q "tiled_frames job=1 size=1014x760 tile=300x200 .* tiles=16" "$WORK/tiled-log.txt" \
  || fail "dev-small: the frames were not tiled 4x4"
grep -q "flat_started .* streamed=true" "$WORK/tiled-log.txt" \
  || fail "dev-small: the tiled acquisition's flat was not streamed"
"$TOOLS/tsv_compare" "$(tsv_of "$WORK/tiled")" \
  "$SHARED/composed/dev-small/reference/ecotaxa_dev-small.tsv" \
  --ignore process_datetime --ignore process_uuid || fail "dev-small TSV in tiles differs"
crops "$WORK/tiled" > "$WORK/tiled-crops.txt"
diff "$WORK/crops.txt" "$WORK/tiled-crops.txt" > /dev/null \
  || fail "dev-small: crops in tiles differ from whole frames"
echo "segment_parity_small: ok"
