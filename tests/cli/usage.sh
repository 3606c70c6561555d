# The command line: help, exit codes, configuration errors naming key and file.
source "$(dirname "$0")/lib.bash"

"$SEGFLOW" --help | grep -q "segment" || fail "--help does not list segment"
for cmd in segment synth demo config; do
  "$SEGFLOW" "$cmd" --help > "$WORK/help.txt" || fail "$cmd --help failed"
  grep -q "usage: segflow $cmd" "$WORK/help.txt" || fail "$cmd --help has no usage line"
done
expect_rc 2 "$SEGFLOW"
expect_rc 2 "$SEGFLOW" no-such-command
expect_rc 2 "$SEGFLOW" segment --no-such-option x

printf '[pipeline]\nwokers = 2\n' > "$WORK/bad.toml"
set +e
"$SEGFLOW" config --config "$WORK/bad.toml" 2> "$WORK/err.txt"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "unknown key: exit $rc"
grep -q "pipeline.wokers" "$WORK/err.txt" || fail "unknown key not named"
grep -q "$WORK/bad.toml" "$WORK/err.txt" || fail "file not named"

set +e
"$SEGFLOW" config --set segmentation.min_esd=big 2> "$WORK/err.txt"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "wrong type: exit $rc"
grep -q "segmentation.min_esd" "$WORK/err.txt" || fail "wrong type: key not named"

set +e
SEGFLOW_PIPELINE_WORKERS=999 "$SEGFLOW" config 2> "$WORK/err.txt"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "out of range: exit $rc"
grep -q "SEGFLOW_PIPELINE_WORKERS" "$WORK/err.txt" || fail "out of range: variable not named"

"$SEGFLOW" config --profile planktoscope | grep -q 'size_units = "px"' \
  || fail "planktoscope profile does not use pixels"

set +e
"$SEGFLOW" segment "$WORK/missing-a" "$WORK/missing-b" 2> "$WORK/err.txt"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "missing paths: exit $rc"
grep -q "missing-a" "$WORK/err.txt" && grep -q "missing-b" "$WORK/err.txt" \
  || fail "every missing path must be listed"
echo "usage: ok"
