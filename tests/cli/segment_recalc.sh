# The planktoscope profile's flat recalculation (SPEC-planktoscope §2.1) on
# a synthetic acquisition with dense frames: with 1, 2 and 3 workers every
# object (id, bbox, area) equals the sequential oracle's (tests/tools/
# recalc_oracle.cpp, the reference's loop written out with the kernels) and
# the log names the same recalculations; a traced run replays; a run
# interrupted twice (before and after the recalculations) and resumed, or
# killed and resumed, gives the uninterrupted run's TSV.
source "$(dirname "$0")/lib.bash"

# recalcs_of LOG: the recalculations the reader logged, as the oracle prints
# them.
recalcs_of() {
  sed -n 's/.*flat_recalculated .* index=\([0-9]*\) window=\([0-9-]*\) .*/recalc next=\1 window=\2/p' "$1"
}

# Frames 11-13 draw ~70 particles where the others draw ~6: each fires the
# heuristic; the third window is the previous 10 frames (j > len - 11).
acq="$(synth_acquisition "$WORK/d" --frames 24 --objects 6 --dense 11:3:70 --seed 7)"
oracle_objects "$acq" "$WORK/expected.txt"
mv "$WORK/expected.txt.recalcs" "$WORK/expected-recalcs.txt"
[ "$(wc -l < "$WORK/expected-recalcs.txt")" -ge 2 ] \
  || fail "the dense frames must fire the heuristic at least twice: $(cat "$WORK/expected-recalcs.txt")"
awk '{ split($3, w, "[=-]"); if (w[2] + 0 < substr($2, 6) + 0) back = 1 } END { exit !back }' \
  "$WORK/expected-recalcs.txt" || fail "no window of the previous frames (j > len - 11)"

for workers in 1 2 3; do
  "$SEGFLOW" segment --profile planktoscope --force --workers "$workers" "$acq" \
    > "$WORK/out-$workers.txt" 2> "$WORK/log-$workers.txt" \
    || fail "segment --workers $workers failed: $(tail -5 "$WORK/log-$workers.txt")"
  objects_of "$WORK/d" > "$WORK/got-$workers.txt"
  diff "$WORK/expected.txt" "$WORK/got-$workers.txt" > "$WORK/diff.txt" \
    || fail "--workers $workers: objects differ from the oracle: $(head -5 "$WORK/diff.txt")"
  recalcs_of "$WORK/log-$workers.txt" > "$WORK/recalcs-$workers.txt"
  diff "$WORK/expected-recalcs.txt" "$WORK/recalcs-$workers.txt" > "$WORK/diff.txt" \
    || fail "--workers $workers: recalculations differ from the oracle: $(cat "$WORK/diff.txt")"
  grep -q "flat_recalc_summary .* recalculations=$(wc -l < "$WORK/expected-recalcs.txt") " \
    "$WORK/log-$workers.txt" || fail "--workers $workers: no or wrong flat_recalc_summary"
done

# A slow frame (3 s more, test fault hook) does not let the other worker run
# far ahead: frames are handed out at most 8 past the lowest in flight
# (recalc_window, 2 workers), so the exporter never holds more than those 8
# plus the slow frame's own as it arrives; the objects are still the
# oracle's.
SEGFLOW_TEST_FAULT="sleep=3@$(ls "$acq" | grep '\.jpg$' | sed -n 5p)" \
  "$SEGFLOW" segment --profile planktoscope --force --workers 2 "$acq" \
  > /dev/null 2> "$WORK/log-slow.txt" || fail "run with a slow frame failed"
objects_of "$WORK/d" | diff "$WORK/expected.txt" - > /dev/null \
  || fail "with a slow frame the objects differ from the oracle"
held=$(sed -n 's/.*flat_recalc_summary .* held_max=\([0-9]*\).*/\1/p' "$WORK/log-slow.txt")
[ -n "$held" ] && [ "$held" -le 9 ] || fail "results held behind a slow frame: ${held:-none}, not <= 9"

# A traced run replays to the same messages: results of a superseded flat
# generation (how many depends on timing) are left out of the comparison.
"$SEGFLOW" segment --profile planktoscope --force --workers 2 --trace "$WORK/recalc.trace" \
  "$acq" > /dev/null 2>&1 || fail "traced run failed"
"$SEGFLOW" replay "$WORK/recalc.trace" > "$WORK/replay.txt" 2>&1 \
  || fail "replay diverged: $(tail -1 "$WORK/replay.txt")"

# The default profile does not recalculate.
"$SEGFLOW" segment --force --workers 2 "$acq" > /dev/null 2> "$WORK/log-default.txt" \
  || fail "default profile run failed"
! grep -q "flat_recalc" "$WORK/log-default.txt" || fail "the default profile recalculated"

# 15 frames, frame 4 dense: the reference's window for frame 5 is
# list[-5:5], empty, and the reference fails the acquisition. segflow keeps
# the flat it has, says so, and gives the objects of a run without the
# heuristic.
short="$(synth_acquisition "$WORK/s" --frames 15 --objects 6 --dense 4:1:70 --seed 7)"
expect_rc 1 "$TOOLS/recalc_oracle" "$short" > /dev/null 2>&1
"$SEGFLOW" segment --profile planktoscope --set segmentation.flat_recalculate=false "$short" \
  > /dev/null 2>&1 || fail "short set without the heuristic failed"
objects_of "$WORK/s" > "$WORK/short-off.txt"
"$SEGFLOW" segment --profile planktoscope --force "$short" > /dev/null 2> "$WORK/short.txt" \
  || fail "short set failed: $(tail -3 "$WORK/short.txt")"
grep -q "flat_recalc_skipped .*window for frame 5 is empty" "$WORK/short.txt" \
  || fail "the empty window was not reported"
! grep -q "flat_recalculated" "$WORK/short.txt" || fail "an empty window recalculated"
objects_of "$WORK/s" | diff - "$WORK/short-off.txt" > /dev/null \
  || fail "with an empty window the objects changed"

# Interrupted after >= 5 and then after >= 13 frames (the dense frames 11-13
# committed: the resumed run must replay their recalculations from the
# records), then resumed to the end. Larger frames, one worker, so that the
# stops land mid-run.
big="$(synth_acquisition "$WORK/b" --frames 40 --width 2028 --height 1520 --objects 6 \
        --dense 11:3:70 --seed 7)"
"$SEGFLOW" segment --profile planktoscope --workers 1 "$big" > /dev/null 2> "$WORK/big.txt" \
  || fail "uninterrupted big run failed"
cp "$(tsv_of "$WORK/b")" "$WORK/big-uninterrupted.tsv"
grep -q "flat_recalculated" "$WORK/big.txt" || fail "the big set does not recalculate"
# Frame 30 takes 5 s more in the runs below (test fault hook), so they are
# still running when the test stops or kills them, however loaded the machine.
export SEGFLOW_TEST_FAULT="sleep=5@$(ls "$big" | grep '\.jpg$' | sed -n 31p)"
records="$WORK/b/objects/$(cd "$WORK/b/img" && dirname "$(find . -name metadata.json)" | cut -c3-)/.segflow/frames"
frames_done() { [ "$(grep -c '"event":"frame_done"' "$WORK/stop.json")" -ge "$1" ]; }
force=(--force)
for stop_after in 5 13; do
  committed_before=0
  [ "${#force[@]}" -gt 0 ] || committed_before=$(find "$records" -name '*.jsonl' | wc -l)
  "$SEGFLOW" segment --profile planktoscope "${force[@]}" --workers 1 --status-json "$big" \
    > "$WORK/stop.json" 2> "$WORK/stop-$stop_after.txt" &
  pid=$!
  CHILDREN+=("$pid")
  # At least one frame of this run: a first stop that landed late (a loaded
  # machine) may have committed more than stop_after frames already, and a
  # SIGINT before the job started would stop nothing.
  wanted=$((stop_after - committed_before))
  [ "$wanted" -ge 1 ] || wanted=1
  wait_for 120 frames_done "$wanted" || fail "no frames done in time"
  signal_and_wait INT "$pid"
  [ "$rc" -eq 3 ] || fail "stop after $stop_after frames: expected exit 3, got $rc"
  force=()
done
committed=$(find "$records" -name '*.jsonl' | wc -l)
[ "$committed" -ge 13 ] && [ "$committed" -lt 40 ] \
  || fail "the second stop should leave 13..39 committed frames, found $committed"
SEGFLOW_TEST_FAULT= "$SEGFLOW" segment --profile planktoscope --workers 1 "$big" > /dev/null 2> "$WORK/resumed.txt" \
  || fail "resumed run failed: $(tail -5 "$WORK/resumed.txt")"
grep -q "job_resumed" "$WORK/resumed.txt" || fail "the last run did not resume"
# Frames 0-12 at least are committed: the recalculations after frames 11
# and 12 are replayed from their records, and the resumed run starts with a
# recalculated flat.
replayed=$(grep -c "flat_recalc_triggered .*replayed=true" "$WORK/resumed.txt" || true)
[ "$replayed" -ge 2 ] || fail "recalculations not replayed ($replayed)"
grep -q "flat_recalculated .* redo=0" "$WORK/resumed.txt" \
  || fail "the resumed run did not start with a recalculated flat"
"$TOOLS/tsv_compare" "$(tsv_of "$WORK/b")" "$WORK/big-uninterrupted.tsv" \
  --ignore process_datetime --ignore process_uuid --ignore process_id \
  || fail "interrupted and resumed differs from uninterrupted"

# kill -9 with two workers once frame 11 (the first to fire) is committed:
# what is on disk is final (results held for the heuristic are not), so the
# resumed run equals the uninterrupted one too.
rm -rf "$WORK/b/objects" "$big/done.txt" # a fresh start, so that no old record counts below
"$SEGFLOW" segment --profile planktoscope --workers 2 "$big" > /dev/null 2>&1 &
pid=$!
CHILDREN+=("$pid")
twelve_committed() { [ "$(find "$records" -name '*.jsonl' 2> /dev/null | wc -l)" -ge 12 ]; }
wait_for 120 twelve_committed || fail "12 frames not committed in time"
kill -9 "$pid"
wait "$pid" 2> /dev/null || true
SEGFLOW_TEST_FAULT= "$SEGFLOW" segment --profile planktoscope --workers 2 "$big" > "$WORK/killed.txt" 2>&1 \
  || fail "run after kill -9 failed: $(tail -5 "$WORK/killed.txt")"
grep -q "job_resumed" "$WORK/killed.txt" || fail "the run after kill -9 did not resume"
"$TOOLS/tsv_compare" "$(tsv_of "$WORK/b")" "$WORK/big-uninterrupted.tsv" \
  --ignore process_datetime --ignore process_uuid --ignore process_id \
  || fail "killed and resumed differs from uninterrupted"
echo "segment_recalc: ok (committed at the last stop: $committed)"
