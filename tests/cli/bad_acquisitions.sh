# Bad acquisitions fail alone with a clear error and the queue goes on;
# discovery lists every path problem at once before anything starts, or
# skips them with --skip-missing; nothing from metadata.json writes outside
# the data root.
source "$(dirname "$0")/lib.bash"

synth() { synth_acquisition "$WORK/$1" --frames 4 --width 400 --height 300 --objects 4 --seed "$2"; }
good="$(synth good 1)"
nokeys="$(synth nokeys 2)"
badjson="$(synth badjson 3)"
noframes="$(synth noframes 4)"
escape="$(synth escape 5)"
allbad="$(synth allbad 6)"
sed -i '/"acq_id"/d; /"sample_project"/d' "$nokeys/metadata.json"
printf '{"sample_id": "s", ' > "$badjson/metadata.json"
rm "$noframes"/*.jpg
sed -i 's/"acq_id": "[^"]*"/"acq_id": "x\/..\/..\/..\/..\/escaped"/' "$escape/metadata.json"
for f in "$allbad"/*.jpg; do : > "$f"; done # every frame empty: no flat field

# Strict discovery: every problem with every path at once, nothing starts.
mkdir -p "$WORK/notimg/acq"
cp "$good/metadata.json" "$WORK/notimg/acq/"
touch "$WORK/plainfile"
mkdir -p "$WORK/nometa"
set +e
"$SEGFLOW" segment "$good" "$WORK/missing" "$WORK/plainfile" "$WORK/nometa" "$WORK/notimg/acq" \
  > "$WORK/strict.txt" 2>&1
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "strict discovery: expected exit code 2, got $rc"
for p in missing plainfile nometa notimg/acq; do
  grep -q "$WORK/$p" "$WORK/strict.txt" || fail "strict discovery does not name $p"
done
grep -q "not under an img/ folder" "$WORK/strict.txt" || fail "img/ layout problem not explained"
[ ! -d "$WORK/good/objects" ] || fail "something was segmented despite path problems"

# --skip-missing: the good paths run, the others are listed in the summary.
"$SEGFLOW" segment --skip-missing "$good" "$WORK/missing" "$WORK/nometa" \
  > "$WORK/skip.txt" 2>&1 || fail "skip-missing run failed: $(tail "$WORK/skip.txt")"
grep -q "^skipped: $WORK/missing" "$WORK/skip.txt" || fail "skipped path not in the summary"
grep -q "^skipped: $WORK/nometa" "$WORK/skip.txt" || fail "skipped path not in the summary"
[ -f "$good/done.txt" ] || fail "the good acquisition was not segmented"
rm "$good/done.txt"

# One run, every kind of bad acquisition: each fails alone, the good one
# (last in the queue) is done.
set +e
"$SEGFLOW" segment --force "$nokeys" "$badjson" "$noframes" "$escape" "$allbad" "$good" \
  > "$WORK/run.txt" 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "expected exit code 1, got $rc"
summary() { sed -n '/^summary/,/^stages/p' "$WORK/run.txt"; }
expect_job() { # PATH STATE TEXT: the job's summary line has STATE, its error TEXT
  summary | grep -A1 -F "$(basename "$1")" | grep -q "$2" || fail "$1: not $2"
  [ -z "$3" ] || summary | grep -A1 -F "$(basename "$1")" | grep -qF "$3" \
    || fail "$1: summary lacks '$3': $(summary)"
}
expect_job "$nokeys" failed "missing required key(s): sample_project, acq_id"
expect_job "$badjson" failed "invalid JSON"
expect_job "$noframes" failed "no frames"
expect_job "$escape" failed "contains a path separator"
expect_job "$allbad" failed "no frame of the acquisition is a usable JPEG"
expect_job "$good" done ""
[ -f "$good/done.txt" ] || fail "the queue did not go on to the good acquisition"
[ ! -e "$WORK/escaped" ] && [ -z "$(find "$WORK" -name 'ecotaxa_escaped*')" ] \
  || fail "metadata.json made segflow write outside the data root"

# process_pixel: a warning and pixel units, or an error when required.
sed -i '/"process_pixel"/d' "$good/metadata.json"
"$SEGFLOW" segment --force "$good" > "$WORK/px.txt" 2>&1 || fail "missing process_pixel failed the job"
grep -q "process_pixel is not in metadata.json; sizes are in pixels" "$WORK/px.txt" \
  || fail "no process_pixel warning"
set +e
"$SEGFLOW" segment --force --set segmentation.require_process_pixel=true "$good" \
  > "$WORK/strictpx.txt" 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "require_process_pixel: expected exit code 1, got $rc"
grep -q "require_process_pixel" "$WORK/strictpx.txt" || fail "strict process_pixel error not explained"
echo "bad_acquisitions: ok"
