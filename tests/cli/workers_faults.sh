# Frames that crash or hang their worker cost only themselves:
#  1. abort: a frame that crashes its worker process every time (test fault
#     hook) is handed out once more, then recorded as failed with an error
#     artifact; both crashed processes are restarted; the job ends partial.
#  2. hang: a frame that never finishes in a worker process overruns
#     pipeline.frame_timeout_s; it fails, the process is told to exit and is
#     restarted; the job ends partial.
#  3. sleep (in-process workers): the overrunning frame fails, a replacement
#     worker takes the stuck one's place, the job ends partial.
# Every other frame's record and crops equal a clean run's.
source "$(dirname "$0")/serve_lib.bash"

args=(--frames 10 --width 1024 --height 768 --objects 10 --seed 41)
CLEAN="$(synth_acquisition "$WORK/clean" "${args[@]}")"
"$SEGFLOW" segment -q --workers 1 "$CLEAN" > /dev/null 2>&1 || fail "clean run failed"
FRAME="$(ls "$CLEAN" | grep '\.jpg$' | sed -n 4p)"
STEM="${FRAME%.jpg}"

# same_but_frame ACQ WHAT: every frame's record and crops but FRAME's equal
# the clean run's, and FRAME has neither.
same_but_frame() {
  local root="${1%/img/*}" rel="${1#*/img/}"
  local got="$root/objects/$rel" want="$WORK/clean/objects/${CLEAN#*/img/}"
  [ ! -e "$got/.segflow/frames/$STEM.jsonl" ] || fail "$2: the failed frame has a record"
  ! ls "$got" | grep -q "_${STEM}_" || fail "$2: the failed frame has crops"
  diff -r -x "$STEM.jsonl" "$got/.segflow/frames" "$want/.segflow/frames" \
    || fail "$2: frame records differ from a clean run"
  diff_outputs -x "*_${STEM}_*" "$got" "$want" \
    || fail "$2: crops differ from a clean run"
}

# artifact_says ACQ TEXT: FRAME's error artifact exists and its error has TEXT.
artifact_says() {
  local root="${1%/img/*}" rel="${1#*/img/}"
  local file="$root/errors/$rel/$STEM.json"
  [ -f "$file" ] || fail "no error artifact $file"
  jq -e --arg t "$2" --arg f "$FRAME" '(.error | contains($t)) and .frame == $f
    and (.path | endswith($f)) and (.settings.min_esd_px > 0)' "$file" > /dev/null \
    || fail "error artifact does not say '$2': $(cat "$file")"
}

log_count() {
  [ "$(grep -c -- "$2" "$SERVE_LOG" || true)" -ge "$1" ]
}

# note_workers: the worker processes serve started so far are killed at exit.
note_workers() {
  CHILDREN+=($(sed -n 's/.*worker_process_started slot=[0-9]* pid=//p' "$SERVE_LOG"))
}

# job_partial_with_one_failure: job 1 is partial (not done: a frame
# failed), FRAME failed, the others were committed.
job_partial_with_one_failure() {
  state_is 1 partial || fail "job 1 ended $(field 1 state): $(field 1 error)"
  ctl status 1 --json | jq -e --arg f "$FRAME" '.failures | length == 1 and (.[0] | startswith($f))' \
    > /dev/null || fail "ctl status --json does not list the failed frame: $(field 1 failures)"
  [ "$(field 1 frames_failed)" -eq 1 ] || fail "frames failed: $(field 1 frames_failed), not 1"
  [ "$(field 1 frames_done)" -eq 9 ] || fail "frames_done $(field 1 frames_done), not 9"
}

# 1. A frame that crashes its worker process every time.
A="$(synth_acquisition "$WORK/a" "${args[@]}")"
SEGFLOW_TEST_FAULT="abort@$FRAME" start_serve --workers 0 --worker-processes 2
wait_for 30 log_count 2 worker_process_joined || fail "the worker processes did not join"
ctl add "$A" > /dev/null
wait_for 120 state_in 1 done partial failed || fail "job 1 did not finish"
note_workers
job_partial_with_one_failure
grep -q "worker_lost job=1 frame=$FRAME action=requeue" "$SERVE_LOG" \
  || fail "the crashed frame was not handed out again"
grep -q "worker_lost job=1 frame=$FRAME action=fail" "$SERVE_LOG" \
  || fail "the frame that crashed twice was not failed"
[ "$(grep -c "worker_process_exited .* signal=6" "$SERVE_LOG")" -eq 2 ] \
  || fail "expected exactly 2 worker processes to abort"
wait_for 30 log_count 4 worker_process_started || fail "the crashed processes were not restarted"
note_workers
artifact_says "$A" "worker lost twice"
same_but_frame "$A" "crashing frame"
stop_serve TERM
[ "$SERVE_RC" -eq 0 ] || fail "idle serve: exit $SERVE_RC on SIGTERM"
grep -q "worker_process_exited .* exit=0 peak_rss_mb=[0-9]" "$SERVE_LOG" \
  || fail "serve did not log its workers' peak RSS"
grep -q "serve_stopped exit=0 peak_rss_mb=[0-9]" "$SERVE_LOG" || fail "no serve peak RSS"

# 2. A frame that hangs its worker process.
B="$(synth_acquisition "$WORK/b" "${args[@]}")"
STATE="$WORK/state-hang" # a fresh queue: the job is job 1 again
SEGFLOW_TEST_FAULT="hang@$FRAME" start_serve --workers 0 --worker-processes 2 \
  --set pipeline.frame_timeout_s=2
wait_for 30 log_count 2 worker_process_joined || fail "the worker processes did not join"
ctl add "$B" > /dev/null
wait_for 120 state_in 1 done partial failed || fail "job with a hanging frame did not finish"
note_workers
job_partial_with_one_failure
grep -q "frame_timeout job=1 frame=$FRAME seconds=2" "$SERVE_LOG" || fail "no frame_timeout"
wait_for 30 grep -q "worker_process_exited .* exit=75" "$SERVE_LOG" \
  || fail "the hanging worker process was not ended"
wait_for 30 log_count 3 worker_process_started || fail "the hung process was not restarted"
note_workers
artifact_says "$B" "after pipeline.frame_timeout_s = 2 s"
same_but_frame "$B" "hanging frame"
stop_serve TERM
[ "$SERVE_RC" -eq 0 ] || fail "idle serve: exit $SERVE_RC on SIGTERM"

# 3. In-process workers: a frame that overruns the limit.
C="$(synth_acquisition "$WORK/c" "${args[@]}")"
set +e
SEGFLOW_TEST_FAULT="sleep=5@$FRAME" "$SEGFLOW" segment --workers 2 \
  --set pipeline.frame_timeout_s=1 "$C" > "$WORK/c.out" 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "a run with a failed frame: exit $rc, not 1"
grep -q "frame_timeout job=1 frame=$FRAME seconds=1" "$WORK/c.out" || fail "no frame_timeout"
grep -q "worker_replaced" "$WORK/c.out" || fail "the stuck worker was not replaced"
grep -q "partial, 9/10 frames" "$WORK/c.out" || fail "the job did not complete: $(tail -5 "$WORK/c.out")"
artifact_says "$C" "after pipeline.frame_timeout_s = 1 s"
same_but_frame "$C" "overrunning frame"
# 4. A job's stop reaches worker processes: the frame in flight is dropped
# at its next step (debug log of the worker process) instead of finished.
D="$(synth_acquisition "$WORK/d" "${args[@]}")"
STATE="$WORK/state-stop"
SEGFLOW_LOG_LEVEL=debug SEGFLOW_TEST_FAULT="sleep=3@$FRAME" \
  start_serve --workers 0 --worker-processes 1
wait_for 30 log_count 1 worker_process_joined || fail "the worker process did not join"
note_workers
ctl add "$D" > /dev/null
wait_for 60 grep -q "test_fault action=sleep seconds=3 frame=$FRAME" "$SERVE_LOG" \
  || fail "the worker process did not reach the slow frame"
ctl stop 1 > /dev/null
wait_for 30 grep -q "frame_dropped job=1 frame=$FRAME" "$SERVE_LOG" \
  || fail "the worker process did not drop the stopped job's frame"
state_is 1 interrupted || fail "job 1 ended $(field 1 state), not interrupted"
stop_serve TERM
echo "workers_faults: ok"
