# Helpers of the serve/ctl tests (sourced by tests/cli/serve_*.sh; not a test
# itself). serve listens on a free port and prints it; tests read that line
# (rendezvous) and every wait has a timeout. lib.bash's trap kills serve.
source "$(dirname "$0")/lib.bash"

STATE="$WORK/state"
SERVE_PID=""
SERVE_ADDR=""
SERVE_LOG=""
SERVE_RC=""
SERVE_N=0

# start_serve ARGS...: starts serve on 127.0.0.1:0 with state dir $STATE,
# waits (30 s) for its "listening: HOST:PORT" line; sets SERVE_PID,
# SERVE_ADDR and SERVE_LOG (its stderr).
start_serve() {
  SERVE_N=$((SERVE_N + 1))
  local out="$WORK/serve$SERVE_N.out"
  SERVE_LOG="$WORK/serve$SERVE_N.err"
  "$SEGFLOW" serve --listen 127.0.0.1:0 --state "$STATE" "$@" > "$out" 2> "$SERVE_LOG" &
  SERVE_PID=$!
  CHILDREN+=("$SERVE_PID")
  if ! wait_for 30 grep -qs '^listening: ' "$out"; then
    cat "$SERVE_LOG" >&2
    fail "serve did not print its listening line within 30 s"
  fi
  SERVE_ADDR="$(sed -n 's/^listening: //p' "$out")"
}

# wait_exit PID SECONDS WHAT: waits for a child to exit; sets EXIT_RC.
wait_exit() {
  local end=$((SECONDS + $2))
  while kill -0 "$1" 2> /dev/null; do
    [ "$SECONDS" -lt "$end" ] || fail "$3 did not exit within $2 s"
    sleep 0.1
  done
  set +e
  wait "$1"
  EXIT_RC=$?
  set -e
}

# stop_serve SIGNAL: signals serve and waits for it (60 s); sets SERVE_RC.
stop_serve() {
  kill "-$1" "$SERVE_PID"
  wait_exit "$SERVE_PID" 60 "serve (SIG$1)"
  SERVE_RC=$EXIT_RC
}

# ctl ARGS...: segflow ctl against the running serve, with the token of its
# state directory (a function: to signal a background ctl, start "$SEGFLOW"
# ctl itself, not this).
ctl() {
  "$SEGFLOW" ctl --connect "$SERVE_ADDR" --token "$STATE/token" "$@"
}

# field ID NAME: one field of `ctl status ID --json`.
field() {
  ctl status "$1" --json | jq -r ".$2"
}

state_is() {
  [ "$(field "$1" state)" = "$2" ]
}

state_in() {
  local s
  s="$(field "$1" state)"
  shift
  for want in "$@"; do
    [ "$s" = "$want" ] && return 0
  done
  return 1
}

frames_at_least() {
  [ "$(field "$1" frames_done)" -ge "$2" ]
}

# pending_order: ids of pending jobs in queue order, space-separated.
pending_order() {
  ctl list --json | jq -r '[.jobs[] | select(.state == "pending") | .id] | join(" ")'
}

# records_of ROOT ACQ: number of committed frame records of ACQ (under data
# root ROOT).
records_of() {
  local dir
  dir="$1/objects/$(realpath --relative-to="$1/img" "$2")/.segflow/frames"
  ls "$dir" 2> /dev/null | grep -c '\.jsonl$' || true
}

# same_outputs ROOT_A ROOT_B WHAT: the TSVs (but for the run's time and uuid)
# and the crops of two data roots are identical.
same_outputs() {
  "$TOOLS/tsv_compare" "$(tsv_of "$1")" "$(tsv_of "$2")" --rel-tol 0 \
    --ignore process_datetime --ignore process_uuid --ignore process_id \
    || fail "$3: TSV differs from an uninterrupted run"
  diff_outputs "$1/objects" "$2/objects" \
    || fail "$3: crops differ from an uninterrupted run"
}
