# Leases left behind. (1) serve killed (kill -9) between a job's end and its
# lease release: queue.json says done and the folder keeps the dead serve's
# lease; the next serve releases it at start (a restart never revisits a
# done job, so it used to stay forever). (2) A folder renamed while serve
# segments it carries serve's live lease along; the lease names the path it
# was taken for, so `segment` on the renamed folder takes it over instead of
# being refused until the lease expires; but while the archive path is the
# same (same acq_id), that lease of serve's job refuses it.
source "$(dirname "$0")/serve_lib.bash"

acq="$(synth_acquisition "$WORK/a" --frames 12 --width 640 --height 480 --seed 21)"
late="$(ls "$acq" | grep '\.jpg$' | sed -n 10p)"

# (1) The lease of a serve killed with the job's state already saved as done.
SEGFLOW_TEST_FAULT="sleep=60@$late" start_serve --workers 1
ctl add "$acq" > /dev/null
wait_for 60 test -e "$acq/.segflow.lock" || fail "serve took no lease"
jq -e ".pid == $SERVE_PID and .path != null" "$acq/.segflow.lock" > /dev/null \
  || fail "the lease is not serve's or names no path: $(cat "$acq/.segflow.lock")"
kill -9 "$SERVE_PID"
wait_exit "$SERVE_PID" 10 "serve (kill -9)"
[ -e "$acq/.segflow.lock" ] || fail "kill -9 removed the lease"
# What a kill between job_finished (queue.json saved) and the release leaves.
jq '(.jobs[0].state) = "done" | (.jobs[0].resume) = false' "$STATE/queue.json" \
  > "$STATE/queue.json.new"
mv "$STATE/queue.json.new" "$STATE/queue.json"
start_serve --workers 1
[ "$(field 1 state)" = done ] || fail "the done job was not restored as done"
[ ! -e "$acq/.segflow.lock" ] || fail "the dead serve's lease stayed: $(cat "$acq/.segflow.lock")"
grep -q "lease_released_dead" "$SERVE_LOG" || fail "the release is not logged"
stop_serve TERM

# (2) Renamed while serve holds its lease (serve's worker sleeps on a late
# frame, so the job is still running).
b="$(synth_acquisition "$WORK/b" --frames 12 --width 640 --height 480 --seed 22)"
late_b="$(ls "$b" | grep '\.jpg$' | sed -n 10p)"
SEGFLOW_TEST_FAULT="sleep=20@$late_b" start_serve --workers 1
ctl add "$b" > /dev/null
wait_for 60 test -e "$b/.segflow.lock" || fail "serve took no lease on b"
wait_for 60 sh -c "ctl_out=\$(\"$SEGFLOW\" ctl --connect $SERVE_ADDR --token $STATE/token status 2 --json) \
  && echo \"\$ctl_out\" | jq -e '.frames_done >= 3' > /dev/null" \
  || fail "serve's job on b did not get going"
renamed="$(dirname "$b")/renamed"
mv "$b" "$renamed"
# Its archive path is still serve's job's (one acq_id): refused, naming it.
set +e
"$SEGFLOW" segment "$renamed" > "$WORK/seg0.txt" 2> "$WORK/seg0.err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "segment sharing serve's archive path: exit $rc"
grep -q "ecotaxa_.*\.zip is being segmented by pid $SERVE_PID" "$WORK/seg0.err" \
  || fail "the refusal does not name the archive: $(grep -m2 error "$WORK/seg0.err")"
# Another acq_id: only the acquisition's lease (carried along) is in the way.
jq '.acq_id = "renamed-acq"' "$renamed/metadata.json" > "$WORK/meta.json"
cp "$WORK/meta.json" "$renamed/metadata.json"
set +e
"$SEGFLOW" segment "$renamed" > "$WORK/seg.txt" 2> "$WORK/seg.err"
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "segment on the renamed folder: exit $rc: $(grep -m3 -i 'error\|segmented by' "$WORK/seg.err")"
grep -q "renamed while locked" "$WORK/seg.err" || fail "the takeover does not say why"
[ -e "$renamed/done.txt" ] || fail "the renamed folder was not segmented"
stop_serve TERM
