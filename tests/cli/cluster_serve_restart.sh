# serve restarted while a worker host is connected (network namespaces,
# mutual TLS, netns_lib.bash): serve is killed (kill -9) mid-job and started
# again on the same address and state; the worker host (the same process,
# started afresh) rejoins by itself over TLS, the queue resumes the job from
# its committed frames, and the outputs equal a one-host run. Skipped (77)
# where namespaces cannot be made.
source "$(dirname "$0")/serve_lib.bash"
source "$(dirname "$0")/netns_lib.bash"

link_timeout=2000
args=(--frames 40 --width 1600 --height 1200 --objects 12 --seed 53)
A="$(synth_acquisition "$WORK/a" "${args[@]}")"
B="$(synth_acquisition "$WORK/b" "${args[@]}")"
frames_done() { cctl status 1 --json | jq -r .frames_done; }
some_done() { [ "$(frames_done)" -ge 3 ]; }

start_coordinator --workers 1 --link-timeout "$link_timeout"
start_worker_host --workers 2 --link-timeout "$link_timeout"
cctl add "$A" > /dev/null
cctl resume-queue > /dev/null
wait_for 120 grep -qs "node_flat_copied" "$WORK/node1.err" \
  || fail "the worker host did not get the flat: $(cat "$WORK/node1.err")"
wait_for 120 some_done || fail "the job did not start"
addr="$SERVE_ADDR"
kill -KILL "$SERVE_PID"
wait_exit "$SERVE_PID" 30 "serve (SIGKILL)"
wait_for 30 grep -qs "worker_rejoin rejoins=1" "$WORK/node1.err" \
  || fail "the worker host did not start over to rejoin: $(tail -5 "$WORK/node1.err")"
kill -0 "$NODE1" 2> /dev/null || fail "the worker host exited when serve died"

COORD_LISTEN="$addr" start_coordinator --workers 1 --link-timeout "$link_timeout"
cctl resume-queue > /dev/null
wait_for 60 grep -qs "worker_joined .*rejoins=1" "$WORK/node1.err" \
  || fail "the worker host did not rejoin the restarted serve: $(tail -5 "$WORK/node1.err")"
grep -q "node_registered .*shares_memory=false" "$SERVE_LOG" \
  || fail "the restarted serve did not register the worker host"
wait_job_end 1 300
[ "$(job_state 1)" = done ] || fail "the resumed job ended $(job_state 1)"
resumed="$(cctl status 1 --json | jq -r .frames_resumed)"
[ "$resumed" -ge 3 ] || fail "the job did not resume from its committed frames ($resumed)"
kill -TERM "$NODE1"
wait_exit "$NODE1" 30 "the worker host"
after="$(sed -n 's/.*worker_stopped .*frames=\([0-9]*\).*/\1/p' "$WORK/node1.err" | tail -1)"
echo "serve restarted: the host rejoined; $resumed frames were resumed, the host segmented $after after rejoining"
kill -TERM "$SERVE_PID"
wait_exit "$SERVE_PID" 60 "serve"

"$SEGFLOW" segment --workers 1 "$B" > "$WORK/one-host.txt" 2>&1 || fail "one-host run failed"
same_outputs "$WORK/a" "$WORK/b" "a job across a serve restart with a worker host"
echo "ok: serve restarted under a connected worker host; outputs equal to one host"
