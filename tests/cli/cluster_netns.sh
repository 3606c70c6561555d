# Several hosts, as network namespaces on one machine: a coordinator (serve,
# one in-process worker) and a worker host (`segflow worker`, two workers),
# each with its own network stack and its own private /dev/shm (a mount
# namespace), joined by a bridge, over mutual TLS with certificates from
# `segflow certs init` (while ctl clients come and go: each one used to
# leave an OpenSSL error behind that cut the node's link, docs/CLUSTER.md).
# The worker host cannot
# see serve's shared memory: it registers (serve logs shares_memory=false),
# gets frames only, copies the flat from serve in pieces into its own
# /dev/shm and segments part of the frames. The outputs equal a one-host
# `segflow segment` of the same acquisition. Needs root (ip netns, mount);
# where namespaces cannot be made the test says so and exits 77 (skipped).
source "$(dirname "$0")/serve_lib.bash"

tag="sf$$"
SW="$tag-sw"
COORD="$tag-c"
HOST1="$tag-w1"
netns_cleanup() {
  for ns in "$COORD" "$HOST1" "$SW"; do
    ip netns del "$ns" 2> /dev/null || true
  done
}
trap 'netns_cleanup; cleanup' EXIT
fail() {
  echo "FAIL: $*" >&2
  tail -n 20 "$WORK/serve.err" "$WORK"/node*.err >&2 2> /dev/null || true
  exit 1
}
skip() {
  echo "SKIP: $*"
  exit 77
}
command -v ip > /dev/null || skip "no ip (iproute2)"
ip netns add "$SW" 2> /dev/null || skip "cannot create network namespaces (not root?)"
ip netns exec "$SW" unshare --mount --propagation private \
  sh -c 'mount -t tmpfs -o size=1m tmpfs /dev/shm' 2> /dev/null \
  || skip "cannot give a namespace its own /dev/shm"

# A switch namespace with a bridge; each host a namespace with eth0 on it.
ip -n "$SW" link add br0 type bridge
ip -n "$SW" link set br0 up
n=0
for ns in "$COORD" "$HOST1"; do
  n=$((n + 1))
  ip netns add "$ns"
  ip link add "$tag-v$n" type veth peer name eth0 netns "$ns"
  ip link set "$tag-v$n" netns "$SW"
  ip -n "$SW" link set "$tag-v$n" master br0 up
  ip -n "$ns" addr add "10.77.0.$n/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
done

# on_host NS CMD...: CMD in host NS with a private /dev/shm.
on_host() {
  local ns="$1"
  shift
  exec ip netns exec "$ns" unshare --mount --propagation private \
    sh -c 'mount -t tmpfs -o size=1g,mode=1777 tmpfs /dev/shm && exec "$@"' sh "$@"
}


args=(--frames 16 --width 1600 --height 1200 --objects 12 --seed 41)
A="$(synth_acquisition "$WORK/a" "${args[@]}")"
B="$(synth_acquisition "$WORK/b" "${args[@]}")"

"$SEGFLOW" certs init "$WORK/pki" --host 10.77.0.1 --host 10.77.0.2 > /dev/null \
  || fail "certs init"
COORD_TLS=(--tls-cert "$WORK/pki/10.77.0.1.pem" --tls-key "$WORK/pki/10.77.0.1.key"
           --tls-ca "$WORK/pki/ca.pem")
HOST1_TLS=(--tls-cert "$WORK/pki/10.77.0.2.pem" --tls-key "$WORK/pki/10.77.0.2.key"
           --tls-ca "$WORK/pki/ca.pem")

# The coordinator.
on_host "$COORD" "$SEGFLOW" serve --listen 10.77.0.1:0 --state "$STATE" --workers 1 \
  "${COORD_TLS[@]}" > "$WORK/serve.out" 2> "$WORK/serve.err" &
SERVE_PID=$!
CHILDREN+=("$SERVE_PID")
wait_for 30 grep -qs '^listening: ' "$WORK/serve.out" \
  || { cat "$WORK/serve.err" >&2; fail "serve did not listen"; }
SERVE_ADDR="$(sed -n 's/^listening: //p' "$WORK/serve.out")"
SERVE_LOG="$WORK/serve.err"
grep -q "tls=mutual" "$SERVE_LOG" || fail "serve does not use TLS"
cctl() {
  ip netns exec "$COORD" "$SEGFLOW" ctl --connect "$SERVE_ADDR" --token "$STATE/token" "${COORD_TLS[@]}" "$@"
}
cctl stop-queue > /dev/null

# The worker host.
on_host "$HOST1" "$SEGFLOW" worker --connect "$SERVE_ADDR" --workers 2 --token "$STATE/token" "${HOST1_TLS[@]}" \
  > /dev/null 2> "$WORK/node1.err" &
NODE1=$!
CHILDREN+=("$NODE1")
wait_for 30 grep -qs "node_registered .*shares_memory=false" "$SERVE_LOG" \
  || { cat "$WORK/node1.err" >&2; fail "the worker host did not register as a remote node"; }
wait_for 30 grep -qs "worker_joined .*shares_memory=false" "$WORK/node1.err" \
  || fail "the worker host did not join: $(cat "$WORK/node1.err")"

cctl add "$A" > /dev/null
cctl resume-queue > /dev/null
job_state() { cctl status 1 --json | jq -r .state; }
job_ended() { case "$(job_state)" in done|failed|partial|interrupted) true ;; *) false ;; esac; }
wait_for 300 job_ended || fail "the job did not end: $(job_state)"
[ "$(job_state)" = done ] || fail "the job ended $(job_state): $(cctl status 1 --json)"

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
