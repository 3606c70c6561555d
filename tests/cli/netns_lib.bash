# Hosts as network namespaces for the cluster tests (sourced after
# serve_lib.bash): a switch namespace with a bridge, a coordinator and a
# worker host, each with its own network stack, its own private /dev/shm (a
# mount namespace) and its own certificate of one CA (mutual TLS). Needs
# root (ip netns, mount); where namespaces cannot be made the test says so
# and exits 77 (skipped, never passed).

tag="sf$$"
SW="$tag-sw"
COORD="$tag-c"
HOST1="$tag-w1"
HOST2="$tag-w2"
netns_cleanup() {
  for ns in "$COORD" "$HOST1" "$HOST2" "$SW"; do
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
for ns in "$COORD" "$HOST1" "$HOST2"; do
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

"$SEGFLOW" certs init "$WORK/pki" --host 10.77.0.1 --host 10.77.0.2 --host 10.77.0.3 > /dev/null \
  || fail "certs init"
COORD_TLS=(--tls-cert "$WORK/pki/10.77.0.1.pem" --tls-key "$WORK/pki/10.77.0.1.key"
           --tls-ca "$WORK/pki/ca.pem")
HOST1_TLS=(--tls-cert "$WORK/pki/10.77.0.2.pem" --tls-key "$WORK/pki/10.77.0.2.key"
           --tls-ca "$WORK/pki/ca.pem")
HOST2_TLS=(--tls-cert "$WORK/pki/10.77.0.3.pem" --tls-key "$WORK/pki/10.77.0.3.key"
           --tls-ca "$WORK/pki/ca.pem")

# start_coordinator ARGS...: serve in the coordinator (10.77.0.1) over TLS,
# on port 0 or on $COORD_LISTEN (HOST:PORT) when set.
start_coordinator() {
  # A previous serve's lines must not pass for this one's.
  rm -f "$WORK/serve.out" "$WORK/serve.err"
  on_host "$COORD" "$SEGFLOW" serve --listen "${COORD_LISTEN:-10.77.0.1:0}" --state "$STATE" "$@" \
    "${COORD_TLS[@]}" > "$WORK/serve.out" 2> "$WORK/serve.err" &
  SERVE_PID=$!
  CHILDREN+=("$SERVE_PID")
  wait_for 30 grep -qs '^listening: ' "$WORK/serve.out" \
    || { cat "$WORK/serve.err" >&2; fail "serve did not listen"; }
  SERVE_ADDR="$(sed -n 's/^listening: //p' "$WORK/serve.out")"
  SERVE_LOG="$WORK/serve.err"
  # Its log line may follow the listening line on stdout by a moment.
  wait_for 10 grep -qs "serve_listening .*tls=mutual" "$SERVE_LOG" || fail "serve does not use TLS"
  cctl stop-queue > /dev/null
}

# cctl ARGS...: segflow ctl in the coordinator.
cctl() {
  ip netns exec "$COORD" "$SEGFLOW" ctl --connect "$SERVE_ADDR" --token "$STATE/token" \
    "${COORD_TLS[@]}" "$@"
}

# job_state N; wait_job_end N SECONDS: a job's state; waits until it ended.
job_state() { cctl status "$1" --json | jq -r .state; }
job_ended() { case "$(job_state "$1")" in done|failed|partial|interrupted) true ;; *) false ;; esac; }
wait_job_end() {
  wait_for "$2" job_ended "$1" || fail "job $1 did not end: $(job_state "$1")"
}

# join_host N ARGS...: `segflow worker` in worker host N (1: 10.77.0.2,
# 2: 10.77.0.3) over TLS, its log in $WORK/nodeN.err; waits until serve
# registered a remote node and the host joined. Sets NODE<N>.
join_host() {
  local n="$1"
  shift
  local ns="HOST$n"
  local -n tls="HOST${n}_TLS"
  local registered
  registered="$(grep -c "node_registered .*shares_memory=false" "$SERVE_LOG" || true)"
  on_host "${!ns}" "$SEGFLOW" worker --connect "$SERVE_ADDR" "$@" --token "$STATE/token" \
    "${tls[@]}" > /dev/null 2> "$WORK/node$n.err" &
  printf -v "NODE$n" '%s' "$!"
  CHILDREN+=("$!")
  more_registered() {
    [ "$(grep -c "node_registered .*shares_memory=false" "$SERVE_LOG" || true)" -gt "$1" ]
  }
  wait_for 30 more_registered "$registered" \
    || { cat "$WORK/node$n.err" >&2; fail "worker host $n did not register as a remote node"; }
  wait_for 30 grep -qs "worker_joined .*shares_memory=false" "$WORK/node$n.err" \
    || fail "worker host $n did not join: $(cat "$WORK/node$n.err")"
}

# start_worker_host ARGS...: join_host 1.
start_worker_host() { join_host 1 "$@"; }
