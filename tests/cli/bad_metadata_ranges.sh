# Inputs that used to pass too easily: an implausible process_pixel or
# acq_camera_resolution fails its acquisition naming the key (1e308 gave
# exit 0 and inf in the TSV); validate-ecotaxa rejects inf, -inf and nan in
# [f] columns; a job with 0 objects says so and writes a valid archive of
# the TSV's header rows (it used to write no archive, silently).
source "$(dirname "$0")/lib.bash"

# with_metadata DIR JQ: an acquisition copy of $base under DIR whose
# metadata.json is passed through the jq filter; prints its path.
base="$(synth_acquisition "$WORK/base" --frames 2 --width 640 --height 480 --objects 3 --seed 4)"
n=0
with_metadata() {
  n=$((n + 1))
  local dest="$WORK/m$n/img/d/s/acq$n"
  mkdir -p "$dest"
  cp "$base"/*.jpg "$dest/"
  jq "$1" "$base/metadata.json" > "$dest/metadata.json"
  echo "$dest"
}

# refused KEY JQ: segment fails the acquisition (exit 1) naming KEY, no archive.
refused() {
  local acq
  acq="$(with_metadata "$2")"
  set +e
  "$SEGFLOW" segment "$acq" > "$WORK/out.txt" 2> "$WORK/err.txt"
  local rc=$?
  set -e
  [ "$rc" -eq 1 ] || fail "$2: expected exit code 1, got $rc"
  grep -q "$1" "$WORK/err.txt" || fail "$2: the error does not name $1: $(cat "$WORK/err.txt")"
  grep -q "plausible" "$WORK/err.txt" || fail "$2: the error does not say why"
  [ -z "$(find "$(dirname "$(dirname "$(dirname "$(dirname "$acq")")")")" -name '*.zip')" ] \
    || fail "$2: an archive was written"
}
refused process_pixel '.process_pixel = 1e308'
refused process_pixel '.process_pixel = 1e-300'
refused process_pixel '.process_pixel = "5000"'
refused acq_camera_resolution '.acq_camera_resolution = "0x3040"'
refused acq_camera_resolution '.acq_camera_resolution = [70000, 3040]'
refused acq_camera_resolution '.acq_camera_resolution = [4056.5, 3040]'
# The edges of the ranges are accepted.
for ok in '.process_pixel = 0.01' '.process_pixel = 1000' '.acq_camera_resolution = [65535, 1]'; do
  acq="$(with_metadata "$ok")"
  "$SEGFLOW" segment "$acq" > /dev/null 2> "$WORK/err.txt" \
    || fail "$ok was refused: $(cat "$WORK/err.txt")"
done

# validate-ecotaxa: a non-finite value in an [f] column is an error.
"$SEGFLOW" segment "$base" > /dev/null 2>&1 || fail "the base acquisition failed"
tsv="$(tsv_of "$WORK/base")"
"$SEGFLOW" validate-ecotaxa "$tsv" > /dev/null || fail "the base TSV is not valid"
for bad in inf -inf nan 1e999; do
  awk -F'\t' -v OFS='\t' -v bad="$bad" 'NR == 1 { for (i = 1; i <= NF; ++i) if ($i == "object_area") c = i }
    NR == 3 { $c = bad } { print }' "$tsv" > "$(dirname "$tsv")/ecotaxa_bad.tsv"
  set +e
  "$SEGFLOW" validate-ecotaxa "$(dirname "$tsv")/ecotaxa_bad.tsv" > "$WORK/v.txt" 2>&1
  rc=$?
  set -e
  [ "$rc" -eq 1 ] || fail "validate-ecotaxa called $bad in object_area valid (exit $rc)"
  grep -q "object_area" "$WORK/v.txt" || fail "$bad: the column is not named: $(cat "$WORK/v.txt")"
  grep -q "not a finite number" "$WORK/v.txt" || fail "$bad: no reason: $(cat "$WORK/v.txt")"
done

# 0 objects: done, says so, and a valid archive of the header rows.
empty="$(synth_acquisition "$WORK/empty" --frames 2 --width 96 --height 72 --objects 2 --seed 1)"
"$SEGFLOW" segment "$empty" > "$WORK/out.txt" 2> "$WORK/err.txt" || fail "0 objects: segment failed"
grep -q "job_no_objects" "$WORK/err.txt" || fail "0 objects: not said"
zip="$(find "$WORK/empty/export" -name '*.zip')"
[ -n "$zip" ] || fail "0 objects: no archive"
"$SEGFLOW" validate-ecotaxa "$zip" > /dev/null || fail "0 objects: the archive is not valid"
[ "$(wc -l < "$(tsv_of "$WORK/empty")")" -eq 2 ] || fail "0 objects: the TSV is not its two header rows"
