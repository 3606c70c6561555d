# Golden traces (tests/golden): each replays to the same messages on a
# fresh synthetic copy of its inputs; a changed kernel parameter makes a
# serve golden's replay fail naming the first divergent message.
source "$(dirname "$0")/lib.bash"
GOLDEN="$(dirname "$0")/../golden"

# Golden traces: recorded once (tests/golden/record.sh), replayed forever on
# a fresh synthetic copy of their inputs (NAME.synth: one line of synth
# arguments per acquisition, all in one data root).
for golden in "$GOLDEN"/*.trace; do
  name="$(basename "$golden" .trace)"
  while read -r args; do
    [ -n "$args" ] || continue
    # shellcheck disable=SC2086
    synth_acquisition "$WORK/g-$name" $args > /dev/null
  done < "$GOLDEN/$name.synth"
  "$SEGFLOW" replay --root "$WORK/g-$name" "$golden" > "$WORK/g-$name.txt" 2>&1 \
    || fail "golden trace $name diverged: $(tail -1 "$WORK/g-$name.txt")"
  tail -1 "$WORK/g-$name.txt" | grep -q "same messages" \
    || fail "golden trace $name: $(tail -1 "$WORK/g-$name.txt")"
done

# The resume golden replays from the committed frames it recorded (the
# reader's run message lists them); the worker-loss golden re-drives the loss.
grep -q "re-creating the committed frames" "$WORK/g-resume.txt" \
  || fail "the resume golden did not re-create its committed frames"
grep -q "1 worker losses" "$WORK/g-worker-loss.txt" \
  || fail "the worker-loss golden re-drove no loss: $(head -3 "$WORK/g-worker-loss.txt")"

# A changed kernel parameter on a serve golden: the replay fails and names
# the first divergent message.
set +e
"$SEGFLOW" replay --root "$WORK/g-serve-reorder" --set segmentation.min_esd=45 \
  "$GOLDEN/serve-reorder.trace" > "$WORK/g-changed.txt" 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "a changed min_esd must make the serve replay fail (exit $rc)"
tail -1 "$WORK/g-changed.txt" | grep -q "diverged: message [0-9]*" \
  || fail "serve divergence not named: $(tail -1 "$WORK/g-changed.txt")"
echo "trace_golden: ok"
