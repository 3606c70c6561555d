# The control port under load. serve raises its soft descriptor limit to the
# hard one; with `ulimit -n 256` (hard), 1000 idle connections that each sent
# 7 bytes (never a handshake) leave a running job and ctl unharmed: serve
# closes every one of them within its handshake bound (5 s) and the job's
# file writes and queue.json never fail for want of descriptors.
source "$(dirname "$0")/serve_lib.bash"

# The soft limit is raised to the hard one.
real_segflow="$SEGFLOW"
printf '#!/bin/sh\nulimit -S -n 256\nexec "%s" "$@"\n' "$real_segflow" > "$WORK/soft256"
chmod +x "$WORK/soft256"
[ "$(ulimit -H -n)" = unlimited ] || [ "$(ulimit -H -n)" -gt 256 ] \
  || fail "the hard descriptor limit is 256 or less: nothing to raise to"
SEGFLOW="$WORK/soft256"
start_serve --workers 1
soft=$(awk '/^Max open files/ { print $4 }' "/proc/$SERVE_PID/limits")
hard=$(awk '/^Max open files/ { print $5 }' "/proc/$SERVE_PID/limits")
[ "$soft" = "$hard" ] || fail "serve kept its soft descriptor limit $soft (hard $hard)"
stop_serve TERM

# 256 descriptors in all, the job running while 1000 idle clients connect.
printf '#!/bin/sh\nulimit -n 256\nexec "%s" "$@"\n' "$real_segflow" > "$WORK/hard256"
chmod +x "$WORK/hard256"
SEGFLOW="$WORK/hard256"
acq="$(synth_acquisition "$WORK/a" --frames 30 --width 1024 --height 768 --seed 11)"
# The worker pauses 6 s on the 5th frame: the idle clients connect then, and
# the other 25 frames, the archive, done.txt and queue.json are written
# after them.
fifth="$(ls "$acq" | grep '\.jpg$' | sed -n 5p)"
SEGFLOW_TEST_FAULT="sleep=6@$fifth" start_serve --workers 1
ctl add "$acq" > /dev/null
wait_for 120 sh -c "\"$real_segflow\" ctl --connect $SERVE_ADDR --token $STATE/token status 1 --json \
  | jq -e '.state == \"running\" and .frames_done >= 4' > /dev/null" \
  || fail "the job did not start: $(tail -5 "$SERVE_LOG")"

python3 "$(dirname "$0")/idle_clients.py" "${SERVE_ADDR%:*}" "${SERVE_ADDR##*:}" 1000 15 \
  "$WORK/idle-opened" > "$WORK/idle.txt" &
idle_pid=$!
CHILDREN+=("$idle_pid")
wait_for 60 test -e "$WORK/idle-opened" || fail "the idle clients did not connect"
# ctl is served while the idle clients are there.
for i in 1 2 3; do
  ctl --timeout 10 list > "$WORK/list$i.txt" 2>&1 \
    || fail "ctl list $i failed while idle clients were connected: $(cat "$WORK/list$i.txt")"
  sleep 0.5
done
wait "$idle_pid" || fail "the idle-client helper failed"
echo "idle clients: $(cat "$WORK/idle.txt")"
opened=$(sed -n 's/.*opened=\([0-9]*\).*/\1/p' "$WORK/idle.txt")
still=$(sed -n 's/.*still_open=\([0-9]*\).*/\1/p' "$WORK/idle.txt")
after=$(sed -n 's/.*last_closed_after=\([0-9.]*\).*/\1/p' "$WORK/idle.txt")
[ "$opened" -ge 900 ] || fail "only $opened idle connections could be opened"
[ "$still" -eq 0 ] || fail "$still idle connections were still open after 15 s"
awk -v a="$after" 'BEGIN { exit !(a <= 8) }' \
  || fail "the last idle connection was closed $after s after it opened (bound: 5 s)"

wait_for 300 sh -c "\"$real_segflow\" ctl --connect $SERVE_ADDR --token $STATE/token status 1 --json \
  | jq -e '.state != \"running\" and .state != \"pending\"' > /dev/null" \
  || fail "the job did not finish"
ctl status 1 --json > "$WORK/status.json"
jq -e '.state == "done" and .frames_failed == 0 and .frames_done == 30' "$WORK/status.json" \
  > /dev/null || fail "the job was harmed: $(cat "$WORK/status.json")"
[ -e "$acq/done.txt" ] || fail "no done.txt"
jq -e '.jobs | length == 1' "$STATE/queue.json" > /dev/null || fail "queue.json is not valid"
if grep -q "Too many open files" "$SERVE_LOG"; then
  fail "serve ran out of descriptors: $(grep -m3 'Too many open files' "$SERVE_LOG")"
fi
stop_serve TERM
[ "$SERVE_RC" -eq 0 ] || fail "serve exited $SERVE_RC"
