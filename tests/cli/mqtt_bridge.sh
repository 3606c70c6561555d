# The PlanktoScope MQTT protocol through a real mosquitto (serve --mqtt):
# the dashboard's exact segment payload gives the reference's status
# sequence and the archive `segment` gives; per-object messages; bad
# requests give a clear exception status and the bridge goes on; a second
# request while busy runs next; stop gives Interrupted within 1 s and no
# done.txt; update_config answers Busy; segflow's queue commands answer on
# status/segmenter/segflow; Dead at shutdown. Every status published is read
# with the dashboard's own rules.
source "$(dirname "$0")/mqtt_lib.bash"

acq="$(copy_acquisition dev-small "$WORK/d")"
ref_acq="$(copy_acquisition dev-small "$WORK/ref")"
[ -n "$acq" ] && [ -f "$acq/metadata.json" ] || fail "composed dev-small data missing"
long="$(synth_acquisition "$WORK/long" --frames 40 --width 2028 --height 1520 --objects 20 --seed 7)"
next="$(synth_acquisition "$WORK/next" --frames 4 --objects 5 --seed 8)"
as_string="$(synth_acquisition "$WORK/str" --frames 3 --objects 4 --seed 9)"
defaults="$(synth_acquisition "$WORK/def" --frames 3 --objects 4 --seed 10)"
rec="$WORK/rec.txt"

start_broker
record "$rec" status/segmenter status/segmenter/object_id status/segmenter/metric \
  status/segmenter/segflow
start_mqtt_serve --workers 1 --profile planktoscope --data "$WORK/d"
wait_status 30 "$rec" '{"status":"Ready"}' || fail "no Ready"

# 1. The dashboard's exact payload (node-red dashboard, sendSegment).
pub segmenter/segment '{"action":"segment","path":["'"$acq"'"],"settings":{"force":false,"recursive":true,"ecotaxa":true,"keep":true,"process_id":1,"process_min_ESD":20},"dataset":{"project_name":"p","sample_id":"s","acquisition_id":"a","operator_name":"o","image_acquired_count":12}}'
wait_status 120 "$rec" '{"status":"Done"}' || { cat "$SERVE_LOG" >&2; fail "no Done"; }
{
  echo '{"status":"Ready"}'
  echo '{"status":"Started"}'
  echo '{"status":"Calculating flat"}'
  n="$(ls "$acq" | grep -c 'jpg$')"
  i=0
  for f in $(ls "$acq" | grep 'jpg$' | LC_ALL=C sort); do
    i=$((i + 1))
    echo '{"status":"Segmenting image '"$f"', image '"$i/$n"'"}'
  done
  echo '{"status":"Done"}'
} > "$WORK/expected.txt"
statuses "$rec" > "$WORK/got.txt"
diff "$WORK/expected.txt" "$WORK/got.txt" || fail "status sequence differs from the reference's"
[ -f "$acq/done.txt" ] || fail "no done.txt after Done"

"$SEGFLOW" segment --workers 1 --profile planktoscope --set export.process_id=1 \
  --set segmentation.min_esd=20 "$ref_acq" > "$WORK/segment.txt" || fail "segment failed"
"$TOOLS/tsv_compare" "$(tsv_of "$WORK/d")" "$(tsv_of "$WORK/ref")" --rel-tol 0 \
  --ignore process_datetime --ignore process_uuid || fail "MQTT TSV differs from segment's"
diff_outputs "$WORK/d/objects" "$WORK/ref/objects" \
  || fail "MQTT crops differ from segment's"
"$TOOLS/zip_list" "$(ls "$WORK"/d/export/ecotaxa/*.zip)" > "$WORK/zip.mqtt"
"$TOOLS/zip_list" "$(ls "$WORK"/ref/export/ecotaxa/*.zip)" > "$WORK/zip.segment"
diff "$WORK/zip.mqtt" "$WORK/zip.segment" || fail "MQTT archive entries differ from segment's"

# Per-object messages: one object_id and one metric per object of the TSV.
tsv="$(tsv_of "$WORK/d")"
objects="$(($(wc -l < "$tsv") - 2))"
[ "$(grep -c ' status/segmenter/object_id ' "$rec")" -eq "$objects" ] \
  || fail "object_id messages: $(grep -c ' status/segmenter/object_id ' "$rec"), objects: $objects"
grep ' status/segmenter/metric ' "$rec" | cut -d' ' -f3- | jq -r .name | sort > "$WORK/metric.names"
awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "object_id") c = i; next }
            NR > 2 { print $c }' "$tsv" | sort > "$WORK/tsv.names"
diff "$WORK/metric.names" "$WORK/tsv.names" || fail "metric names differ from the TSV's object ids"
grep -m1 ' status/segmenter/metric ' "$rec" | cut -d' ' -f3- \
  | jq -e '.metadata | has("label") and has("area") and has("circ.") and has("MeanHue")' > /dev/null \
  || fail "metric metadata lacks the reference's keys"

# 2. Bad requests: a clear exception, and the bridge goes on.
pub segmenter/segment '{"action":"segment","path":['
wait_for 10 grep -q 'An exception was raised during the segmentation: invalid JSON' "$rec" \
  || fail "no exception status for invalid JSON"
pub segmenter/segment '{"action":"segment","path":["'"$WORK/long"'"]}'
wait_for 10 grep -q "segmentation: path $WORK/long is not inside an img/ folder" "$rec" \
  || fail "no exception status for a path outside img/"
pub segmenter/segment '{"action":"segment","path":["'"$WORK/d/img/nowhere"'"]}'
wait_for 10 grep -q "segmentation: .*nowhere.*\\." "$rec" || fail "no exception status for a missing folder"
pub segmenter/segment '{"action":"segment","path":"'"$as_string"'","settings":{"process_min_ESD":20}}'
wait_status 60 "$rec" '{"status":"Done"}' 2 || fail "a string path did not segment"
[ -f "$as_string/done.txt" ] || fail "string path: no done.txt"
pub segmenter/segment '{"action":"segment","path":["'"$defaults"'"]}'
wait_status 60 "$rec" '{"status":"Done"}' 3 || fail "a request without settings did not segment"
[ -f "$defaults/done.txt" ] || fail "missing settings: no done.txt"
# A folder already segmented is skipped, as the reference does: Started, Done.
pub segmenter/segment '{"action":"segment","path":["'"$defaults"'"]}'
wait_status 30 "$rec" '{"status":"Done"}' 4 || fail "an already segmented folder did not end Done"

# 3. A long job, a second request while it runs, stop mid-run.
pub segmenter/segment '{"action":"segment","path":["'"$long"'"],"settings":{"process_min_ESD":20}}'
wait_for 120 grep -q ', image 3/40"}' "$rec" || fail "the long job did not reach frame 3"
pub segmenter/segment '{"action":"segment","path":["'"$next"'"],"settings":{"process_min_ESD":20}}'
started_before="$(count_status "$rec" '{"status":"Started"}')"
t0="$(date +%s.%N)"
pub segmenter/segment '{"action":"stop"}'
wait_status 10 "$rec" '{"status":"Interrupted"}' || fail "no Interrupted after stop"
t1="$(status_time "$rec" '{"status":"Interrupted"}')"
awk -v a="$t0" -v b="$t1" 'BEGIN { d = b - a; printf "stop to Interrupted: %.3f s\n", d; exit !(d < 1.0) }' \
  || fail "Interrupted came later than 1 s after stop"
[ ! -f "$long/done.txt" ] || fail "done.txt after a stop"
wait_status 60 "$rec" '{"status":"Done"}' 5 || fail "the second request did not run after the stop"
[ -f "$next/done.txt" ] || fail "second request: no done.txt"
[ "$(count_status "$rec" '{"status":"Started"}')" -eq $((started_before + 1)) ] \
  || fail "the second request did not start exactly once"
# Its statuses come after Interrupted, never interleaved with the long job's.
statuses "$rec" | sed -n '/"Interrupted"/,$p' | grep -v '^{"status":"Segmenting image' \
  | head -4 > "$WORK/after_stop.txt"
printf '%s\n' '{"status":"Interrupted"}' '{"status":"Started"}' '{"status":"Calculating flat"}' \
  '{"status":"Done"}' | diff - "$WORK/after_stop.txt" || fail "statuses after the stop out of order"

# 4. update_config: Busy, as the reference; stop with nothing running: Interrupted.
pub segmenter/segment '{"action":"update_config","config":{}}'
wait_status 10 "$rec" '{"status":"Busy"}' || fail "no Busy for update_config"
pub segmenter/segment '{"action":"stop"}'
wait_status 10 "$rec" '{"status":"Interrupted"}' 2 || fail "no Interrupted for a stop while idle"

# 5. segflow's own queue commands.
pub segmenter/segflow '{"command":"list","request_id":"r1"}'
wait_for 10 grep -q ' status/segmenter/segflow {"request_id":"r1","command":"list","ok":true' "$rec" \
  || fail "no answer to list"
grep ' status/segmenter/segflow {"request_id":"r1"' "$rec" | cut -d' ' -f3- \
  | jq -e '[.result.jobs[].state] | index("interrupted") != null and (map(select(. == "done")) | length) >= 4' \
  > /dev/null || fail "list does not show the jobs"
pub segmenter/segflow '{"command":"status","id":999,"request_id":2}'
wait_for 10 grep -q ' status/segmenter/segflow {"request_id":2,"command":"status","ok":false,"error":"' "$rec" \
  || fail "no error answer for an unknown job"
grep ' status/segmenter/segflow {"request_id":2' "$rec" | cut -d' ' -f3- \
  | jq -e '.code == "unknown_job"' > /dev/null || fail "the error answer has no code unknown_job"
pub segmenter/segflow '{"command":"fly","request_id":3}'
wait_for 10 grep -q ' status/segmenter/segflow {.*"command":"?".*"code":"bad_request"' "$rec" \
  || fail "an unknown command is not answered with code bad_request"

# 6. Dead at shutdown.
stop_serve TERM
wait_status 10 "$rec" '{"status":"Dead"}' || fail "no Dead at shutdown"
check_dashboard "$rec"
echo "mqtt_bridge: ok"
