# A worker host lost mid-job, over mutual TLS between network namespaces
# (netns_lib.bash): its link cut without a FIN (its veth on the switch set
# down), then, after the node joined again by itself once its link came
# back, the node frozen (SIGSTOP). Each time serve
# must see the node lost within its link timeout (heartbeats every 500 ms,
# --link-timeout 2000 here) and hand the node's in-flight frames out again;
# the jobs complete on serve's own worker with outputs equal to a one-host
# run. The detection times are printed (not a timed pass/fail: the bound
# checked is 4x the timeout, for a loaded machine). `ctl nodes` shows the
# node ready at its own address (10.77.0.2, through serve's control gate)
# and then lost, and the frames of all nodes add up to the jobs'.
source "$(dirname "$0")/serve_lib.bash"
source "$(dirname "$0")/netns_lib.bash"

link_timeout=2000
args=(--frames 40 --width 1600 --height 1200 --objects 12)
A1="$(synth_acquisition "$WORK/a1" "${args[@]}" --seed 51)"
A2="$(synth_acquisition "$WORK/a2" "${args[@]}" --seed 52)"
B1="$(synth_acquisition "$WORK/b1" "${args[@]}" --seed 51)"
B2="$(synth_acquisition "$WORK/b2" "${args[@]}" --seed 52)"

now_ms() { date +%s%3N; }
# cnode NAME FIELD: a field of node NAME in `ctl nodes --json`.
cnode() { cctl nodes --json | jq -r --arg n "$1" ".nodes[] | select(.name == \$n) | .$2"; }
cnode_is() { [ "$(cnode "$1" state)" = "$2" ]; }
frames_of_nodes() { cctl nodes --json | jq '[.nodes[].frames] | add'; }
# log_ms LINE: a log line's time stamp in ms since the epoch.
log_ms() { date -d "$(cut -d' ' -f1 <<< "$1" | tr T ' ')" +%s%3N; }

# lose_node_while_running JOB ACQUISITION HOW: adds the acquisition as job
# JOB and runs it with the worker host joined; once the node holds frames,
# HOW cuts it off; prints how long serve took to count its workers lost;
# the job must then end done.
lose_node_while_running() {
  local job="$1" acquisition="$2" how="$3"
  local lost_before copied_before
  lost_before="$(grep -c "worker_lost job=$job " "$SERVE_LOG" || true)"
  local name
  name="$(sed -n 's/.*worker_joined .* pid=\([0-9]*\) host=\([^ ]*\).*/\2:\1/p' "$WORK/node1.err" \
          | tail -1)"
  wait_for 10 cnode_is "$name" ready || fail "node $name is not ready: $(cctl nodes)"
  [[ "$(cnode "$name" address)" == 10.77.0.2:* ]] \
    || fail "node $name: address '$(cnode "$name" address)', not the worker host's"
  copied_before="$(grep -c "node_flat_copied" "$WORK/node1.err" || true)"
  cctl add "$acquisition" > /dev/null
  cctl resume-queue > /dev/null
  flat_copied() { [ "$(grep -c "node_flat_copied" "$WORK/node1.err" || true)" -gt "$copied_before" ]; }
  wait_for 120 flat_copied || fail "the worker host did not get the flat: $(cat "$WORK/node1.err")"
  local t0
  t0="$(now_ms)"
  "$how"
  node_lost() { [ "$(grep -c "worker_lost job=$job " "$SERVE_LOG" || true)" -gt "$lost_before" ]; }
  wait_for $((4 * link_timeout / 1000)) node_lost \
    || fail "$how: serve did not count the node's workers lost within $((4 * link_timeout)) ms"
  local line
  line="$(grep "worker_lost job=$job " "$SERVE_LOG" | tail -n +"$((lost_before + 1))" | head -1)"
  grep -q "action=requeue" <<< "$line" || fail "$how: the node's frame was not handed out again: $line"
  echo "$how: node lost after $(($(log_ms "$line") - t0)) ms (link timeout $link_timeout ms)"
  wait_for $((4 * link_timeout / 1000)) cnode_is "$name" lost \
    || fail "$how: ctl nodes does not show $name lost: $(cctl nodes)"
  echo "$how: ctl nodes shows $name lost after $(($(now_ms) - t0)) ms ($(cnode "$name" lost_reason))"
  wait_job_end "$job" 300
  [ "$(job_state "$job")" = done ] || fail "$how: job $job ended $(job_state "$job")"
  [ "$(frames_of_nodes)" -eq $((40 * job)) ] \
    || fail "$how: the nodes' frames add up to $(frames_of_nodes), not $((40 * job)): $(cctl nodes)"
  cctl stop-queue > /dev/null
}

cut_link() { ip -n "$SW" link set "$tag-v2" down; }
freeze_node() { kill -STOP "$NODE1"; }

start_coordinator --workers 1 --link-timeout "$link_timeout"
start_worker_host --workers 2 --link-timeout "$link_timeout"
lose_node_while_running 1 "$A1" cut_link

# The cut node sees serve gone on its side too and retries; once its link
# is back it joins again by itself (the same process, started afresh).
wait_for 30 grep -qs "worker_rejoin rejoins=1" "$WORK/node1.err" \
  || fail "the cut-off worker host did not start over to rejoin: $(cat "$WORK/node1.err")"
kill -0 "$NODE1" 2> /dev/null || fail "the cut-off worker host exited instead of retrying"
ip -n "$SW" link set "$tag-v2" up
t0="$(now_ms)"
wait_for 180 grep -qs "worker_joined .*rejoins=1" "$WORK/node1.err" \
  || fail "the worker host did not rejoin once its link came back: $(tail -5 "$WORK/node1.err")"
echo "link back: the node rejoined after $(($(now_ms) - t0)) ms"
registered() { [ "$(grep -c "node_registered .*shares_memory=false" "$SERVE_LOG")" -ge 2 ]; }
wait_for 30 registered || fail "serve did not register the rejoined node"
# The same process (same pid, same CAF node): the same entry of ctl nodes.
name="$(sed -n 's/.*worker_joined .* pid=\([0-9]*\) host=\([^ ]*\).*/\2:\1/p' "$WORK/node1.err" | tail -1)"
[ "$(cctl nodes --json | jq --arg n "$name" '[.nodes[] | select(.name == $n)] | length')" -eq 1 ] \
  || fail "the rejoined node is not one entry of ctl nodes: $(cctl nodes)"
lose_node_while_running 2 "$A2" freeze_node
kill -KILL "$NODE1" 2> /dev/null || true

kill -TERM "$SERVE_PID"
wait_exit "$SERVE_PID" 60 "serve"
"$SEGFLOW" segment --workers 1 "$B1" "$B2" > "$WORK/one-host.txt" 2>&1 || fail "one-host run failed"
same_outputs "$WORK/a1" "$WORK/b1" "job 1 (a node's link cut)"
same_outputs "$WORK/a2" "$WORK/b2" "job 2 (a node frozen)"
echo "ok: nodes lost by a cut link and by a freeze; outputs equal to one host"
