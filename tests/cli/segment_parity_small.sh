# segment reproduces the reference's EcoTaxa TSV on dev-small (8 frames of
# 1014x760) with the planktoscope profile, one flat as well: the end-to-end
# parity check small enough for the arm64 step under qemu (tools/ci/arm64.sh),
# where dev-a's takes minutes.
source "$(dirname "$0")/lib.bash"

small="$(copy_acquisition dev-small "$WORK/small")"
"$SEGFLOW" segment --profile planktoscope --set export.process_id=1 --workers 2 "$small" \
  > "$WORK/out.txt" 2> "$WORK/log.txt" || fail "segment dev-small failed"
grep -q "flat_recalc_summary .* recalculations=0 " "$WORK/log.txt" \
  || fail "dev-small: the flat recalculation fired or did not run"
"$TOOLS/tsv_compare" "$(tsv_of "$WORK/small")" \
  "$SHARED/composed/dev-small/reference/ecotaxa_dev-small.tsv" \
  --ignore process_datetime --ignore process_uuid || fail "dev-small TSV differs from the reference"
echo "segment_parity_small: ok"
