# Job-boundary overlap: while the running job's last frames are in flight,
# serve prepares the next job (lease, frame listing, flat field), which stays
# pending until the running job ends. Two jobs run with and without the
# overlap (--no-prepare-next); both give the same outputs. The script prints
# the boundary idle time: from the first job's last frame result (its
# job_exported time minus the export time) to the second job's flat_started,
# i.e. how long the workers had nothing to do (negative: no idle, the next
# flat started before the last frame was in). The figures reported for the
# issue came from FRAMES=20 WIDTH=4056 HEIGHT=3040 WORKERS=1 (and 2).
source "$(dirname "$0")/serve_lib.bash"

FRAMES="${FRAMES:-12}"
WIDTH="${WIDTH:-2028}"
HEIGHT="${HEIGHT:-1520}"
WORKERS="${WORKERS:-1}"
synth=(--frames "$FRAMES" --width "$WIDTH" --height "$HEIGHT" --objects 20)

# boundary LOG: "<idle ms> <two-job wall ms>" from serve's log lines.
boundary() {
  awk '
    function ms(t) { split(substr(t, 12), p, ":"); return (p[1] * 60 + p[2]) * 60000 + p[3] * 1000 }
    / job_started job=1 / { start = ms($1) }
    / job_exported job=1 / { match($0, /ms=[0-9.]+/); last = ms($1) - substr($0, RSTART + 3, RLENGTH - 3) }
    / flat_started job=2 / { flat = ms($1) }
    / job_finished job=2 / { end = ms($1) }
    END {
      if (last == "" || flat == "") print "n/a", end - start
      else printf "%.0f %.0f\n", flat - last, end - start
    }' "$1"
}

for mode in overlap sequential; do
  A="$(synth_acquisition "$WORK/$mode-a" "${synth[@]}" --seed 51)"
  B="$(synth_acquisition "$WORK/$mode-b" "${synth[@]}" --seed 52)"
  STATE="$WORK/state-$mode"
  if [ "$mode" = overlap ]; then
    start_serve --workers "$WORKERS"
  else
    start_serve --workers "$WORKERS" --no-prepare-next
  fi
  ctl stop-queue > /dev/null
  ctl add "$A" "$B" > /dev/null
  ctl resume-queue > /dev/null
  wait_for 600 state_is 2 done || fail "$mode: job 2 did not finish"
  state_is 1 done || fail "$mode: job 1 not done"
  stop_serve TERM
  [ "$SERVE_RC" -eq 0 ] || fail "$mode: serve exit $SERVE_RC"
  read -r idle wall < <(boundary "$SERVE_LOG")
  echo "$mode: ${FRAMES} frames ${WIDTH}x${HEIGHT}, $WORKERS worker(s): boundary idle ${idle} ms, two jobs ${wall} ms"
  prep_line="$(grep -n 'job_preparing job=2 ' "$SERVE_LOG" | cut -d: -f1 | head -1 || true)"
  end_line="$(grep -n 'job_finished job=1 ' "$SERVE_LOG" | cut -d: -f1 | head -1 || true)"
  start_line="$(grep -n 'job_started job=2 ' "$SERVE_LOG" | cut -d: -f1 | head -1 || true)"
  [ -n "$end_line" ] && [ -n "$start_line" ] || fail "$mode: job lines missing from the log"
  [ "$end_line" -lt "$start_line" ] || fail "$mode: job 2 shows running before job 1 ended"
  if [ "$mode" = overlap ]; then
    [ -n "$prep_line" ] || fail "overlap: job 2 was not prepared while job 1 ran"
    [ "$prep_line" -lt "$end_line" ] || fail "overlap: job 2 prepared only after job 1 ended"
  else
    [ -z "$prep_line" ] || fail "--no-prepare-next still prepared job 2"
  fi
done
same_outputs "$WORK/overlap-a" "$WORK/sequential-a" "job 1 with the overlap"
same_outputs "$WORK/overlap-b" "$WORK/sequential-b" "job 2 (prepared early)"
echo "serve_overlap: ok"
