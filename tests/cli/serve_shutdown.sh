# SIGTERM stops serve cleanly: the running job is interrupted (exit code 3),
# the queue file says so and marks it to resume, pending jobs stay pending;
# the next serve resumes it first and the outputs equal an uninterrupted run.
source "$(dirname "$0")/serve_lib.bash"

args=(--frames 60 --width 2028 --height 1520 --objects 15 --seed 21)
A="$(synth_acquisition "$WORK/a" "${args[@]}")"
B="$(synth_acquisition "$WORK/b" --frames 4 --width 640 --height 480 --seed 22)"

start_serve --workers 1
ctl add "$A" "$B" > /dev/null
wait_for 120 frames_at_least 1 3 || fail "job 1 did not start"
stop_serve TERM
[ "$SERVE_RC" -eq 3 ] || fail "serve stopped with a running job: exit $SERVE_RC, not 3"
grep -q "serve_stopped exit=3" "$SERVE_LOG" || fail "serve did not log its shutdown"
jq -e '.jobs[0].state == "interrupted" and .jobs[0].resume == true
       and .jobs[1].state == "pending"' "$STATE/queue.json" > /dev/null \
  || fail "queue.json after SIGTERM: $(jq -c '.jobs[] | [.id, .state, .resume]' "$STATE/queue.json")"
[ ! -f "$A/done.txt" ] || fail "done.txt written by an interrupted job"
[ -z "$(ls /dev/shm | grep "^segflow-$SERVE_PID-" || true)" ] || fail "shm segments left"

start_serve --workers 1
wait_for 180 state_is 2 done || fail "the queue did not go on after the restart"
state_is 1 done || fail "job 1 did not resume first"
[ "$(field 1 frames_resumed)" -ge 3 ] || fail "job 1 did not resume from its committed frames"
stop_serve INT
[ "$SERVE_RC" -eq 0 ] || fail "idle serve: exit $SERVE_RC on SIGINT"

A2="$(synth_acquisition "$WORK/a2" "${args[@]}")"
"$SEGFLOW" segment --workers 1 "$A2" > "$WORK/clean.txt" 2>&1 || fail "clean run failed"
same_outputs "$WORK/a" "$WORK/a2" "job 1 (SIGTERM, resumed)"
echo "serve_shutdown: ok"
