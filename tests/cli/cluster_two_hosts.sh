# A job over a coordinator and two worker hosts (network namespaces, each
# with its own /dev/shm, mutual TLS; netns_lib.bash): the parity set dev-a
# with the planktoscope profile, segmented by serve's own worker and both
# hosts, the second host killed (kill -9) once it holds the flat. The job
# completes, its outputs equal a one-host run of the same profile, and
# `ctl nodes` shows the first host ready and the second lost. Skipped (77)
# where namespaces cannot be made.
source "$(dirname "$0")/serve_lib.bash"
source "$(dirname "$0")/netns_lib.bash"

link_timeout=2000
A="$(copy_acquisition dev-a "$WORK/a")"
B="$(copy_acquisition dev-a "$WORK/b")"
[ -f "$A/metadata.json" ] || fail "no dev-a in $SHARED/composed"
profile=(--profile planktoscope --set export.process_id=1)

start_coordinator --workers 1 --link-timeout "$link_timeout"
join_host 1 --workers 1 --link-timeout "$link_timeout"
join_host 2 --workers 1 --link-timeout "$link_timeout"
cctl add "${profile[@]}" "$A" > /dev/null
cctl resume-queue > /dev/null
wait_for 300 grep -qs "node_flat_copied" "$WORK/node2.err" \
  || fail "worker host 2 did not get the flat: $(cat "$WORK/node2.err")"
kill -KILL "$NODE2"
wait_job_end 1 600
[ "$(job_state 1)" = done ] || fail "the job ended $(job_state 1): $(cctl status 1 --json)"

state_of() { cctl nodes --json | jq -r --arg a "$1" '.nodes[] | select(.address | startswith($a)) | .state' | tail -1; }
[ "$(state_of 10.77.0.2:)" = ready ] || fail "host 1 is $(state_of 10.77.0.2:): $(cctl nodes)"
[ "$(state_of 10.77.0.3:)" = lost ] || fail "host 2 is $(state_of 10.77.0.3:): $(cctl nodes)"
echo "frames by node: $(cctl status 1 --json | jq -c '.nodes')"
kill -TERM "$NODE1"
wait_exit "$NODE1" 30 "worker host 1"
kill -TERM "$SERVE_PID"
wait_exit "$SERVE_PID" 60 "serve"

"$SEGFLOW" segment "${profile[@]}" --workers 1 "$B" > "$WORK/one-host.txt" 2>&1 \
  || fail "one-host run failed"
same_outputs "$WORK/a" "$WORK/b" "dev-a over two worker hosts, one killed"
echo "ok: dev-a (planktoscope) over two hosts, one killed, equals one host"
