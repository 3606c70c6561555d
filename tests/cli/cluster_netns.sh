# Several hosts, as network namespaces on one machine: a coordinator (serve,
# one in-process worker) and a worker host (`segflow worker`, two workers),
# each with its own network stack and its own private /dev/shm (a mount
# namespace), joined by a bridge, over mutual TLS with certificates from
# `segflow certs init` (while ctl clients come and go: each one used to
# leave an OpenSSL error behind that cut the node's link, docs/CLUSTER.md).
# The worker host cannot see serve's shared memory: it registers (serve logs
# shares_memory=false), gets frames only, copies the flat from serve in
# pieces into its own /dev/shm and segments part of the frames. The outputs
# equal a one-host `segflow segment` of the same acquisition. Skipped (77)
# where namespaces cannot be made (netns_lib.bash).
source "$(dirname "$0")/serve_lib.bash"
source "$(dirname "$0")/netns_lib.bash"

args=(--frames 16 --width 1600 --height 1200 --objects 12 --seed 41)
A="$(synth_acquisition "$WORK/a" "${args[@]}")"
B="$(synth_acquisition "$WORK/b" "${args[@]}")"

start_coordinator --workers 1
start_worker_host --workers 2

cctl add "$A" > /dev/null
cctl resume-queue > /dev/null
wait_job_end 1 300
[ "$(job_state 1)" = done ] || fail "the job ended $(job_state 1): $(cctl status 1 --json)"

grep -q "node_flat_copied name=segflow-.*-flat bytes=[1-9]" "$WORK/node1.err" \
  || fail "the worker host did not copy the flat: $(cat "$WORK/node1.err")"
kill -TERM "$NODE1"
wait_for 30 grep -qs "worker_stopped" "$WORK/node1.err" || fail "the worker host did not stop"
frames="$(sed -n 's/.*worker_stopped .*frames=\([0-9]*\).*/\1/p' "$WORK/node1.err")"
[ "${frames:-0}" -ge 1 ] || fail "the worker host segmented no frame (frames=$frames)"
echo "worker host segmented $frames of 16 frames"
kill -TERM "$SERVE_PID"
wait_exit "$SERVE_PID" 60 "serve"

"$SEGFLOW" segment --workers 1 "$B" > "$WORK/one-host.txt" 2>&1 || fail "one-host run failed"
same_outputs "$WORK/a" "$WORK/b" "a job over two hosts"
echo "ok: two hosts, outputs equal to one host"
