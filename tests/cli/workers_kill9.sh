# kill -9 of a worker process mid-job loses nothing: the reader hands the
# frame it held out again (logged as worker_lost ... action=requeue), serve
# restarts the process, and the job completes with no failed frame and the
# outputs of an uninterrupted `segflow segment`.
source "$(dirname "$0")/serve_lib.bash"

# log_count N PATTERN: serve's log has at least N lines matching PATTERN.
log_count() {
  [ "$(grep -c -- "$2" "$SERVE_LOG" || true)" -ge "$1" ]
}

args=(--frames 120 --width 2028 --height 1520 --objects 15 --seed 21)
A="$(synth_acquisition "$WORK/a" "${args[@]}")"

start_serve --workers 0 --worker-processes 2
wait_for 30 log_count 2 worker_process_joined \
  || fail "the two worker processes did not join"
VICTIM="$(sed -n 's/.*worker_process_started slot=0 pid=//p' "$SERVE_LOG" | head -1)"
[ -n "$VICTIM" ] || fail "serve did not log its worker pids"
CHILDREN+=($(sed -n 's/.*worker_process_started slot=[0-9]* pid=//p' "$SERVE_LOG"))

ctl add "$A" > /dev/null
wait_for 120 frames_at_least 1 2 || fail "job 1 did not start"
kill -9 "$VICTIM"
wait_for 30 grep -q "worker_lost job=1 .*action=requeue" "$SERVE_LOG" \
  || fail "the killed worker's frame was not handed out again (killed too late?)"
wait_for 30 log_count 2 'worker_process_started slot=0 ' \
  || fail "serve did not restart the killed worker process"
grep -q "worker_process_exited slot=0 pid=$VICTIM signal=9" "$SERVE_LOG" \
  || fail "serve did not log the killed worker"
CHILDREN+=($(sed -n 's/.*worker_process_started slot=[0-9]* pid=//p' "$SERVE_LOG"))

wait_for 300 state_in 1 done failed || fail "job 1 did not finish"
state_is 1 done || fail "job 1 ended $(field 1 state): $(field 1 error)"
[ "$(field 1 frames_failed)" -eq 0 ] || fail "frames failed: $(field 1 failures)"
[ "$(field 1 frames_done)" -eq 120 ] || fail "frames_done $(field 1 frames_done), not 120"
stop_serve TERM
[ "$SERVE_RC" -eq 0 ] || fail "idle serve: exit $SERVE_RC on SIGTERM"
[ -z "$(ls /dev/shm | grep "^segflow-$SERVE_PID-" || true)" ] || fail "shm segments left"

A2="$(synth_acquisition "$WORK/a2" "${args[@]}")"
"$SEGFLOW" segment --workers 1 "$A2" > "$WORK/clean.txt" 2>&1 || fail "clean run failed"
same_outputs "$WORK/a" "$WORK/a2" "job with a killed worker process"
echo "workers_kill9: ok"
