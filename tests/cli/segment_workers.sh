# Output does not depend on the number of workers: 1, 2 and 4 workers give the
# same TSV (but for the run's time and uuid) and byte-identical crops.
source "$(dirname "$0")/lib.bash"

for n in 1 2 4; do
  acq="$(copy_acquisition dev-small "$WORK/w$n")"
  "$SEGFLOW" segment --profile planktoscope --workers "$n" "$acq" > "$WORK/out$n.txt" \
    || fail "segment with $n workers failed"
done
for n in 2 4; do
  "$TOOLS/tsv_compare" "$(tsv_of "$WORK/w1")" "$(tsv_of "$WORK/w$n")" --rel-tol 0 \
    --ignore process_datetime --ignore process_uuid --ignore process_id \
    || fail "TSV with $n workers differs from 1 worker"
  diff_outputs "$WORK/w1/objects" "$WORK/w$n/objects" \
    || fail "crops with $n workers differ from 1 worker"
done
echo "segment_workers: ok"
