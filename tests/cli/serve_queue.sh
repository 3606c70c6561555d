# serve driven by ctl on loopback: queue acquisitions, reorder them, remove
# one, stop the running job (the next starts; the stopped one is
# interrupted; a repeated stop touches nothing), stop-queue (the current job
# finishes; the next stays pending), kill -9 serve while a job runs and
# restart it: the queue is restored, the job that was running resumes, the
# stopped one stays interrupted and resumes when added again; both final
# outputs equal those of uninterrupted runs.
source "$(dirname "$0")/serve_lib.bash"

big=(--frames 60 --width 2028 --height 1520 --objects 15)
A="$(synth_acquisition "$WORK/a" "${big[@]}" --seed 11)"
B="$(synth_acquisition "$WORK/b" --frames 4 --width 640 --height 480 --seed 12)"
C="$(synth_acquisition "$WORK/c" "${big[@]}" --seed 13)"
D="$(synth_acquisition "$WORK/d" "${big[@]}" --seed 14)"

# C's frame 6 takes 15 s more in the first serve (test fault hook), so job 3
# is still running when the stop arrives however loaded the machine; the
# restarted serve runs without the fault.
held="$(ls "$C" | grep '\.jpg$' | sed -n 6p)"
SEGFLOW_TEST_FAULT="sleep=15@$held" start_serve --workers 1
ctl stop-queue | grep -q "no further job starts" || fail "stop-queue did not answer"
ctl add "$A" "$B" "$C" "$D" > "$WORK/add.txt"
[ "$(grep -c 'queued' "$WORK/add.txt")" -eq 4 ] || fail "add did not queue 4 jobs"
grep -q "job 3 queued: $C" "$WORK/add.txt" || fail "ids are not given in order"
[ "$(pending_order)" = "1 2 3 4" ] || fail "queue order: $(pending_order)"

ctl move 3 --to 1 | grep -q "job 3 moved to position 1" || fail "move"
ctl remove 2 | grep -q "job 2 removed" || fail "remove"
[ "$(pending_order)" = "3 1 4" ] || fail "after move and remove: $(pending_order)"
[ "$(ctl list --json | jq -r '[.jobs[].position] | join(" ")')" = "1 2 3" ] \
  || fail "positions are not 1 2 3"
ctl list | grep -q "stopped" || fail "list does not say the queue is stopped"

ctl resume-queue | grep -q "queue resumed" || fail "resume-queue"
wait_for 120 frames_at_least 3 2 || fail "job 3 did not start"
state_is 3 running || fail "job 3 is not running"
state_is 1 pending || fail "job 1 left pending while job 3 runs"
expect_rc 2 ctl move 3 --to 2 2> "$WORK/move-running.err"
grep -q "job 3 is running" "$WORK/move-running.err" || fail "moving a running job: no reason"
expect_rc 2 ctl remove 3 2> /dev/null

ctl stop 3 > "$WORK/stop.txt" || fail "stop 3 failed"
cat "$WORK/stop.txt"
grep -q "job 3 interrupted" "$WORK/stop.txt" || fail "stop did not interrupt job 3"
state_is 3 interrupted || fail "job 3 is not interrupted"
[ "$(field 3 frames_done)" -lt 60 ] || fail "job 3 finished before the stop"
[ ! -f "$C/done.txt" ] || fail "done.txt written by an interrupted job"
wait_for 60 state_in 1 running done || fail "the next job did not start after the stop"
ctl stop 3 | grep -q "nothing to stop" || fail "a repeated stop did something"
state_in 1 running done || fail "a repeated stop reached another job"

ctl stop-queue | grep -q "job 1 finishes" || fail "stop-queue while job 1 runs"
wait_for 120 state_is 1 done || fail "job 1 did not finish after stop-queue"
state_is 4 pending || fail "job 4 started although the queue was stopped"
[ "$(ctl list --json | jq -r .paused)" = true ] || fail "queue not stopped"

ctl resume-queue > /dev/null
wait_for 120 frames_at_least 4 3 || fail "job 4 did not start"
kill -9 "$SERVE_PID"
wait_exit "$SERVE_PID" 30 "serve (SIGKILL)"
n4="$(records_of "$WORK/d" "$D")"
[ "$n4" -lt 60 ] || fail "job 4 finished before kill -9"
echo "killed serve with job 4 at $n4 committed frames"

start_serve --workers 1
ctl list
[ "$(field 1 state)" = done ] || fail "finished job 1 not restored"
[ "$(field 3 state)" = interrupted ] || fail "stopped job 3 is not interrupted after restart"
expect_rc 2 ctl status 2 2> /dev/null # removed stays removed
wait_for 180 state_is 4 done || fail "job 4 did not resume and finish"
[ "$(field 4 frames_resumed)" -ge 3 ] || fail "job 4 did not resume from its committed frames"
ctl add "$C" | grep -q "job 5 queued" || fail "ids do not continue after the largest"
wait_for 180 state_is 5 done || fail "job 3's acquisition did not resume when added again"
[ "$(field 5 frames_resumed)" -ge 2 ] || fail "job 5 did not resume from job 3's frames"
[ -f "$C/done.txt" ] && [ -f "$D/done.txt" ] || fail "done.txt missing"

stop_serve TERM
[ "$SERVE_RC" -eq 0 ] || fail "idle serve: exit code $SERVE_RC on SIGTERM"

# Uninterrupted runs of the same synthetic acquisitions.
C2="$(synth_acquisition "$WORK/c2" "${big[@]}" --seed 13)"
D2="$(synth_acquisition "$WORK/d2" "${big[@]}" --seed 14)"
"$SEGFLOW" segment --workers 1 "$C2" "$D2" > "$WORK/clean.txt" 2>&1 || fail "clean runs failed"
same_outputs "$WORK/c" "$WORK/c2" "job 3 (stopped, added again)"
same_outputs "$WORK/d" "$WORK/d2" "job 4 (kill -9, resumed)"
echo "serve_queue: ok"
