# remove_previous_mask with `segflow worker` processes (serve --workers 0
# --worker-processes 2): the workers read each frame's predecessor from the
# acquisition themselves, and every frame's objects equal the sequential
# kernel loop's (previous_mask_oracle).
source "$(dirname "$0")/serve_lib.bash"

acq="$(synth_acquisition "$WORK/a" --frames 14 --objects 10 --seed 21 --stuck 2)"
"$TOOLS/previous_mask_oracle" "$acq" | sort > "$WORK/oracle.txt"
[ -s "$WORK/oracle.txt" ] || fail "the oracle found no object"

start_serve --workers 0 --worker-processes 2
ctl add "$acq" --profile planktoscope --set segmentation.remove_previous_mask=true > /dev/null
wait_for 120 state_in 1 done failed || fail "the job did not finish"
state_is 1 done || fail "the job ended $(field 1 state): $(field 1 error)"
grep -q "worker_process_joined" "$SERVE_LOG" || fail "no worker process joined"
stop_serve TERM

tsv_objects "$(tsv_of "$WORK/a")" > "$WORK/serve.txt"
diff "$WORK/oracle.txt" "$WORK/serve.txt" > "$WORK/diff.txt" \
  || fail "worker processes differ from the sequential oracle: $(head -5 "$WORK/diff.txt")"
echo "workers_previous_mask: ok"
