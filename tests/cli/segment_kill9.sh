# kill -9 leaves shared memory behind; the next start removes it, resumes
# from the committed frames and completes. A normal exit leaves nothing.
source "$(dirname "$0")/lib.bash"

acq="$(synth_acquisition "$WORK/a" --frames 30 --width 2028 --height 1520 --objects 20)"
records="$WORK/a/objects/$(realpath --relative-to="$WORK/a/img" "$acq")/.segflow/frames"
committed() { [ "$(ls "$records" 2>/dev/null | grep -c '\.jsonl$')" -ge 2 ]; }

"$SEGFLOW" segment --workers 1 "$acq" > "$WORK/run1.txt" 2>&1 &
pid=$!
CHILDREN+=("$pid")
wait_for 120 committed || fail "no frame committed in time"
kill -9 "$pid"
wait "$pid" || true
ls /dev/shm | grep -q "^segflow-$pid-" || fail "expected the killed run's flat segment in /dev/shm"

"$SEGFLOW" segment --workers 1 "$acq" > "$WORK/run2.txt" 2>&1 &
pid2=$!
CHILDREN+=("$pid2")
wait "$pid2" || fail "second run failed"
! ls /dev/shm | grep -q "^segflow-$pid-" || fail "stale segment of pid $pid not swept"
grep -q "job_resumed" "$WORK/run2.txt" || fail "second run did not resume"
[ -f "$acq/done.txt" ] || fail "second run did not finish"
! ls /dev/shm | grep -q "^segflow-$pid2-" || fail "segments left after a normal exit"
echo "segment_kill9: ok"
