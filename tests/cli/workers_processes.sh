# serve --workers 0 --worker-processes 2: every frame is segmented by the two
# `segflow worker` child processes (no in-process worker), the outputs equal
# `segflow segment` on a copy, and after SIGTERM on an idle serve neither
# child processes nor shared-memory segments of serve are left.
source "$(dirname "$0")/serve_lib.bash"

# log_count N PATTERN: serve's log has at least N lines matching PATTERN.
log_count() {
  [ "$(grep -c -- "$2" "$SERVE_LOG" || true)" -ge "$1" ]
}

args=(--frames 12 --width 1024 --height 768 --objects 10 --seed 31)
A="$(synth_acquisition "$WORK/a" "${args[@]}")"
A2="$(synth_acquisition "$WORK/a2" "${args[@]}")"

start_serve --workers 0 --worker-processes 2
wait_for 30 log_count 2 worker_process_joined \
  || fail "the two worker processes did not join"
mapfile -t PIDS < <(sed -n 's/.*worker_process_started slot=[0-9]* pid=//p' "$SERVE_LOG")
[ "${#PIDS[@]}" -eq 2 ] || fail "expected 2 worker processes, serve started ${#PIDS[@]}"
CHILDREN+=("${PIDS[@]}")
# Serve's own workers join CAF's loopback port behind the control gate.
workers_address="$(sed -n 's/.*serve_listening .*workers_address=\([^ ]*\).*/\1/p' "$SERVE_LOG")"
[ -n "$workers_address" ] || fail "serve did not log its workers' address"
for p in "${PIDS[@]}"; do
  # Under qemu-user (the arm64 check) the interpreter and the binary's full
  # path come first.
  tr '\0' ' ' < "/proc/$p/cmdline" | grep -qE "(^|/)segflow worker --connect $workers_address" \
    || fail "pid $p is not a segflow worker of this serve"
done

ctl add "$A" > /dev/null
wait_for 120 state_in 1 done failed || fail "job 1 did not finish"
state_is 1 done || fail "job 1 ended $(field 1 state): $(field 1 error)"
[ "$(field 1 frames_done)" -eq 12 ] || fail "frames_done $(field 1 frames_done), not 12"
[ "$(field 1 frames_failed)" -eq 0 ] || fail "frames failed: $(field 1 failures)"

stop_serve TERM
[ "$SERVE_RC" -eq 0 ] || fail "idle serve: exit $SERVE_RC on SIGTERM"
for p in "${PIDS[@]}"; do
  ! kill -0 "$p" 2> /dev/null || fail "worker process $p outlived serve"
done
[ -z "$(ls /dev/shm | grep "^segflow-$SERVE_PID-" || true)" ] || fail "shm segments left"

"$SEGFLOW" segment --workers 1 "$A2" > "$WORK/clean.txt" 2>&1 || fail "clean run failed"
same_outputs "$WORK/a" "$WORK/a2" "worker processes"
# serve stopped before its worker processes joined: they stop waiting for
# it at once (exit 0) instead of retrying to connect to the gone serve and
# giving up with exit 2 seconds later.
STATE="$WORK/state-early"
start_serve --workers 0 --worker-processes 2
stop_serve TERM
[ "$SERVE_RC" -eq 0 ] || fail "serve stopped at once: exit $SERVE_RC"
[ "$(grep -c "worker_process_exited .* exit=0 " "$SERVE_LOG")" -eq 2 ] \
  || fail "worker processes of a serve stopped early: $(grep worker_process_exited "$SERVE_LOG")"
echo "workers_processes: ok"
