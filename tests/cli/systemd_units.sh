# The systemd units of tools/systemd: `systemd-analyze verify` accepts each
# (with ExecStart pointed at the built segflow, which must exist for verify),
# each runs segflow with options segflow accepts (`--help` of the same
# command line parses), and each keeps below the imager: Restart=on-failure,
# a MemoryMax, CPUWeight < 100 and Nice > 0 (the imager's unit runs at the
# defaults, 100 and 0).
source "$(dirname "$0")/lib.bash"

command -v systemd-analyze > /dev/null || fail "systemd-analyze is not installed (systemd)"
units_dir="$(cd "$(dirname "$0")/../../tools/systemd" && pwd)"
units=("$units_dir"/*.service)
[ -f "${units[0]}" ] || fail "no units in $units_dir"
mkdir -p "$WORK/units"
for unit in "${units[@]}"; do
  name="$(basename "$unit")"
  sed "s|/usr/bin/segflow|$(realpath "$SEGFLOW")|" "$unit" > "$WORK/units/$name"
  # verify resolves dependencies: names the unit does not ship are not ours
  # to check, and User=pi may not exist here.
  set +e
  out="$(cd "$WORK/units" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no \
    "$WORK/units/$name" 2>&1)"
  set -e
  echo "$out" | grep -v -e 'nodered.service' -e 'mosquitto.service' \
    -e 'planktoscope-org.segmenter.service' -e "User=pi\|user 'pi'\|group 'pi'" \
    -e '^$' > "$WORK/verify.txt" || true
  if [ -s "$WORK/verify.txt" ]; then
    cat "$WORK/verify.txt" >&2
    fail "systemd-analyze verify: $name"
  fi
  grep -qx 'Restart=on-failure' "$unit" || fail "$name: no Restart=on-failure"
  grep -q '^MemoryMax=' "$unit" || fail "$name: no MemoryMax"
  weight="$(sed -n 's/^CPUWeight=//p' "$unit")"
  nice="$(sed -n 's/^Nice=//p' "$unit")"
  [ -n "$weight" ] && [ "$weight" -lt 100 ] || fail "$name: CPUWeight '$weight' not below the imager's 100"
  [ -n "$nice" ] && [ "$nice" -gt 0 ] || fail "$name: Nice '$nice' not above the imager's 0"
  grep -q '^Wants=mosquitto.service' "$unit" || fail "$name: does not want mosquitto"
  grep -q '^User=pi' "$unit" || fail "$name: not User=pi"
  # The command line parses: the same words plus --help exit 0.
  cmd="$(sed -n 's/^ExecStart=//p' "$unit")"
  read -r -a words <<< "$cmd"
  "$SEGFLOW" "${words[@]:1}" --help > "$WORK/help.txt" \
    || fail "$name: segflow refuses its ExecStart options"
done
echo "systemd_units: ok (${#units[@]} units)"
