# An acquisition holding every kind of bad frame runs to completion: exactly
# the good frames' objects (equal to segmenting a copy without the bad files),
# each bad frame reported once with its reason in the log, the status stream,
# the summary and an error artifact, no done.txt, exit code 1. Some faults
# sort before the good frames, inside the flat-field window: they are
# replaced by the next good frames, which is why the flat (and so every
# object) equals the good-only run's.
source "$(dirname "$0")/lib.bash"

args=(--frames 14 --width 1014 --height 760 --objects 8 --seed 11 --bad)
acq="$(synth_acquisition "$WORK/a" "${args[@]}")"
good_frames=$(ls "$acq" | grep -c 'jpg$')

# synth's faults (ground_truth.json lists each "file" just before its "fault").
declare -A reason
while read -r name fault; do
  case "$fault" in
    truncated_jpeg) reason[$name]="Premature end of JPEG file" ;;
    zero_byte) reason[$name]="empty file (0 bytes)" ;;
    not_a_jpeg) reason[$name]="not a JPEG, PNG or TIFF image" ;;
    one_by_one) reason[$name]="size 1x1 differs" ;;
    different_size) reason[$name]="size 507x380 differs" ;;
    *) fail "unknown synth fault $fault" ;;
  esac
done < <(awk -F'"' '/"file":/ { f = $4 } /"fault":/ { print f, $4 }' "$WORK/a/ground_truth.json")
[ "${#reason[@]}" -eq 5 ] || fail "expected synth's 5 faults, found ${#reason[@]}"
good_frames=$((good_frames - 5))

# More faults, named to sort before every good frame (inside the flat window).
first="$(ls "$acq" | grep 'jpg$' | grep -v -e "$(printf '%s\n' "${!reason[@]}")" | head -1)"
cp "$acq/$first" "$acq/.hidden.jpg"
reason[.hidden.jpg]="starts with '.'"
# A header claiming 20000x20000 (4e8 pixels > pipeline.max_frame_pixels).
printf '\xff\xd8\xff\xc0\x00\x11\x08\x4e\x20\x4e\x20\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01\xff\xd9' \
  > "$acq/0000-oversize.jpg"
reason[0000-oversize.jpg]="20000x20000 exceeds pipeline.max_frame_pixels"
cp "$acq/$first" "$WORK/outside.jpg"
ln -s "$WORK/outside.jpg" "$acq/0001-link-out.jpg"
reason[0001-link-out.jpg]="symlink points outside the acquisition"
# A good frame with an end marker in the middle of its scan data.
cp "$acq/$first" "$acq/0002-corrupt.jpg"
size=$(stat -c %s "$acq/0002-corrupt.jpg")
printf '\xff\xd9' | dd of="$acq/0002-corrupt.jpg" bs=1 seek=$((size * 2 / 3)) conv=notrunc 2> /dev/null
reason[0002-corrupt.jpg]="truncated or corrupt JPEG"
if [ "$(id -u)" -ne 0 ]; then # root reads anything
  cp "$acq/$first" "$acq/0003-unreadable.jpg"
  chmod 000 "$acq/0003-unreadable.jpg"
  reason[0003-unreadable.jpg]="Permission denied"
fi

# The same acquisition without its bad files.
cp -a "$WORK/a" "$WORK/b"
clean="$WORK/b/${acq#"$WORK/a/"}"
for name in "${!reason[@]}"; do
  rm -f "$clean/$name"
done
[ "$(ls -A "$clean" | grep -c 'jpg$')" -eq "$good_frames" ] || fail "good-only copy is wrong"

# check_run NAME [SEGMENT OPTIONS...]: segments fresh copies of the bad and
# the good-only acquisition with those options and checks everything below.
check_run() {
  local out="$WORK/$1"
  shift
  local extra=("$@")
  mkdir -p "$out"
  cp -a "$WORK/a" "$out/a"
  cp -a "$WORK/b" "$out/b"
  local bad="$out/a/${acq#"$WORK/a/"}" good="$out/b/${acq#"$WORK/a/"}"
  set +e
  "$SEGFLOW" segment --workers 2 "${extra[@]}" --status-json "$bad" > "$out/status.jsonl" 2> "$out/err.txt"
  rc=$?
  set -e
  [ "$rc" -eq 1 ] || fail "expected exit code 1, got $rc: $(tail -20 "$out/err.txt")"
  "$SEGFLOW" segment --workers 2 "${extra[@]}" "$good" > "$out/clean.txt" 2>&1 \
    || fail "good-only run failed: $(tail -20 "$out/clean.txt")"

  [ ! -f "$bad/done.txt" ] || fail "done.txt written although frames failed"
  [ -f "$good/done.txt" ] || fail "good-only run wrote no done.txt"
  grep -q "flat_frame_replaced" "$out/err.txt" || fail "no flat-field replacement logged"

  local rel errors nbad rc why n stem name
  rel="${acq#"$WORK/a/img/"}"
  errors="$out/a/errors/$rel"
  nbad=${#reason[@]}
  [ "$(ls -A "$errors" | wc -l)" -eq "$nbad" ] || fail "expected $nbad error artifacts: $(ls "$errors")"
  [ "$(grep -c '"event":"frame_failed"' "$out/status.jsonl")" -eq "$nbad" ] \
    || fail "expected $nbad frame_failed events"
  [ "$(grep -c 'failed frame: ' "$out/err.txt")" -eq "$nbad" ] || fail "expected $nbad failures in the summary"
  [ "$(grep -c 'frame_failed job=' "$out/err.txt")" -eq "$nbad" ] || fail "expected $nbad failures logged"
  for name in "${!reason[@]}"; do
    why="${reason[$name]}"
    n=$(grep -cF "failed frame: $name: " "$out/err.txt" || true)
    [ "$n" -eq 1 ] || fail "$name: reported $n times in the summary"
    grep -F "failed frame: $name: " "$out/err.txt" | grep -qF "$why" \
      || fail "$name: summary lacks '$why': $(grep -F "failed frame: $name" "$out/err.txt")"
    grep -F "\"frame_name\":\"$name\"" "$out/status.jsonl" | grep '"frame_failed"' | grep -qF "$name" \
      || fail "$name: no frame_failed event"
    grep -F "frame_failed job=" "$out/err.txt" | grep -qF "frame=$name " || fail "$name: not logged"
    stem="${name%.*}"
    grep -qF "$why" "$errors/$stem.json" || fail "$name: artifact lacks '$why'"
  done
  # Partial, not done: the failed frames are not mistaken for a complete run.
  grep -q '"event":"job_finished".*"state":"partial"' "$out/status.jsonl" \
    || fail "job did not end partial: $(grep job_finished "$out/status.jsonl")"

  "$TOOLS/tsv_compare" "$(tsv_of "$out/a")" "$(tsv_of "$out/b")" --rel-tol 0 \
    --ignore process_datetime --ignore process_uuid --ignore process_id \
    || fail "objects differ from segmenting the good frames alone"
  diff_outputs "$out/a/objects" "$out/b/objects" \
    || fail "crops differ from segmenting the good frames alone"
}

check_run whole
# Tiled frames (4 tiles a frame, the flat streamed): a bad frame fails alone
# in the same words, whether its read into shared memory or a header fails.
check_run tiled --tile-size 600x400
grep -q "tiled_frames job=1" "$WORK/tiled/err.txt" || fail "tiled: the frames were not tiled"
echo "bad_frames: ok (${#reason[@]} bad frames, $good_frames good; whole and tiled)"
