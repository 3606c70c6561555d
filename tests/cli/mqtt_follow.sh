# Live segmentation through MQTT (serve --mqtt --follow-imager on): a script
# plays the imager, writing a composed acquisition frame by frame (each frame
# first half-written, then whole, then listed in integrity.check) with the
# imager's status/imager messages, 0.3 s apart. segflow follows it: frames
# are segmented while acquiring, the job is done within 2 s of the imager's
# Done, and the objects are identical to a run on the finished folder.
source "$(dirname "$0")/mqtt_lib.bash"

src="$(find "$SHARED/composed/dev-small/img" -name metadata.json -printf '%h\n' | head -1)"
[ -n "$src" ] && [ -f "$src/metadata.json" ] || fail "composed dev-small data missing"
rel="$(realpath --relative-to="$SHARED/composed/dev-small/img" "$src")"
live="$WORK/d/img/$rel"
ref="$(copy_acquisition dev-small "$WORK/ref")"
frames=($(ls "$src" | grep 'jpg$' | LC_ALL=C sort))
n="${#frames[@]}"
[ "$n" -ge 10 ] || fail "dev-small has $n frames"

start_broker
rec="$WORK/rec.txt"
record "$rec" status/segmenter status/imager
start_mqtt_serve --workers 2 --profile planktoscope --data "$WORK/d" --follow-imager on \
  --mqtt-objects off
wait_status 30 "$rec" '{"status":"Ready"}' || fail "no Ready"

# The imager (controller/imager/main.py and integrity.py), by hand.
mkdir -p "$live"
cp "$src/metadata.json" "$live/"
printf '# planktoscope integrity file, see https://www.planktoscope.org\n# filename,size,sha1\n' \
  > "$live/integrity.check"
echo "metadata.json,$(stat -c %s "$live/metadata.json"),0" >> "$live/integrity.check"
pub status/imager '{"status":"Started"}'
i=0
for f in "${frames[@]}"; do
  i=$((i + 1))
  head -c 2000 "$src/$f" > "$live/$f" # half-written: not listed yet
  sleep 0.05
  cat "$src/$f" > "$live/$f"
  echo "$f,$(stat -c %s "$live/$f"),$(sha1sum < "$live/$f" | cut -d' ' -f1)" >> "$live/integrity.check"
  pub status/imager '{"status":"Image '"$i/$n"' saved to '"$f"'"}'
  pub status/imager '{"type":"progress","path":"'"$live/$f"'","current":'"$i"',"total":'"$n"'}'
  sleep 0.3
done
imager_done="$(date +%s.%N)"
pub status/imager '{"status":"Done","path":"'"$live"'"}'

wait_status 60 "$rec" '{"status":"Done"}' || { cat "$SERVE_LOG" >&2; fail "no Done"; }
done_at="$(status_time "$rec" '{"status":"Done"}')"
first_frame="$(awk '$2 == "status/segmenter" && /Segmenting image/ { print $1; exit }' "$rec")"
awk -v a="$imager_done" -v b="$done_at" -v f="$first_frame" 'BEGIN {
    printf "first frame segmented %.2f s before the imager was done; job done %.2f s after\n", a - f, b - a
    exit !(b - a < 2.0 && f < a) }' || fail "not done within 2 s of the imager's Done, or nothing segmented while acquiring"
[ -f "$live/done.txt" ] || fail "no done.txt"
[ "$(count_status "$rec" '{"status":"Started"}')" -eq 1 ] || fail "the acquisition was not one request"
has_status "$rec" "{\"status\":\"Segmenting image ${frames[n - 1]}, image $n/$n\"}" \
  || fail "no status for the last frame as image $n/$n"

"$SEGFLOW" segment --workers 1 --profile planktoscope --set segmentation.min_esd=20 "$ref" \
  > "$WORK/segment.txt" || fail "segment of the finished folder failed"
same_outputs "$WORK/d" "$WORK/ref" "followed acquisition"
stop_serve TERM
check_dashboard "$rec"
echo "mqtt_follow: ok"
