# No worker left anywhere: serve's only worker process is frozen (SIGSTOP)
# mid-job; once its link times out it counts as lost, its frame goes back
# to the pool, and the job waits: `ctl status` says no worker is connected
# (text and JSON), no frame is lost or failed, and a stop still stops the
# job at once. Thawed, the process finds serve gone and exits; serve starts
# a new one and the resumed job completes equal to a one-host run.
source "$(dirname "$0")/serve_lib.bash"

link_timeout=2000
args=(--frames 40 --width 1600 --height 1200 --objects 12 --seed 57)
A="$(synth_acquisition "$WORK/a" "${args[@]}")"
B="$(synth_acquisition "$WORK/b" "${args[@]}")"

start_serve --workers 0 --worker-processes 1 --link-timeout "$link_timeout"
own_child() { pgrep -P "$SERVE_PID" -f 'segflow worker' | head -1; }
wait_for 30 own_child || fail "serve started no worker process"
child="$(own_child)"
ctl add "$A" > /dev/null
wait_for 120 frames_at_least 1 3 || fail "the job did not start"
ctl status 1 | grep -q "workers:  1 connected" || fail "status: $(ctl status 1)"
kill -STOP "$child"
no_worker() { [ "$(ctl status 1 --json | jq -r .workers_connected)" = 0 ]; }
wait_for $((4 * link_timeout / 1000)) no_worker \
  || fail "status does not say no worker is connected: $(ctl status 1 --json | jq -c .)"
ctl status 1 | grep -q "waiting:  no worker is connected" || fail "status text: $(ctl status 1)"
done_before="$(field 1 frames_done)"
sleep 1 # nothing is segmented without a worker
[ "$(field 1 state)" = running ] || fail "the job without workers is $(field 1 state)"
[ "$(field 1 frames_done)" = "$done_before" ] || fail "frames done moved without a worker"
[ "$(field 1 frames_failed)" = 0 ] || fail "a frame failed while no worker was connected"

# A stop still stops it.
t0=$SECONDS
ctl stop 1 > /dev/null
wait_for 10 state_is 1 interrupted || fail "the stop did not end the job: $(field 1 state)"
echo "no worker: the job waited at $done_before frames; stopped after $((SECONDS - t0)) s"

# Thawed, the frozen process sees serve gone and exits; a new one takes over.
kill -CONT "$child"
wait_for 30 bash -c "! kill -0 $child 2> /dev/null" || fail "the thawed worker process stayed"
wait_for 30 bash -c "[ -n \"\$(pgrep -P $SERVE_PID -f 'segflow worker')\" ]" \
  || fail "serve started no new worker process"
ctl add "$A" > /dev/null
wait_for 300 state_is 2 done || fail "the job after the stop: $(field 2 state)"
stop_serve TERM

"$SEGFLOW" segment --workers 1 "$B" > "$WORK/one-host.txt" 2>&1 || fail "one-host run failed"
same_outputs "$WORK/a" "$WORK/b" "a job that waited for a worker"
echo "serve_no_workers: ok"
