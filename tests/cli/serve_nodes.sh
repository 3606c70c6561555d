# ctl nodes through real processes: serve (one worker of its own, node
# "local") and three `segflow worker --connect` nodes on loopback. Each node
# shows ready; after a job the frames of the nodes add up to the job's and
# a node stopped by SIGTERM shows the frames it counted itself (its log);
# a node killed with -9 and a frozen one (SIGSTOP) show lost within the
# heartbeat bound (--link-timeout 2000: the issue's target is 5 s).
# Each frame's node: the status stream's frame events and `ctl status`
# name the node of every frame, in agreement with ctl nodes, and
# `segment --summary-json` counts its frames for its own node.
source "$(dirname "$0")/serve_lib.bash"

HOST="$(hostname)"
LINK_MS=2000

args=(--frames 24 --width 1014 --height 760 --objects 10 --seed 17)
A="$(synth_acquisition "$WORK/a" "${args[@]}")"

start_serve --workers 1 --link-timeout "$LINK_MS"
WORKERS=()
for i in 1 2 3; do
  "$SEGFLOW" worker --connect "$SERVE_ADDR" --token "$STATE/token" --workers 1 \
    --link-timeout "$LINK_MS" > "$WORK/worker$i.out" 2> "$WORK/worker$i.err" &
  WORKERS+=($!)
  CHILDREN+=($!)
done

# node NAME FIELD: one field of the node NAME in `ctl nodes --json`.
node() {
  ctl nodes --json | jq -r --arg n "$1" ".nodes[] | select(.name == \$n) | .$2"
}
node_is() {
  [ "$(node "$1" state)" = "$2" ]
}
now_ms() {
  date +%s%3N
}

LOCAL="$HOST:$SERVE_PID"
wait_for 30 node_is "$LOCAL" ready || fail "serve's own node is not ready: $(ctl nodes)"
[ "$(node "$LOCAL" address)" = local ] || fail "serve's own node: address $(node "$LOCAL" address)"
for w in "${WORKERS[@]}"; do
  wait_for 30 node_is "$HOST:$w" ready || fail "node $HOST:$w is not ready: $(ctl nodes)"
  [[ "$(node "$HOST:$w" address)" == 127.0.0.1:* ]] \
    || fail "node $HOST:$w: address '$(node "$HOST:$w" address)', not on loopback"
  [ "$(node "$HOST:$w" workers)" -eq 1 ] || fail "node $HOST:$w: workers $(node "$HOST:$w" workers)"
  [ "$(node "$HOST:$w" heartbeat_age_ms)" -le "$LINK_MS" ] \
    || fail "node $HOST:$w: last heartbeat $(node "$HOST:$w" heartbeat_age_ms) ms ago"
done
[ "$(ctl nodes --json | jq '.nodes | length')" -eq 4 ] || fail "not 4 nodes: $(ctl nodes)"
ctl nodes > "$WORK/nodes.txt"
head -1 "$WORK/nodes.txt" | grep -q '^NODE  *ADDRESS  *STATE  *WORKERS  *FRAMES  *FRAMES/S  *HEARTBEAT$' \
  || fail "ctl nodes: no header: $(cat "$WORK/nodes.txt")"
grep -q "^$LOCAL  *local  *ready " "$WORK/nodes.txt" || fail "ctl nodes: $(cat "$WORK/nodes.txt")"

"$SEGFLOW" ctl --connect "$SERVE_ADDR" --token "$STATE/token" watch --json \
  > "$WORK/events.jsonl" 2> /dev/null &
WATCH=$!
CHILDREN+=($WATCH)
wait_for 30 grep -qs watcher_joined "$SERVE_LOG" || fail "ctl watch did not subscribe"
ctl add "$A" > /dev/null
wait_for 300 state_in 1 done failed || fail "job 1 did not finish"
state_is 1 done || fail "job 1 ended $(field 1 state): $(field 1 error)"
[ "$(field 1 frames_done)" -eq 24 ] || fail "frames_done $(field 1 frames_done), not 24"
sum="$(ctl nodes --json | jq '[.nodes[].frames] | add')"
[ "$sum" -eq 24 ] || fail "the nodes' frames add up to $sum, not the job's 24: $(ctl nodes)"
echo "frames per node: $(ctl nodes --json | jq -c '[.nodes[] | {(.name): .frames}] | add')"
[ "$(ctl nodes --json | jq '[.nodes[] | select(.frames_per_s > 0)] | length')" -ge 1 ] \
  || fail "no node has segmented a frame in the last minute: $(ctl nodes)"

# Which node segmented each frame: the job's status and the frame events
# agree with ctl nodes, node by node (one job, no loss: each frame once).
wait_for 30 grep -qs '"event":"job_finished"' "$WORK/events.jsonl" \
  || fail "ctl watch did not see the job finish"
kill -INT "$WATCH"
wait "$WATCH" || true
frame_events="$(jq -s '[.[] | select(.event == "frame_done")] | length' "$WORK/events.jsonl")"
[ "$frame_events" -eq 24 ] || fail "$frame_events frame_done events, not 24"
[ "$(jq -s '[.[] | select(.event == "frame_done" and .node == "")] | length' "$WORK/events.jsonl")" -eq 0 ] \
  || fail "a frame event names no node"
[ "$(jq -s '[.[] | select(.event != "frame_done" and .event != "frame_failed" and .node != "")] | length' "$WORK/events.jsonl")" -eq 0 ] \
  || fail "an event that is not a frame's names a node"
ctl status 1 > "$WORK/status.txt"
grep -q "^  nodes:    .*$HOST:" "$WORK/status.txt" || fail "ctl status names no nodes: $(cat "$WORK/status.txt")"
ctl nodes --json | jq -r '.nodes[] | "\(.name) \(.frames)"' > "$WORK/listed.txt"
while read -r name frames; do
  by_status="$(ctl status 1 --json | jq --arg n "$name" '.nodes[$n] // 0')"
  by_events="$(jq -s --arg n "$name" '[.[] | select(.event == "frame_done" and .node == $n)] | length' "$WORK/events.jsonl")"
  [ "$by_status" -eq "$frames" ] && [ "$by_events" -eq "$frames" ] \
    || fail "node $name: ctl nodes $frames frames, ctl status $by_status, frame events $by_events"
done < "$WORK/listed.txt"

# SIGTERM: the node logs the frames it segmented; the registry counted as many.
kill -TERM "${WORKERS[0]}"
wait_exit "${WORKERS[0]}" 30 "worker 1 (SIGTERM)"
own="$(sed -n 's/.*worker_stopped pid=[0-9]* frames=\([0-9]*\).*/\1/p' "$WORK/worker1.err")"
[ -n "$own" ] || fail "worker 1 did not log its frames: $(tail -3 "$WORK/worker1.err")"
wait_for 10 node_is "$HOST:${WORKERS[0]}" lost || fail "a stopped node is not lost: $(ctl nodes)"
[ "$(node "$HOST:${WORKERS[0]}" frames)" -eq "$own" ] \
  || fail "node 1: $(node "$HOST:${WORKERS[0]}" frames) frames listed, it segmented $own"

# kill -9 and SIGSTOP: lost within the bound.
bound_ms=5000
for how in KILL STOP; do
  w="${WORKERS[1]}"
  [ "$how" = STOP ] && w="${WORKERS[2]}"
  before="$(node "$HOST:$w" frames)"
  t0="$(now_ms)"
  kill "-$how" "$w"
  wait_for 15 node_is "$HOST:$w" lost || fail "node $HOST:$w (SIG$how) is not lost: $(ctl nodes)"
  took=$(($(now_ms) - t0))
  echo "SIG$how: node lost after ${took} ms ($(node "$HOST:$w" lost_reason))"
  [ "$took" -le "$bound_ms" ] || fail "SIG$how: node lost after $took ms, over $bound_ms ms"
  [ "$(node "$HOST:$w" frames)" -eq "$before" ] || fail "SIG$how: a lost node's frames changed"
done
node_is "$LOCAL" ready || fail "serve's own node: $(ctl nodes)"
grep -q "^$HOST:${WORKERS[2]} .* lost " <(ctl nodes) || fail "ctl nodes: $(ctl nodes)"

# The job's frames are still the sum after the losses (lost nodes stay listed).
sum="$(ctl nodes --json | jq '[.nodes[].frames] | add')"
[ "$sum" -eq 24 ] || fail "after the losses the nodes' frames add up to $sum, not 24"
ctl nodes
kill -9 "${WORKERS[2]}" 2> /dev/null || true
stop_serve TERM

# segment --summary-json: every frame is its own process's (one node).
B="$(synth_acquisition "$WORK/b" --frames 6 --width 800 --height 600 --objects 5 --seed 3)"
"$SEGFLOW" segment --workers 2 --summary-json "$WORK/summary.json" "$B" > "$WORK/segment.txt" 2>&1 &
SEGMENT=$!
wait "$SEGMENT" || fail "segment failed: $(tail -5 "$WORK/segment.txt")"
[ "$(jq -c .nodes "$WORK/summary.json")" = "{\"$HOST:$SEGMENT\":6}" ] \
  || fail "summary nodes: $(jq -c .nodes "$WORK/summary.json"), not $HOST:$SEGMENT with 6 frames"
[ "$(jq -c '.jobs[0].nodes' "$WORK/summary.json")" = "{\"$HOST:$SEGMENT\":6}" ] \
  || fail "the job's nodes: $(jq -c '.jobs[0].nodes' "$WORK/summary.json")"
echo "serve_nodes: ok"
