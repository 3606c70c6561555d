# segment reproduces the reference segmenter's EcoTaxa TSV on dev-a with the
# planktoscope profile (every column but process_datetime and process_uuid),
# and the zip holds every crop the TSV names, stored uncompressed.
source "$(dirname "$0")/lib.bash"

acq="$(copy_acquisition dev-a "$WORK/root")"
"$SEGFLOW" segment --profile planktoscope --set export.process_id=1 --workers 2 "$acq" \
  > "$WORK/out.txt" 2> "$WORK/log.txt" || fail "segment failed: $(cat "$WORK/out.txt")"
# The profile runs the flat recalculation heuristic; as in the reference
# (one flat in flats.json) it does not fire here.
[ "$(grep -c '"index"' "$SHARED/composed/dev-a/reference/flats.json")" -eq 1 ] \
  || fail "the reference of dev-a has more than one flat"
grep -q "flat_recalc_summary .* recalculations=0 " "$WORK/log.txt" \
  || fail "the flat recalculation fired or did not run: $(grep flat_recalc "$WORK/log.txt")"
[ -f "$acq/done.txt" ] || fail "no done.txt"
tsv="$(tsv_of "$WORK/root")"
[ -n "$tsv" ] || fail "no TSV written"
"$TOOLS/tsv_compare" "$tsv" "$SHARED/composed/dev-a/reference/ecotaxa_dev-a.tsv" \
  --ignore process_datetime --ignore process_uuid || fail "TSV differs from the reference"

zip="$WORK/root/export/ecotaxa/ecotaxa_dev-a.zip"
[ -f "$zip" ] || fail "no zip at $zip"
"$TOOLS/zip_list" "$zip" > "$WORK/entries.txt" || fail "zip does not open"
awk -F'\t' '$3 != 0 { exit 1 }' "$WORK/entries.txt" || fail "zip entries are compressed"
tail -1 "$WORK/entries.txt" | grep -q "^ecotaxa_dev-a.tsv" || fail "TSV is not the last entry"
col=$(head -1 "$tsv" | tr '\t' '\n' | grep -n '^img_file_name$' | cut -d: -f1)
tail -n +3 "$tsv" | cut -f"$col" | sort > "$WORK/names.txt"
cut -f1 "$WORK/entries.txt" | grep -v '\.tsv$' | sort > "$WORK/zipped.txt"
diff "$WORK/names.txt" "$WORK/zipped.txt" > /dev/null || fail "zip entries differ from img_file_name"
[ "$(wc -l < "$WORK/names.txt")" -eq 439 ] || fail "expected 439 objects"

echo "segment_parity: ok"
