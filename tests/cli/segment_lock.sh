# Two segflow processes never segment the same acquisition at once: the
# second is refused with the holder's pid and host (after the lock
# manager's bounded retries, ~3 s: the first run holds a frame 10 s by the
# fault hook so it cannot finish in between).
source "$(dirname "$0")/lib.bash"

acq="$(synth_acquisition "$WORK/a" --frames 40 --width 2028 --height 1520 --objects 20)"
frame5="$(ls "$acq" | grep 'jpg$' | sed -n 5p)"
SEGFLOW_TEST_FAULT="sleep=10@$frame5" "$SEGFLOW" segment --workers 1 "$acq" > "$WORK/first.txt" 2>&1 &
pid=$!
CHILDREN+=("$pid")
wait_for 60 test -f "$acq/.segflow.lock" || fail "first run holds no lease"
set +e
"$SEGFLOW" segment --workers 1 "$acq" > "$WORK/second.txt" 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "second run: expected exit code 1, got $rc"
grep -q "pid $pid" "$WORK/second.txt" || fail "refusal does not name the holder pid $pid"
grep -q "$(hostname)" "$WORK/second.txt" || fail "refusal does not name the host"
wait "$pid" || fail "first run failed"
[ -f "$acq/done.txt" ] || fail "first run did not finish"
[ ! -f "$acq/.segflow.lock" ] || fail "lease not released"
echo "segment_lock: ok"
