# `segflow mqtt --connect`: the bridge as its own process onto a running
# serve. A segment request runs on serve's queue with the reference's
# statuses; SIGTERM publishes Dead and exits 0; when serve goes away the
# bridge exits 1 (for systemd to restart it).
source "$(dirname "$0")/mqtt_lib.bash"

acq="$(synth_acquisition "$WORK/a" --frames 3 --objects 4 --seed 31)"
start_broker
rec="$WORK/rec.txt"
record "$rec" status/segmenter
start_serve --workers 1 --profile planktoscope

bridge() {
  "$SEGFLOW" mqtt --broker "127.0.0.1:$BROKER_PORT" --connect "$SERVE_ADDR" --token "$STATE/token" --data "$WORK/a" \
    2> "$WORK/bridge$1.err" &
  BRIDGE_PID=$!
  CHILDREN+=("$BRIDGE_PID")
}
bridge 1
wait_status 30 "$rec" '{"status":"Ready"}' || fail "no Ready from segflow mqtt"
pub segmenter/segment '{"action":"segment","settings":{"process_min_ESD":20}}'
wait_status 60 "$rec" '{"status":"Done"}' || { cat "$WORK/bridge1.err" >&2; fail "no Done"; }
[ -f "$acq/done.txt" ] || fail "the whole img/ tree (no path) was not segmented"
grep -q '"Segmenting image .*, image 3/3"' "$rec" || fail "no progress statuses"
[ "$(ctl list --json | jq '.jobs | length')" -eq 1 ] || fail "the job is not on serve's queue"
kill -TERM "$BRIDGE_PID"
wait_exit "$BRIDGE_PID" 20 "segflow mqtt (SIGTERM)"
[ "$EXIT_RC" -eq 0 ] || fail "segflow mqtt exited $EXIT_RC on SIGTERM"
wait_status 10 "$rec" '{"status":"Dead"}' || fail "no Dead at shutdown"

bridge 2
wait_for 30 grep -q mqtt_connected "$WORK/bridge2.err" || fail "second bridge did not connect"
stop_serve TERM
wait_exit "$BRIDGE_PID" 30 "segflow mqtt after serve went away"
[ "$EXIT_RC" -eq 1 ] || fail "segflow mqtt exited $EXIT_RC when serve went away (want 1)"
check_dashboard "$rec"
echo "mqtt_connect: ok"
