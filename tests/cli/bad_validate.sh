# validate-ecotaxa accepts segflow's archives and the reference segmenter's
# TSV, and rejects crafted bad ones naming the rule (exit code 1); a missing
# path is a usage error (exit code 2).
source "$(dirname "$0")/lib.bash"

acq="$(synth_acquisition "$WORK/a" --frames 4 --width 600 --height 450 --objects 6)"
"$SEGFLOW" segment "$acq" > "$WORK/seg.txt" 2>&1 || fail "segment failed"
zip="$(find "$WORK/a/export" -name 'ecotaxa_*.zip')"
tsv="$(tsv_of "$WORK/a")"
"$SEGFLOW" validate-ecotaxa "$zip" > "$WORK/v.txt" || fail "segflow's zip rejected: $(cat "$WORK/v.txt")"
grep -q ": valid$" "$WORK/v.txt" || fail "no verdict printed"
"$SEGFLOW" validate-ecotaxa "$tsv" > "$WORK/v.txt" || fail "segflow's TSV rejected: $(cat "$WORK/v.txt")"
ref="$SHARED/santa-cruz-wharf-planktoscope/Santa-cruz-wharf_20260304_WW/ecotaxa_export.tsv"
"$SEGFLOW" validate-ecotaxa "$ref" > "$WORK/v.txt" || fail "reference TSV rejected: $(cat "$WORK/v.txt")"

# Crafted bad TSVs beside the same crops: RULE SED-SCRIPT
dir="$(dirname "$tsv")"
check_bad() {
  local rule="$1" script="$2" bad="$dir/ecotaxa_bad.tsv"
  sed "$script" "$tsv" > "$bad"
  set +e
  "$SEGFLOW" validate-ecotaxa "$bad" > "$WORK/v.txt"
  local rc=$?
  set -e
  [ "$rc" -eq 1 ] || fail "$rule: expected exit code 1, got $rc"
  grep -q "^\[$rule\] " "$WORK/v.txt" || fail "$rule: not named: $(cat "$WORK/v.txt")"
}
check_bad column-prefix '1s/object_area\t/Object_area\t/'
check_bad type-row '2s/\[f\]/[x]/'
check_bad object-id '3h; 4g' # the second object repeats the first
check_bad row-cells '3s/\t[^\t]*$//'
check_bad image "3s/[^\t]*\.jpg/missing.jpg/"
check_bad text-length "3s/\t/$(printf 'x%.0s' $(seq 300))\t/"
cp "$tsv" "$dir/Ecotaxa_upper.tsv"
set +e
"$SEGFLOW" validate-ecotaxa "$dir/Ecotaxa_upper.tsv" > "$WORK/v.txt"
rc=$?
set -e
[ "$rc" -eq 1 ] && grep -q "^\[tsv-name\] " "$WORK/v.txt" || fail "upper-case TSV name accepted"

head -c 100 "$zip" > "$WORK/cut.zip"
expect_rc 1 "$SEGFLOW" validate-ecotaxa "$WORK/cut.zip"
expect_rc 2 "$SEGFLOW" validate-ecotaxa "$WORK/missing.zip"
expect_rc 2 "$SEGFLOW" validate-ecotaxa
echo "bad_validate: ok"
