# A job whose frames did not all succeed ends `partial`, not `done`: in the
# status stream, the summary (text and --summary-json, failed frames listed),
# exit code 1 and no done.txt; its archive holds the good frames' objects and
# imports. Once the bad frames are fixed, a rerun keeps the committed frames,
# segments only the failed ones, ends done, writes done.txt and leaves no
# error artifact: the outputs equal those of a clean run.
source "$(dirname "$0")/lib.bash"

acq="$(synth_acquisition "$WORK/a" --frames 12 --width 640 --height 480 --objects 6 --seed 31)"
cp -a "$WORK/a" "$WORK/clean"
clean="$WORK/clean/${acq#"$WORK/a/"}"
"$SEGFLOW" segment --workers 2 "$clean" > "$WORK/clean.txt" 2>&1 || fail "clean run failed"
# The last two frames (outside the flat-field window) become unreadable.
mapfile -t bad < <(ls "$acq" | grep 'jpg$' | sort | tail -2)
for f in "${bad[@]}"; do
  mv "$acq/$f" "$WORK/$f.saved"
  printf 'not a jpeg' > "$acq/$f"
done

set +e
"$SEGFLOW" segment --workers 2 --status-json --summary-json "$WORK/s1.json" "$acq" \
  > "$WORK/status.jsonl" 2> "$WORK/err.txt"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "partial job: exit $rc, not 1: $(tail -5 "$WORK/err.txt")"
jq -e 'select(.event == "job_finished") | .state == "partial" and .frames_done == 10
  and .frames_total == 12' "$WORK/status.jsonl" > /dev/null \
  || fail "job_finished is not partial 10/12: $(grep job_finished "$WORK/status.jsonl")"
grep -qE ' 10/12 .* partial$' "$WORK/status.jsonl" "$WORK/err.txt" \
  || fail "the summary table does not say partial: $(cat "$WORK/err.txt")"
jq -e --arg a "${bad[0]}" --arg b "${bad[1]}" '.jobs[0] | .state == "partial"
  and .frames_failed == 2 and (.failures | length) == 2
  and (.failures[0] | startswith($a)) and (.failures[1] | startswith($b))' "$WORK/s1.json" \
  > /dev/null || fail "summary JSON: $(jq -c '.jobs[0] | {state, frames_failed, failures}' "$WORK/s1.json")"
[ ! -e "$acq/done.txt" ] || fail "done.txt written for a partial job"
zip="$(ls "$WORK/a/export/ecotaxa/"*.zip)" || fail "no archive for the good frames"
"$SEGFLOW" validate-ecotaxa "$zip" > /dev/null || fail "the partial archive would not import"
objects=$(jq '.jobs[0].objects' "$WORK/s1.json")
[ "$(($(wc -l < "$(tsv_of "$WORK/a")") - 2))" -eq "$objects" ] && [ "$objects" -gt 0 ] \
  || fail "the TSV does not hold the good frames' $objects objects"

# Fixed: the rerun redoes the two failed frames only.
for f in "${bad[@]}"; do
  mv "$WORK/$f.saved" "$acq/$f"
done
"$SEGFLOW" segment --workers 2 --status-json --summary-json "$WORK/s2.json" "$acq" \
  > "$WORK/status2.jsonl" 2> "$WORK/err2.txt" || fail "the rerun failed: $(tail -5 "$WORK/err2.txt")"
jq -e '.jobs[0] | .state == "done" and .frames_resumed == 10 and .frames_done == 12
  and .frames_failed == 0' "$WORK/s2.json" > /dev/null \
  || fail "rerun: $(jq -c '.jobs[0] | {state, frames_resumed, frames_done, frames_failed}' "$WORK/s2.json")"
[ "$(grep -c '"event":"frame_done"' "$WORK/status2.jsonl")" -eq 2 ] \
  || fail "the rerun segmented $(grep -c '"event":"frame_done"' "$WORK/status2.jsonl") frames, not 2"
[ -f "$acq/done.txt" ] || fail "no done.txt after the rerun"
[ -z "$(ls -A "$WORK/a/errors/${acq#"$WORK/a/img/"}" 2>/dev/null)" ] \
  || fail "error artifacts of the fixed frames remain: $(ls "$WORK/a/errors/${acq#"$WORK/a/img/"}")"
"$TOOLS/tsv_compare" "$(tsv_of "$WORK/a")" "$(tsv_of "$WORK/clean")" --rel-tol 0 \
  --ignore process_datetime --ignore process_uuid --ignore process_id \
  || fail "the rerun's objects differ from a clean run's"
diff_outputs "$WORK/a/objects" "$WORK/clean/objects" || fail "crops differ from a clean run's"
echo "segment_partial: ok"
