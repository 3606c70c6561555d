# Helpers of the MQTT tests (sourced by tests/cli/mqtt_*.sh; not a test
# itself): a real mosquitto on a free loopback port with a generated config
# (anonymous, no persistence), mosquitto_sub recordings with timestamps, and
# the dashboard's view of every status. lib.bash's trap kills what they start.
source "$(dirname "$0")/serve_lib.bash"

command -v mosquitto > /dev/null || [ -x /usr/sbin/mosquitto ] \
  || fail "mosquitto is not installed (tools/setup.sh installs it)"
command -v mosquitto_sub > /dev/null || fail "mosquitto_sub is not installed (mosquitto-clients)"
MOSQUITTO="$(command -v mosquitto || echo /usr/sbin/mosquitto)"
BROKER_PORT=""
BROKER_PID=""
BROKER_N=0

# start_broker [PORT]: starts mosquitto on PORT, or on a free port (tries
# random ones until one binds); waits until it accepts clients.
start_broker() {
  local want="${1:-}" tries=0
  while :; do
    tries=$((tries + 1))
    [ "$tries" -le 20 ] || fail "mosquitto did not start on a free port in 20 tries"
    BROKER_PORT="${want:-$((20000 + RANDOM % 30000))}"
    BROKER_N=$((BROKER_N + 1))
    local conf="$WORK/mosquitto$BROKER_N.conf"
    printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n' \
      "$BROKER_PORT" > "$conf"
    "$MOSQUITTO" -c "$conf" 2> "$WORK/mosquitto$BROKER_N.log" &
    BROKER_PID=$!
    CHILDREN+=("$BROKER_PID")
    if wait_for 10 broker_up; then
      return 0
    fi
    kill -9 "$BROKER_PID" 2> /dev/null || true
    [ -z "$want" ] || { cat "$WORK/mosquitto$BROKER_N.log" >&2; fail "mosquitto did not start on port $want"; }
  done
}

broker_up() {
  kill -0 "$BROKER_PID" 2> /dev/null || return 1
  mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -t segflow-test/probe -m up 2> /dev/null
}

kill_broker() {
  kill -9 "$BROKER_PID" 2> /dev/null || true
  wait "$BROKER_PID" 2> /dev/null || true
}

# record FILE TOPIC...: records every message on TOPICs to FILE, one line
# each: "<unix time with ns> <topic> <payload>"; waits until the recorder is
# subscribed (a probe it must see); sets RECORD_PID.
record() {
  local file="$1"
  shift
  local args=()
  for t in "$@"; do args+=(-t "$t"); done
  mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -F '%U %t %p' -t segflow-test/ready \
    "${args[@]}" > "$file" 2> /dev/null &
  RECORD_PID=$!
  CHILDREN+=("$RECORD_PID")
  local i
  for i in $(seq 100); do
    mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -t segflow-test/ready -m ready 2> /dev/null || true
    grep -q ' segflow-test/ready ready$' "$file" && return 0
    sleep 0.05
  done
  fail "mosquitto_sub did not subscribe within 5 s"
}

# pub TOPIC PAYLOAD: one message to the broker.
pub() {
  mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -t "$1" -m "$2"
}

# statuses FILE: the status/segmenter payloads of a recording, in order.
statuses() {
  awk '$2 == "status/segmenter" { sub(/^[^ ]+ [^ ]+ /, ""); print }' "$1"
}

# has_status FILE TEXT: a status/segmenter payload equal to TEXT was recorded.
has_status() {
  statuses "$1" | grep -qxF "$2"
}

# count_status FILE TEXT: how many times TEXT was recorded.
count_status() {
  statuses "$1" | grep -cxF "$2" || true
}

# status_time FILE TEXT [N]: the arrival time of the Nth (default 1st) TEXT.
status_time() {
  awk -v want="$2" -v n="${3:-1}" '$2 == "status/segmenter" {
      p = $0; sub(/^[^ ]+ [^ ]+ /, "", p)
      if (p == want && ++seen == n) { print $1; exit }
    }' "$1"
}

# check_dashboard FILE: every status of the recording read by the dashboard's
# rules; each "Segmenting image F, image I/N" must show file F and I/N, each
# exception an error, each Done finished, every other status info.
check_dashboard() {
  statuses "$1" > "$WORK/dash.in"
  "$TOOLS/dashboard_view" < "$WORK/dash.in" > "$WORK/dash.out" \
    || fail "a status the dashboard cannot read (see above)"
  paste -d '\n' "$WORK/dash.in" "$WORK/dash.out" | while IFS= read -r payload && IFS= read -r view; do
    local status
    status="$(jq -r .status <<< "$payload")"
    case "$status" in
      "Segmenting image "*)
        local f i n
        f="$(sed -n 's/^Segmenting image \(.*\), image [0-9]*\/[0-9]*$/\1/p' <<< "$status")"
        i="$(sed -n 's/.*, image \([0-9]*\)\/[0-9]*$/\1/p' <<< "$status")"
        n="$(sed -n 's/.*, image [0-9]*\/\([0-9]*\)$/\1/p' <<< "$status")"
        [ "$view" = "$(printf 'progress\t%s\t%s\t%s' "$f" "$i" "$n")" ] \
          || fail "dashboard reads '$status' as '$view'" ;;
      "An exception was raised during the segmentation: "*)
        [ "$view" = "$(printf 'error\t%s' "$status")" ] || fail "dashboard reads '$status' as '$view'" ;;
      Done)
        [ "$view" = "$(printf 'finished\tDone')" ] || fail "dashboard reads Done as '$view'" ;;
      *)
        [ "$view" = "$(printf 'info\t%s' "$status")" ] || fail "dashboard reads '$status' as '$view'" ;;
    esac
  done
}

# wait_status SECONDS FILE TEXT [N]: waits for the Nth TEXT in the recording.
wait_status() {
  local want="${4:-1}"
  wait_for "$1" status_count_at_least "$2" "$3" "$want"
}

status_count_at_least() {
  [ "$(count_status "$1" "$2")" -ge "$3" ]
}

# start_mqtt_serve ARGS...: serve with the bridge on the test broker.
start_mqtt_serve() {
  start_serve --mqtt "127.0.0.1:$BROKER_PORT" "$@"
}
