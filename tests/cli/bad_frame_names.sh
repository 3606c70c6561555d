# A frame whose names would break a rule fails alone, with that reason, and
# the other frames run (a long frame name used to fail the whole acquisition
# before any frame ran, blaming metadata.json):
# - a 240-character frame name (over the reader's 200 bytes);
# - a 200-character one whose object ids, with 40-character sample_id and
#   acq_id, exceed EcoTaxa's 250 characters ([text-length]);
# - with export.ecotaxa off, the same frame's crop file names exceed the
#   file system's 255 bytes (the commit used to fail the whole job).
# The other frames' objects equal those of the acquisition without the long
# frames, and the archive imports.
source "$(dirname "$0")/lib.bash"

long_ids() { # ACQ: sample_id and acq_id of 40 characters
  local m="$1/metadata.json"
  jq --arg s "sample-$(printf 's%.0s' $(seq 33))" --arg a "acq-$(printf 'a%.0s' $(seq 36))" \
    '.sample_id = $s | .acq_id = $a' "$m" > "$m.new"
  mv "$m.new" "$m"
}
name_of() { # LENGTH: a frame name of LENGTH characters sorting after every frame
  echo "z$(printf 'x%.0s' $(seq $(($1 - 5)))).jpg"
}

acq="$(synth_acquisition "$WORK/a" --frames 12 --width 640 --height 480 --objects 6 --seed 21)"
long_ids "$acq"
last="$(ls "$acq" | grep 'jpg$' | sort | tail -1)"
cp -a "$WORK/a" "$WORK/b"
clean="$WORK/b/${acq#"$WORK/a/"}"
# Both sort after every frame: outside the flat-field window, so the flat
# (and so every other object) is that of the acquisition without them.
too_long="$(name_of 240)"
ids_too_long="$(name_of 200)"
[ "${#too_long}" -eq 240 ] && [ "${#ids_too_long}" -eq 200 ] || fail "wrong name lengths"
cp "$acq/$last" "$acq/$too_long"
cp "$acq/$last" "$acq/$ids_too_long"

set +e
"$SEGFLOW" segment --workers 2 --status-json "$acq" > "$WORK/status.jsonl" 2> "$WORK/err.txt"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "expected exit code 1 (frames failed), got $rc: $(tail -20 "$WORK/err.txt")"
! grep -q "fix metadata.json" "$WORK/err.txt" || fail "the job was refused: $(grep metadata "$WORK/err.txt")"
"$SEGFLOW" segment --workers 2 "$clean" > "$WORK/clean.txt" 2>&1 \
  || fail "the run without the long frames failed: $(tail -20 "$WORK/clean.txt")"

rel="${acq#"$WORK/a/img/"}"
errors="$WORK/a/errors/$rel"
[ "$(ls -A "$errors" | wc -l)" -eq 2 ] || fail "expected 2 error artifacts: $(ls "$errors" 2>&1)"
declare -A reason=([$too_long]="longer than 200 bytes" [$ids_too_long]="[text-length]")
for name in "$too_long" "$ids_too_long"; do
  why="${reason[$name]}"
  grep -qF "$why" "$errors/${name%.jpg}.json" || fail "${name:0:20}…: $(cat "$errors/${name%.jpg}.json") artifact lacks '$why'"
  grep -F "failed frame: $name: " "$WORK/err.txt" | grep -qF "$why" \
    || fail "${name:0:20}…: the summary lacks '$why': $(grep 'failed frame' "$WORK/err.txt")"
  grep '"event":"frame_failed"' "$WORK/status.jsonl" | grep -qF "\"frame_name\":\"$name\"" \
    || fail "${name:0:20}…: no frame_failed event"
done
[ "$(grep -c '"event":"frame_done"' "$WORK/status.jsonl")" -eq 12 ] \
  || fail "expected the 12 other frames done: $(grep -c frame_done "$WORK/status.jsonl")"

"$TOOLS/tsv_compare" "$(tsv_of "$WORK/a")" "$(tsv_of "$WORK/b")" --rel-tol 0 \
  --ignore process_datetime --ignore process_uuid --ignore process_id \
  || fail "objects differ from segmenting the acquisition without the long frames"
diff_outputs "$WORK/a/objects" "$WORK/b/objects" \
  || fail "crops differ from segmenting the acquisition without the long frames"
"$SEGFLOW" validate-ecotaxa "$WORK/a/export/ecotaxa/"*.zip > "$WORK/v.txt" 2>&1 \
  || fail "the archive would not import: $(cat "$WORK/v.txt")"

# Export off: no EcoTaxa rule, but the crop names "<sample>_<acq>_<stem>_0.jpg"
# are 279 bytes.
acq2="$(synth_acquisition "$WORK/c" --frames 12 --width 640 --height 480 --objects 6 --seed 21)"
long_ids "$acq2"
cp "$acq2/$last" "$acq2/$ids_too_long"
set +e
"$SEGFLOW" segment --workers 2 --set export.ecotaxa=false "$acq2" > "$WORK/c.txt" 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "expected exit code 1 with export off, got $rc: $(tail -20 "$WORK/c.txt")"
grep -F "failed frame: $ids_too_long: " "$WORK/c.txt" | grep -qF "file systems allow 255" \
  || fail "the summary lacks the file-name reason: $(grep -e failed -e error "$WORK/c.txt" | head)"
[ "$(ls "$WORK/c/objects/${acq2#"$WORK/c/img/"}" | grep -c 'jpg$')" -gt 0 ] \
  || fail "the other frames' crops are missing"
echo "bad_frame_names: ok"
