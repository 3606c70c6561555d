# ctl watch streams status events (job ids as ctl shows them) until Ctrl-C;
# serve drops a watcher that exits and one whose process is killed (the
# remote down arrives over the lost connection).
source "$(dirname "$0")/serve_lib.bash"

acq="$(synth_acquisition "$WORK/a" --frames 6 --width 640 --height 480 --seed 5)"
start_serve --workers 1
joined() { [ "$(grep -c 'watcher_joined' "$SERVE_LOG")" -ge "$1" ]; }
left() { [ "$(grep -c 'watcher_left' "$SERVE_LOG")" -ge "$1" ]; }

"$SEGFLOW" ctl --connect "$SERVE_ADDR" --token "$STATE/token" watch --json > "$WORK/watch.json" 2> /dev/null &
watch_json=$!
CHILDREN+=("$watch_json")
"$SEGFLOW" ctl --connect "$SERVE_ADDR" --token "$STATE/token" watch > "$WORK/watch.txt" 2> /dev/null &
watch_text=$!
CHILDREN+=("$watch_text")
wait_for 30 joined 2 || fail "the watchers did not subscribe"

ctl add "$acq" | grep -q "job 1 queued" || fail "add"
finished() { grep -q '"event":"job_finished"' "$WORK/watch.json"; }
wait_for 60 finished || fail "watch saw no job_finished"
jq -e 'select(.event == "job_finished") | .job_id == 1 and .state == "done"' \
  "$WORK/watch.json" > /dev/null || fail "job_finished is not job 1 done"
[ "$(jq -r 'select(.event == "frame_done") | .job_id' "$WORK/watch.json" | sort -u)" = 1 ] \
  || fail "frame events do not carry job id 1"
[ "$(grep -c '"event":"frame_done"' "$WORK/watch.json")" -eq 6 ] || fail "not 6 frame events"
head -1 "$WORK/watch.json" | grep -q '"event":"job_started"' || fail "job_started is not first"
text_done() { grep -q "^job 1: .*done, 6/6 frames" "$WORK/watch.txt"; }
wait_for 10 text_done || fail "text watch: no done line"

kill -INT "$watch_json"
wait_exit "$watch_json" 30 "watch (SIGINT)"
[ "$EXIT_RC" -eq 0 ] || fail "watch after Ctrl-C: exit $EXIT_RC"
wait_for 10 left 1 || fail "serve kept the watcher that exited"
kill -9 "$watch_text"
wait_exit "$watch_text" 30 "watch (SIGKILL)"
wait_for 10 left 2 || fail "serve kept the watcher that was killed"
grep -q "watcher_left watchers=0" "$SERVE_LOG" || fail "watchers remain"

# A watch sees serve go away: exit 2.
"$SEGFLOW" ctl --connect "$SERVE_ADDR" --token "$STATE/token" watch > /dev/null 2> "$WORK/watch3.err" &
watch3=$!
CHILDREN+=("$watch3")
wait_for 30 joined 3 || fail "third watcher did not subscribe"
stop_serve TERM
[ "$SERVE_RC" -eq 0 ] || fail "idle serve: exit $SERVE_RC"
wait_exit "$watch3" 30 "watch (serve gone)"
[ "$EXIT_RC" -eq 2 ] || fail "watch after serve went away: exit $EXIT_RC"
grep -q "lost the connection to segflow serve at $SERVE_ADDR" "$WORK/watch3.err" \
  || fail "watch does not name the address it lost"
echo "serve_watch: ok"
