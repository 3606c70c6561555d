# The command line never aborts: an input that makes a subcommand throw is
# its message and exit code 2 (not an abort, 134), and `ctl --timeout`
# bounds the whole call: against a listener that accepts and never answers,
# `ctl --timeout 2 list` gives up with exit code 2 within 3 s.
source "$(dirname "$0")/serve_lib.bash"

# expect_error CMD...: exit code 2 and a line starting "error:" on stderr.
expect_error() {
  set +e
  "$@" > /dev/null 2> "$WORK/err.txt"
  local rc=$?
  set -e
  [ "$rc" -eq 2 ] || { cat "$WORK/err.txt" >&2; fail "expected exit code 2, got $rc: $*"; }
  grep -q '^error:' "$WORK/err.txt" || fail "no error message: $*"
}

expect_error "$SEGFLOW" segment ""
expect_error "$SEGFLOW" segment --recursive ""

good="$(synth_acquisition "$WORK/a" --frames 2 --width 320 --height 240 --seed 5)"
start_serve --workers 1
ctl stop-queue > /dev/null
expect_error ctl add ""
expect_error ctl add "$good" ""
ctl list --json | jq -e '.jobs | length == 0' > /dev/null || fail "ctl add '' queued a job"
stop_serve TERM

# A listener that accepts every connection and never sends a byte.
python3 - "$WORK/port" > /dev/null 2>&1 <<'EOF' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
end = time.time() + 60
s.settimeout(1)
while time.time() < end:
    try:
        held.append(s.accept()[0])
    except socket.timeout:
        pass
EOF
CHILDREN+=("$!")
wait_for 10 test -s "$WORK/port" || fail "the silent listener did not start"
port="$(cat "$WORK/port")"

start_ns=$(date +%s%N)
set +e
timeout 30 "$SEGFLOW" ctl --connect "127.0.0.1:$port" --token "$STATE/token" --timeout 2 list 2> "$WORK/err.txt"
rc=$?
set -e
elapsed_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
[ "$rc" -eq 2 ] || fail "ctl against a silent listener: exit $rc after $elapsed_ms ms"
[ "$elapsed_ms" -lt 3000 ] || fail "ctl --timeout 2 took $elapsed_ms ms"
grep -q "127.0.0.1:$port" "$WORK/err.txt" || fail "the message does not name the address"
echo "ok: silent listener refused in $elapsed_ms ms"
