# Clear errors and nothing queued: paths that are not acquisitions, unknown
# job ids, bad usage, a serve that is not reachable (exit 2 naming the
# address), a state directory in use, a port in use, a corrupt queue file.
source "$(dirname "$0")/serve_lib.bash"

good="$(synth_acquisition "$WORK/a" --frames 4 --width 640 --height 480 --seed 3)"
no_meta="$WORK/x/img/20250101/s/no-metadata"
mkdir -p "$no_meta"
cp "$good"/*.jpg "$no_meta/"
no_frames="$WORK/x/img/20250101/s/no-frames"
mkdir -p "$no_frames"
cp "$good/metadata.json" "$no_frames/"

for cmd in serve ctl; do
  "$SEGFLOW" "$cmd" --help > "$WORK/help.txt" || fail "$cmd --help failed"
  grep -q "usage: segflow $cmd" "$WORK/help.txt" || fail "$cmd --help has no usage line"
done
expect_rc 2 "$SEGFLOW" ctl
expect_rc 2 "$SEGFLOW" ctl frobnicate
expect_rc 2 "$SEGFLOW" ctl move 1
expect_rc 2 "$SEGFLOW" ctl status abc
expect_rc 2 "$SEGFLOW" ctl list --to 3
expect_rc 2 "$SEGFLOW" ctl --connect nowhere:notaport list
expect_rc 2 "$SEGFLOW" serve --listen 127.0.0.1:99999

start_serve --workers 1
ctl stop-queue > /dev/null
set +e
ctl add "$good" "$no_meta" 2> "$WORK/err1.txt"
rc1=$?
ctl add "$no_frames" 2> "$WORK/err2.txt"
rc2=$?
ctl add "$WORK/missing" 2> "$WORK/err3.txt"
rc3=$?
set -e
[ "$rc1" -eq 2 ] && [ "$rc2" -eq 2 ] && [ "$rc3" -eq 2 ] || fail "bad paths: exit $rc1 $rc2 $rc3"
grep -q "no-metadata/metadata.json" "$WORK/err1.txt" || fail "no metadata.json: not named"
grep -q "nothing was queued" "$WORK/err1.txt" || fail "no metadata.json: does not say nothing was queued"
grep -q "no-frames" "$WORK/err2.txt" && grep -qi "frame" "$WORK/err2.txt" \
  || fail "no frames: not named"
grep -q "missing" "$WORK/err3.txt" || fail "missing folder: not named"
[ "$(ctl list --json | jq '.jobs | length')" -eq 0 ] || fail "a bad add queued something"

ctl add "$good" | grep -q "job 1 queued" || fail "good add"
expect_rc 2 ctl add "$good" 2> "$WORK/dup.txt"
grep -q "already queued as job 1" "$WORK/dup.txt" || fail "duplicate not refused"
for cmd in "status 42" "stop 42" "remove 42" "move 42 --to 1"; do
  set +e
  ctl $cmd 2> "$WORK/unknown.txt"
  rc=$?
  set -e
  [ "$rc" -eq 2 ] || fail "$cmd: exit $rc"
  grep -q "no job 42" "$WORK/unknown.txt" || fail "$cmd: does not name job 42"
done

# One serve per state directory; one serve per port.
set +e
"$SEGFLOW" serve --listen 127.0.0.1:0 --state "$STATE" > /dev/null 2> "$WORK/second.txt"
rc=$?
"$SEGFLOW" serve --listen "$SERVE_ADDR" --state "$WORK/state2" > /dev/null 2> "$WORK/port.txt"
rc2=$?
set -e
[ "$rc" -eq 2 ] || fail "second serve on the same state dir: exit $rc"
grep -q "in use by another segflow serve (pid $SERVE_PID)" "$WORK/second.txt" \
  || fail "second serve does not name the first: $(cat "$WORK/second.txt")"
[ "$rc2" -eq 2 ] || fail "serve on a busy port: exit $rc2"
grep -q "cannot listen on $SERVE_ADDR" "$WORK/port.txt" || fail "busy port not named"

addr="$SERVE_ADDR"
stop_serve TERM
[ "$SERVE_RC" -eq 0 ] || fail "serve with only pending jobs: exit $SERVE_RC"
set +e
"$SEGFLOW" ctl --connect "$addr" --token "$STATE/token" list > /dev/null 2> "$WORK/unreachable.txt"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "unreachable serve: exit $rc"
grep -q "cannot reach segflow serve at $addr" "$WORK/unreachable.txt" \
  || fail "unreachable serve: address not named"

# The pending job and the stopped queue were saved.
jq -e '.paused == true and (.jobs | length) == 1 and .jobs[0].state == "pending"' \
  "$STATE/queue.json" > /dev/null || fail "queue.json does not hold the queue"
echo '{"format": "segflow-queue", "version": 1, "jobs": [' > "$STATE/queue.json"
set +e
"$SEGFLOW" serve --listen 127.0.0.1:0 --state "$STATE" > /dev/null 2> "$WORK/corrupt.txt"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "corrupt queue file: exit $rc"
grep -q "$STATE/queue.json" "$WORK/corrupt.txt" || fail "corrupt queue file not named"
echo "serve_errors: ok"
