# A worker node joins its serve again by itself: serve killed (kill -9)
# while the node holds a frame, then started again on the same address and
# state; the node (same process, started afresh: rejoin.hpp) retries with
# backoff, joins the new serve, and the resumed job completes with outputs
# equal to a one-host run. serve's own worker processes (--once) do not
# linger; a node waiting for its serve stops at once on SIGTERM.
source "$(dirname "$0")/serve_lib.bash"

args=(--frames 80 --width 1600 --height 1200 --objects 12 --seed 61)
A="$(synth_acquisition "$WORK/a" "${args[@]}")"
B="$(synth_acquisition "$WORK/b" "${args[@]}")"
C="$(synth_acquisition "$WORK/c" --frames 40 --width 1600 --height 1200 --objects 12 --seed 62)"
slow_frame="$(ls "$A" | grep -E '\.jpe?g$' | sort | sed -n 6p)"

# serve segments only through worker processes: its own (--once), slow on
# one frame so the job is still running when serve dies, and the node.
SEGFLOW_TEST_FAULT="sleep=4@$slow_frame" start_serve --workers 0 --worker-processes 1
addr="$SERVE_ADDR"
own_child() { pgrep -P "$SERVE_PID" -f 'segflow worker' | head -1; }
wait_for 30 own_child || fail "serve started no worker process"
child="$(own_child)"
tr '\0' ' ' < "/proc/$child/cmdline" | grep -q -- '--once' || fail "serve's worker process lacks --once"

"$SEGFLOW" worker --connect "$addr" \
  --token "$STATE/token" > /dev/null 2> "$WORK/node.err" &
NODE=$!
CHILDREN+=("$NODE")
wait_for 30 grep -qs 'worker_joined .*rejoins=0' "$WORK/node.err" \
  || fail "the node did not join: $(cat "$WORK/node.err")"

ctl add "$A" > /dev/null
wait_for 120 frames_at_least 1 3 || fail "the job did not start"
kill -KILL "$SERVE_PID"
wait_exit "$SERVE_PID" 30 "serve (SIGKILL)"
# serve's own worker process ends with it; the node stays and retries.
wait_for 30 bash -c "! kill -0 $child 2> /dev/null" || fail "serve's worker process outlived serve"
wait_for 30 grep -qs 'worker_unreachable .*retry_in_ms=' "$WORK/node.err" \
  || fail "the node did not retry its serve: $(cat "$WORK/node.err")"
kill -0 "$NODE" 2> /dev/null || fail "the node exited when its serve died"
[ "$(grep -c 'worker_rejoin rejoins=1' "$WORK/node.err")" -eq 1 ] \
  || fail "the node did not start afresh exactly once: $(cat "$WORK/node.err")"
sleep 2 # a few retries fail while no serve listens

# serve again, same address and state: the job resumes; the node rejoins.
# (Its own worker process is slow on job 2's first frame, so the node gets
# frames of job 2 whatever the timing.)
SERVE_N=$((SERVE_N + 1))
SERVE_LOG="$WORK/serve$SERVE_N.err"
c_first="$(ls "$C" | grep -E '\.jpe?g$' | sort | head -1)"
SEGFLOW_TEST_FAULT="sleep=4@$c_first" "$SEGFLOW" serve --listen "$addr" --state "$STATE" --workers 0 --worker-processes 1 \
  > "$WORK/serve$SERVE_N.out" 2> "$SERVE_LOG" &
SERVE_PID=$!
CHILDREN+=("$SERVE_PID")
wait_for 30 grep -qs '^listening: ' "$WORK/serve$SERVE_N.out" \
  || fail "serve did not start again on $addr: $(cat "$SERVE_LOG")"
wait_for 60 grep -qs "worker_joined .*pid=$NODE .*rejoins=1" "$WORK/node.err" \
  || fail "the node did not rejoin the new serve: $(cat "$WORK/node.err")"
# Backoff: 200 ms doubling (to 5 s) between the failed attempts.
backoff="$(sed -n 's/.*worker_unreachable .*retry_in_ms=\([0-9]*\).*/\1/p' "$WORK/node.err" | head -3 | tr '\n' ' ')"
[ "$backoff" = "200 400 800 " ] || fail "retry pauses: $backoff"
wait_for 300 state_is 1 done || fail "the job did not complete after the restart: $(field 1 state)"
# The node works for the new serve: its frames are counted since it rejoined.
ctl add "$C" > /dev/null
wait_for 300 state_is 2 done || fail "job 2 with the rejoined node: $(field 2 state)"
kill -TERM "$SERVE_PID"
wait_exit "$SERVE_PID" 60 "serve"
# Waiting for a serve, the node stops at once on SIGTERM.
wait_for 30 grep -qs 'worker_rejoin rejoins=2' "$WORK/node.err" \
  || fail "the node did not start afresh after the second serve ended"
t0=$SECONDS
kill -TERM "$NODE"
wait_exit "$NODE" 10 "the node waiting for its serve (SIGTERM)"
[ "$EXIT_RC" -eq 0 ] || fail "the node exited $EXIT_RC on SIGTERM"
frames_after="$(grep 'worker_stopped' "$WORK/node.err" | sed -n 's/.*frames=\([0-9]*\).*/\1/p' | sed -n 2p)"
[ -n "$frames_after" ] && [ "$frames_after" -gt 0 ] \
  || fail "the node segmented nothing for the new serve: $(grep worker_stopped "$WORK/node.err")"
echo "node stopped $((SECONDS - t0)) s after SIGTERM; it segmented $frames_after frames after rejoining"

"$SEGFLOW" segment --workers 1 "$B" > "$WORK/one-host.txt" 2>&1 || fail "one-host run failed"
same_outputs "$WORK/a" "$WORK/b" "job resumed with a node that rejoined"
echo "worker_rejoin: ok"
