# Traces: a recorded run replays to the same messages; a changed kernel
# parameter makes the replay diverge and names the first divergent message;
# a stop at frame k replays with the stop at the same point (the golden
# traces are replayed by trace_golden.sh).
source "$(dirname "$0")/lib.bash"

acq="$(synth_acquisition "$WORK/r" --frames 6 --objects 5 --seed 3)"
"$SEGFLOW" segment -q --workers 2 --trace "$WORK/clean.trace" "$acq" > /dev/null \
  || fail "recording run failed"
"$SEGFLOW" trace dump "$WORK/clean.trace" > "$WORK/dump.txt" || fail "trace dump failed"
grep -q "exporter#[0-9]*  seg::frame_result" "$WORK/dump.txt" || fail "dump lists no frame results"

"$SEGFLOW" replay "$WORK/clean.trace" > "$WORK/replay.txt" || fail "replay diverged: $(tail -1 "$WORK/replay.txt")"
tail -1 "$WORK/replay.txt" | grep -q "same messages" || fail "replay did not say same messages"

set +e
"$SEGFLOW" replay --set segmentation.min_esd=45 "$WORK/clean.trace" > "$WORK/changed.txt"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "a changed min_esd must make the replay fail (exit $rc)"
tail -1 "$WORK/changed.txt" | grep -q "diverged: message [0-9]*" \
  || fail "divergence not named: $(tail -1 "$WORK/changed.txt")"

# trace diff of two recordings of the same input in two places: equal.
again="$(synth_acquisition "$WORK/r2" --frames 6 --objects 5 --seed 3)"
"$SEGFLOW" segment -q --workers 2 --trace "$WORK/again.trace" "$again" > /dev/null
"$SEGFLOW" trace diff "$WORK/clean.trace" "$WORK/again.trace" > "$WORK/diff.txt" \
  || fail "two runs of the same input differ: $(cat "$WORK/diff.txt")"
# ... and a different input is a divergence.
other="$(synth_acquisition "$WORK/r3" --frames 6 --objects 5 --seed 4)"
"$SEGFLOW" segment -q --workers 2 --trace "$WORK/other.trace" "$other" > /dev/null
set +e
"$SEGFLOW" trace diff "$WORK/clean.trace" "$WORK/other.trace" > "$WORK/diff.txt"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "traces of different inputs compare equal"
grep -q "first divergence" "$WORK/diff.txt" || fail "diff does not name the divergence"

# A stop at frame k, recorded and replayed (one worker: a frame in flight at
# the stop is dropped in both runs).
big="$(synth_acquisition "$WORK/s" --frames 14 --width 4056 --height 3040 --objects 20 --seed 5)"
frames_done() { [ "$(grep -c '"event":"frame_done"' "$WORK/stop.json")" -ge 3 ]; }
"$SEGFLOW" segment --status-json --workers 1 --trace "$WORK/stop.trace" "$big" \
  > "$WORK/stop.json" 2> /dev/null &
pid=$!
CHILDREN+=("$pid")
wait_for 120 frames_done || fail "no frames done in time"
signal_and_wait INT "$pid"
[ "$rc" -eq 3 ] || fail "recorded stop: expected exit 3, got $rc"
set +e
"$SEGFLOW" replay "$WORK/stop.trace" > "$WORK/stop-replay.txt"
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "stop replay diverged: $(tail -1 "$WORK/stop-replay.txt")"

echo "trace_replay: ok"
