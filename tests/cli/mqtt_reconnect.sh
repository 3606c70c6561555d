# The MQTT client against a broker that is down when serve starts and is
# killed (kill -9) and restarted mid-job: serve keeps retrying, the job
# completes unharmed (all frames, done.txt) and its statuses resume on the
# restarted broker. A worker pauses 3 s on frame 6 (SEGFLOW_TEST_FAULT) so
# the restart always lands mid-job.
source "$(dirname "$0")/mqtt_lib.bash"

acq="$(synth_acquisition "$WORK/a" --frames 12 --objects 6 --seed 21)"
frames=($(ls "$acq" | grep 'jpg$' | LC_ALL=C sort))
[ "${#frames[@]}" -eq 12 ] || fail "synth made ${#frames[@]} frames"

# A free port, then no broker on it: serve starts with the broker down.
start_broker
port="$BROKER_PORT"
kill_broker
SEGFLOW_TEST_FAULT="sleep=3@${frames[5]}" start_mqtt_serve --workers 1 --profile planktoscope
wait_for 30 grep -q 'mqtt_connect_failed' "$SERVE_LOG" || fail "serve did not report the broker down"
state_is_listening() { ctl list > /dev/null; }
state_is_listening || fail "serve does not answer while the broker is down"

start_broker "$port"
wait_for 30 grep -q 'mqtt_connected' "$SERVE_LOG" || fail "serve did not connect once the broker came up"
rec1="$WORK/rec1.txt"
record "$rec1" status/segmenter
pub segmenter/segment '{"action":"segment","path":["'"$acq"'"],"settings":{"process_min_ESD":20}}'
wait_for 60 grep -qF "Segmenting image ${frames[4]}, image 5/12" "$rec1" || fail "no progress before the kill"

kill_broker
wait_for 30 grep -q 'mqtt_connection_lost' "$SERVE_LOG" || fail "serve did not notice the broker's loss"
start_broker "$port"
rec2="$WORK/rec2.txt"
record "$rec2" status/segmenter
wait_status 60 "$rec2" '{"status":"Done"}' || { cat "$SERVE_LOG" >&2; fail "no Done after the broker restart"; }
grep -qF "Segmenting image ${frames[11]}, image 12/12" "$rec2" || fail "statuses did not resume"
[ "$(grep -c 'mqtt_connected' "$SERVE_LOG")" -ge 2 ] || fail "serve did not reconnect"
[ -f "$acq/done.txt" ] || fail "the job did not complete"
[ "$(records_of "$WORK/a" "$acq")" -eq 12 ] || fail "not every frame committed"
stop_serve TERM
[ "$SERVE_RC" -eq 0 ] || fail "serve exited $SERVE_RC"
check_dashboard "$rec1"
check_dashboard "$rec2"
echo "mqtt_reconnect: ok"
