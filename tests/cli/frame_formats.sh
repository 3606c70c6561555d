# PNG and TIFF frames (issue 17, item 2): dev-small's JPEG frames decoded and
# written losslessly as PNG, as LZW TIFF and as uncompressed TIFF (checked:
# OpenCV reads each back to the decoded pixels) segment to the JPEG
# acquisition's TSV (every column but the run's identity and time) and
# crops, byte for byte: whole frames, corrected in bands, and tiled (the
# flat streamed band by band from the PNG/TIFF readers). A truncated PNG
# and a truncated TIFF frame fail alone, named, in the file's own words.
source "$(dirname "$0")/lib.bash"

# as_format NAME EXT [COMPRESSION]: a copy of dev-small whose frames are EXT
# files; prints the acquisition path.
as_format() {
  local acq f
  acq="$(copy_acquisition dev-small "$WORK/$1")"
  chmod -R u+w "$WORK/$1"
  for f in "$acq"/*.jpg; do
    "$TOOLS/frame_convert" "$f" "${f%.jpg}.$2" ${3:+"$3"} || fail "$1: cannot convert $f"
    rm "$f"
  done
  [ "$(ls "$acq" | grep -c "\.$2\$")" -eq 12 ] || fail "$1: not 12 $2 frames"
  echo "$acq"
}

# run NAME ACQ ARGS...: segments ACQ; log NAME.err.
run() {
  local name="$1" acq="$2"
  shift 2
  "$SEGFLOW" segment --profile planktoscope --workers 2 -v "$@" "$acq" > "$WORK/$name.out" \
    2> "$WORK/$name.err" || fail "$name: segment failed: $(tail -5 "$WORK/$name.err")"
}

# crops ROOT: the md5 of every crop under ROOT/objects, by path.
crops() {
  (cd "$1/objects" && find . -name '*.jpg' -type f -not -path '*/.segflow/*' | sort | xargs md5sum)
}

# same_as_jpeg NAME ROOT: ROOT's outputs equal the JPEG run's of the same mode.
same_as_jpeg() {
  local want="$WORK/jpeg-$1" got="$2"
  "$TOOLS/tsv_compare" "$(tsv_of "$want")" "$(tsv_of "$got")" --rel-tol 0 \
    --ignore process_datetime --ignore process_uuid --ignore process_id > /dev/null \
    || fail "$got ($1): TSV differs from the JPEG frames'"
  crops "$want" > "$WORK/want.crops"
  crops "$got" > "$WORK/got.crops"
  [ "$(wc -l < "$WORK/want.crops")" -ge 70 ] || fail "$1: too few crops to compare"
  diff "$WORK/want.crops" "$WORK/got.crops" > /dev/null \
    || fail "$got ($1): crops differ from the JPEG frames'"
}

MODES=(whole bands tiled)
mode_args() {
  case "$1" in
    whole) ;;
    bands) echo --set pipeline.decode_band_rows=16 --set pipeline.decode_once=false ;;
    tiled) echo --tile-size 300x200 ;;
  esac
}

for mode in "${MODES[@]}"; do
  jpeg="$(copy_acquisition dev-small "$WORK/jpeg-$mode")"
  # shellcheck disable=SC2046  # mode_args gives words
  run "jpeg-$mode" "$jpeg" $(mode_args "$mode")
done
grep -q "tiled_frames job=1 size=1014x760 tile=300x200 .* tiles=16" "$WORK/jpeg-tiled.err" \
  || fail "the JPEG frames were not tiled 4x4"

for format in png:png tif-lzw:tif tiff-raw:tiff:1; do
  IFS=: read -r name ext compression <<< "$format"
  acq="$(as_format "$name" "$ext" "$compression")"
  for mode in "${MODES[@]}"; do
    rm -rf "$WORK/$name-$mode"
    mkdir -p "$WORK/$name-$mode"
    cp -r "$WORK/$name/img" "$WORK/$name-$mode/"
    # shellcheck disable=SC2046
    run "$name-$mode" "$WORK/$name-$mode/${acq#"$WORK/$name/"}" $(mode_args "$mode")
    same_as_jpeg "$mode" "$WORK/$name-$mode"
  done
  grep -q "tiled_frames job=1 size=1014x760 tile=300x200 .* tiles=16" "$WORK/$name-tiled.err" \
    || fail "$name: the frames were not tiled 4x4"
  grep -q "flat_started .* streamed=true" "$WORK/$name-tiled.err" \
    || fail "$name: the tiled acquisition's flat was not streamed"
  echo "$name: same TSV and crops as the JPEG frames (whole, in bands, tiled)"
done

# A truncated PNG and a truncated TIFF after the flat's window: each fails
# alone, named, with its reason; the other frames give the good run's objects.
for mode in whole tiled; do
  bad="$WORK/bad-$mode"
  rm -rf "$bad"
  mkdir -p "$bad"
  cp -r "$WORK/png/img" "$bad/"
  acq="$(find "$bad/img" -name metadata.json -printf '%h\n')"
  last="$(ls "$acq" | grep 'png$' | tail -1)"
  size=$(stat -c %s "$acq/$last")
  head -c $((size * 2 / 3)) "$acq/$last" > "$acq/2025-09-11_16-59-00-000000.png"
  cp "$WORK/tif-lzw/${acq#"$bad/"}/${last%.png}.tif" "$WORK/whole.tif"
  size=$(stat -c %s "$WORK/whole.tif")
  head -c $((size * 2 / 3)) "$WORK/whole.tif" > "$acq/2025-09-11_16-59-01-000000.tif"
  set +e
  # shellcheck disable=SC2046
  "$SEGFLOW" segment --profile planktoscope --workers 2 $(mode_args "$mode") "$acq" \
    > "$WORK/bad-$mode.out" 2> "$WORK/bad-$mode.err"
  rc=$?
  set -e
  [ "$rc" -eq 1 ] \
    || fail "bad-$mode: expected exit code 1, got $rc: $(tail -5 "$WORK/bad-$mode.err")"
  # The summary (stdout) lists each failed frame once, with its reason.
  summary="$WORK/bad-$mode.out"
  [ "$(grep -c 'failed frame: ' "$summary")" -eq 2 ] \
    || fail "bad-$mode: expected 2 failed frames: $(grep 'failed frame' "$summary")"
  grep -F "failed frame: 2025-09-11_16-59-00-000000.png: " "$summary" \
    | grep -qF "$acq/2025-09-11_16-59-00-000000.png: truncated or corrupt PNG: " \
    || fail "bad-$mode: the truncated PNG's reason: $(grep 'failed frame' "$summary")"
  grep -F "failed frame: 2025-09-11_16-59-01-000000.tif: " "$summary" \
    | grep -qF "$acq/2025-09-11_16-59-01-000000.tif: truncated or corrupt TIFF: " \
    || fail "bad-$mode: the truncated TIFF's reason: $(grep 'failed frame' "$summary")"
  ref="$WORK/png-$mode"
  [ "$mode" = whole ] || ref="$WORK/png-tiled"
  "$TOOLS/tsv_compare" "$(tsv_of "$ref")" "$(tsv_of "$bad")" --rel-tol 0 \
    --ignore process_datetime --ignore process_uuid --ignore process_id > /dev/null \
    || fail "bad-$mode: the good frames' objects differ"
  echo "bad-$mode: the truncated PNG and TIFF frames failed alone"
done
# A tiled frame is read band by band into shared memory: an interlaced PNG
# (decoded whole, its passes span the frame) fails alone, saying so, whether
# the worker meets it (after the flat's window) or the streamed flat does
# (first: it is replaced there, so the flat and objects change).
jpeg_src="$(find "$WORK/jpeg-whole/img" -name '*.jpg' | sort | tail -1)"
for name in 2025-09-11_16-59-02-000000.png 2025-09-11_16-50-00-000000.png; do
  inter="$WORK/interlaced-$name"
  rm -rf "$inter"
  mkdir -p "$inter"
  cp -r "$WORK/png/img" "$inter/"
  acq="$(find "$inter/img" -name metadata.json -printf '%h\n')"
  "$TOOLS/frame_convert" "$jpeg_src" "$acq/$name" interlaced || fail "cannot write an interlaced PNG"
  set +e
  "$SEGFLOW" segment --profile planktoscope --workers 2 --tile-size 300x200 "$acq" \
    > "$inter.out" 2> "$inter.err"
  rc=$?
  set -e
  [ "$rc" -eq 1 ] || fail "interlaced $name: expected exit code 1, got $rc: $(tail -5 "$inter.err")"
  [ "$(grep -c 'failed frame: ' "$inter.out")" -eq 1 ] \
    || fail "interlaced $name: expected 1 failed frame: $(grep 'failed frame' "$inter.out")"
  grep -F "failed frame: $name: " "$inter.out" \
    | grep -qF "interlaced PNG: a tiled frame is read in bands of rows and must not be interlaced" \
    || fail "interlaced $name: the reason: $(grep 'failed frame' "$inter.out")"
done
"$TOOLS/tsv_compare" "$(tsv_of "$WORK/png-tiled")" \
  "$(tsv_of "$WORK/interlaced-2025-09-11_16-59-02-000000.png")" --rel-tol 0 \
  --ignore process_datetime --ignore process_uuid --ignore process_id > /dev/null \
  || fail "interlaced: the other frames' objects differ"
grep -q flat_frame_replaced "$WORK/interlaced-2025-09-11_16-50-00-000000.png.err" \
  || fail "interlaced: the streamed flat did not replace the interlaced frame"
echo "interlaced: refused for a tiled run, alone, by the worker and by the streamed flat"
echo "frame_formats: ok"
