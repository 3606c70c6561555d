# Paths mode across hosts (network namespaces, mutual TLS, netns_lib.bash):
# a worker host that sees serve's data root at the same path (`--data`)
# checks the job's first frame it gets against the bytes serve sent, and
# then gets the job's frames as paths and reads them itself. A host whose
# copy of the data root differs (a bind mount of other frames under the
# same names, in its own mount namespace) says so and keeps getting bytes.
# Both jobs equal a one-host run. Skipped (77) where namespaces cannot be
# made.
source "$(dirname "$0")/serve_lib.bash"
source "$(dirname "$0")/netns_lib.bash"

args=(--frames 24 --width 1600 --height 1200 --objects 12)
A1="$(synth_acquisition "$WORK/a1" "${args[@]}" --seed 71)"
A2="$(synth_acquisition "$WORK/a2" "${args[@]}" --seed 72)"
B1="$(synth_acquisition "$WORK/b1" "${args[@]}" --seed 71)"
B2="$(synth_acquisition "$WORK/b2" "${args[@]}" --seed 72)"
# Other frames under A2's names: what the second host sees at A2's path.
OTHER="$(synth_acquisition "$WORK/other" "${args[@]}" --seed 73)"
mkdir -p "$WORK/fake"
for f in "$A2"/*.jpg; do
  name="$(basename "$f")"
  cp "$(ls "$OTHER"/*.jpg | sort | head -1)" "$WORK/fake/$name"
done
cp "$A2/metadata.json" "$WORK/fake/"

# worker_host BIND_SRC BIND_DST ARGS...: `segflow worker` in the worker
# host, with BIND_SRC mounted over BIND_DST in its mount namespace ("" "":
# none); waits until it joined. Sets NODE1.
worker_host() {
  local src="$1" dst="$2"
  shift 2
  ip netns exec "$HOST1" unshare --mount --propagation private sh -c '
    mount -t tmpfs -o size=1g,mode=1777 tmpfs /dev/shm || exit 1
    if [ -n "$0" ]; then mount --bind "$0" "$1" || exit 1; fi
    shift
    exec "$@"' "$src" "$dst" "$SEGFLOW" worker --connect "$SERVE_ADDR" "$@" \
    --token "$STATE/token" "${HOST1_TLS[@]}" > /dev/null 2> "$WORK/node1.err" &
  NODE1=$!
  CHILDREN+=("$NODE1")
  wait_for 30 grep -qs "worker_joined .*shares_memory=false" "$WORK/node1.err" \
    || fail "the worker host did not join: $(cat "$WORK/node1.err")"
}

# run_job N ACQ: runs job N to its end; the node must have segmented frames.
run_job() {
  cctl add "$2" > /dev/null
  cctl resume-queue > /dev/null
  wait_job_end "$1" 300
  [ "$(job_state "$1")" = done ] || fail "job $1 ended $(job_state "$1")"
  cctl stop-queue > /dev/null
}

# stop_node: SIGTERM to the worker host; prints "frames read_here".
stop_node() {
  kill -TERM "$NODE1"
  wait_exit "$NODE1" 30 "the worker host"
  sed -n 's/.*worker_stopped .*frames=\([0-9]*\) read_here=\([0-9]*\).*/\1 \2/p' "$WORK/node1.err" \
    | tail -1
}

start_coordinator --workers 1

# Job 1: the host sees the same data root.
worker_host "" "" --workers 2 --data "$WORK/a1"
run_job 1 "$A1"
grep -q "node_paths job=1 node=.* mode=paths verified=\"$A1/" "$SERVE_LOG" \
  || fail "serve did not put the host in paths mode: $(grep node_paths "$SERVE_LOG" || true)"
read -r frames here <<< "$(stop_node)"
[ "${frames:-0}" -ge 2 ] || fail "the host segmented ${frames:-0} frames of job 1"
[ "${here:-0}" -ge 1 ] || fail "the host read no frame itself (read_here=${here:-0})"
frame_bytes="$(stat -c %s "$(ls "$A1"/*.jpg | head -1)")"
echo "paths: the host segmented $frames frames of 24 and read $here itself" \
     "(about $((here * frame_bytes / 1024)) kB not sent)"

# Job 2: the host sees other frames at the same path.
worker_host "$WORK/fake" "$A2" --workers 2 --data "$WORK/a2"
run_job 2 "$A2"
grep -q "worker_paths job=2 mode=bytes reason=\"$A2/.* differs from serve's copy\"" \
  "$WORK/node1.err" || grep -q "worker_paths job=2 mode=bytes reason=\"$A2/.* bytes here" \
  "$WORK/node1.err" || fail "the host did not find its copy different: $(cat "$WORK/node1.err")"
grep -q "node_paths job=2 node=.* mode=bytes" "$SERVE_LOG" \
  || fail "serve did not log the host's differing copy"
! grep -q "node_paths job=2 node=.* mode=paths" "$SERVE_LOG" || fail "job 2 went to paths mode"
read -r frames here <<< "$(stop_node)"
[ "${frames:-0}" -ge 1 ] || fail "the host segmented ${frames:-0} frames of job 2"
[ "${here:-1}" -eq 0 ] || fail "the host read $here frames of its differing copy"
echo "bytes: the host segmented $frames frames of 24 from serve's bytes"

kill -TERM "$SERVE_PID"
wait_exit "$SERVE_PID" 60 "serve"
"$SEGFLOW" segment --workers 1 "$B1" "$B2" > "$WORK/one-host.txt" 2>&1 || fail "one-host run failed"
same_outputs "$WORK/a1" "$WORK/b1" "job 1 (paths mode)"
same_outputs "$WORK/a2" "$WORK/b2" "job 2 (a differing copy: bytes)"
echo "ok: paths mode verified; a differing copy refused; outputs equal to one host"
