# Who may connect: serve's published actor is a gatekeeper that hands out
# handles only for a hello with the token of its state directory. The token
# file is made on the first start (0600, 64 hex digits), kept across
# restarts and never written to the log; a client without it (gate_probe:
# list, join, add, status, hellos with no and a wrong token) gets no handle
# and no answer; ctl with a wrong or missing token file is refused, naming
# the file; with the right one ctl works, and so do serve's worker
# processes (they say hello as workers).
source "$(dirname "$0")/serve_lib.bash"

acq="$(synth_acquisition "$WORK/a" --frames 3 --width 320 --height 240 --seed 7)"
start_serve --workers 0 --worker-processes 1
token_file="$STATE/token"
[ -f "$token_file" ] || fail "serve made no token file"
[ "$(stat -c %a "$token_file")" = 600 ] || fail "token file mode $(stat -c %a "$token_file")"
token="$(cat "$token_file")"
[[ "$token" =~ ^[0-9a-f]{64}$ ]] || fail "token is not 64 hex digits"

"$TOOLS/gate_probe" "$SERVE_ADDR" "$token_file" > "$WORK/probe.txt" 2>&1 \
  || { cat "$WORK/probe.txt" >&2; fail "something answered without the token"; }
[ "$(grep -c 'refused: ' "$WORK/probe.txt")" -ge 7 ] || fail "probe: $(cat "$WORK/probe.txt")"
grep -q 'hello with a wrong token: refused: .*not_authorized' "$WORK/probe.txt" \
  || fail "a wrong token is not refused as not_authorized: $(cat "$WORK/probe.txt")"
grep -q 'hello with the token: admitted' "$WORK/probe.txt" || fail "the token was not admitted"

# ctl: a wrong token, a missing file, a file others may read.
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$WORK/wrong"
chmod 600 "$WORK/wrong"
set +e
"$SEGFLOW" ctl --connect "$SERVE_ADDR" --token "$WORK/wrong" list > /dev/null 2> "$WORK/e1"
rc1=$?
"$SEGFLOW" ctl --connect "$SERVE_ADDR" --token "$WORK/missing" list > /dev/null 2> "$WORK/e2"
rc2=$?
cp "$token_file" "$WORK/open"
chmod 644 "$WORK/open"
"$SEGFLOW" ctl --connect "$SERVE_ADDR" --token "$WORK/open" list > /dev/null 2> "$WORK/e3"
rc3=$?
set -e
[ "$rc1" -eq 2 ] && grep -q "refused the token" "$WORK/e1" || fail "wrong token: rc $rc1 $(cat "$WORK/e1")"
[ "$rc2" -eq 2 ] && grep -q "$WORK/missing" "$WORK/e2" || fail "missing token: rc $rc2 $(cat "$WORK/e2")"
[ "$rc3" -eq 2 ] && grep -q "chmod 600" "$WORK/e3" || fail "open token file: rc $rc3 $(cat "$WORK/e3")"
grep -q "gatekeeper_refused role=control" "$SERVE_LOG" || fail "refusals are not logged"

# The right token: ctl and the worker process work.
ctl add "$acq" > /dev/null
wait_for 120 state_in 1 done failed || fail "job 1 did not finish"
state_is 1 done || fail "job 1 ended $(field 1 state): $(field 1 error)"
grep -q worker_process_joined "$SERVE_LOG" || fail "the worker process did not join"

# Kept across a restart; never in the log.
stop_serve TERM
start_serve --workers 1
[ "$(cat "$token_file")" = "$token" ] || fail "the token changed on restart"
ctl list > /dev/null || fail "ctl after restart"
stop_serve TERM
! grep -qF "$token" "$WORK"/serve*.err "$WORK"/serve*.out || fail "the token is in serve's output"
echo "ok: gatekeeper admits only the token"
