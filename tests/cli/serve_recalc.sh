# The flat recalculation with `segflow worker` processes: serve --workers 0
# --worker-processes 2 --profile planktoscope segments the dense synthetic
# acquisition (tests/cli/segment_recalc.sh) to the sequential oracle's
# objects, the workers mapping each new flat generation from shared memory
# by name, and no segment of any generation is left after serve exits.
source "$(dirname "$0")/serve_lib.bash"

acq="$(synth_acquisition "$WORK/d" --frames 24 --objects 6 --dense 11:3:70 --seed 7)"
oracle_objects "$acq" "$WORK/expected.txt"

start_serve --workers 0 --worker-processes 2 --profile planktoscope
ctl add "$acq" > /dev/null
wait_for 120 state_in 1 done failed || fail "job 1 did not finish"
state_is 1 done || fail "job 1 ended $(field 1 state): $(field 1 error)"
recalcs=$(grep -c "flat_recalculated" "$SERVE_LOG" || true)
[ "$recalcs" -eq "$(wc -l < "$WORK/expected.txt.recalcs")" ] \
  || fail "serve recalculated $recalcs times, the oracle $(wc -l < "$WORK/expected.txt.recalcs")"
objects_of "$WORK/d" > "$WORK/got.txt"
diff "$WORK/expected.txt" "$WORK/got.txt" > "$WORK/diff.txt" \
  || fail "objects differ from the oracle: $(head -5 "$WORK/diff.txt")"
stop_serve TERM
[ "$SERVE_RC" -eq 0 ] || fail "idle serve: exit $SERVE_RC on SIGTERM"
[ -z "$(ls /dev/shm | grep "^segflow-$SERVE_PID-" || true)" ] || fail "shm segments left"
echo "serve_recalc: ok"
