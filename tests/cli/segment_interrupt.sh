# SIGINT stops a run cooperatively: exit code 3, job interrupted, committed
# frames kept, no done.txt. Running again resumes and gives the same output as
# an uninterrupted run.
source "$(dirname "$0")/lib.bash"

args=(--frames 40 --width 2028 --height 1520 --objects 20 --seed 7)
acq="$(synth_acquisition "$WORK/a" "${args[@]}")"
clean="$(synth_acquisition "$WORK/b" "${args[@]}")"
records="$WORK/a/objects/$(realpath --relative-to="$WORK/a/img" "$acq")/.segflow/frames"
committed() { [ "$(ls "$records" 2>/dev/null | grep -c '\.jsonl$')" -ge 3 ]; }

"$SEGFLOW" segment --workers 1 "$acq" > "$WORK/run1.txt" 2> "$WORK/run1.err" &
pid=$!
CHILDREN+=("$pid")
wait_for 120 committed || fail "no frame committed in time"
signal_and_wait INT "$pid"
[ "$rc" -eq 3 ] || fail "interrupted run: expected exit code 3, got $rc"
grep -q "interrupted" "$WORK/run1.txt" || fail "summary does not say interrupted"
[ ! -f "$acq/done.txt" ] || fail "done.txt written by an interrupted run"
! ls /dev/shm | grep -q "^segflow-$pid-" || fail "shared memory left behind after SIGINT"
n=$(ls "$records" | grep -c '\.jsonl$')
[ "$n" -lt 40 ] || fail "all 40 frames committed before the stop took effect"
echo "interrupted after $n committed frames"

"$SEGFLOW" segment --workers 1 "$acq" > "$WORK/run2.txt" || fail "resume failed"
[ -f "$acq/done.txt" ] || fail "resumed run wrote no done.txt"
"$SEGFLOW" segment --workers 1 "$clean" > "$WORK/clean.txt" || fail "clean run failed"
"$TOOLS/tsv_compare" "$(tsv_of "$WORK/a")" "$(tsv_of "$WORK/b")" --rel-tol 0 \
  --ignore process_datetime --ignore process_uuid --ignore process_id \
  || fail "resumed output differs from an uninterrupted run"
diff_outputs "$WORK/a/objects" "$WORK/b/objects" \
  || fail "resumed crops differ from an uninterrupted run"


# SIGTERM stops the same way.
frames_done() { [ "$(grep -c '"event":"frame_done"' "$WORK/run3.json")" -ge 2 ]; }
"$SEGFLOW" segment --force --status-json --workers 1 "$acq" > "$WORK/run3.json" 2> "$WORK/run3.err" &
pid=$!
CHILDREN+=("$pid")
wait_for 120 frames_done || fail "no frame done in time (SIGTERM run)"
signal_and_wait TERM "$pid"
[ "$rc" -eq 3 ] || fail "SIGTERM: expected exit code 3, got $rc"
! ls /dev/shm | grep -q "^segflow-$pid-" || fail "shared memory left behind after SIGTERM"
echo "segment_interrupt: ok"
