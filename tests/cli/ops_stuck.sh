# An export killed (kill -9) while it writes leaves its operation stuck: its
# outputs locked indefinitely, listed by `ops stuck` (JSON: state, holder
# dead, scope), and a run that needs those outputs (from another state
# directory, where nothing recovers it) refuses, naming the operation and
# `ops recover`. `ops recover` cleans the scope and replays the export under
# the same operation id: the result equals an uninterrupted run (crops, TSV
# but its run time/uuid, the archive's entries); the operation is not listed
# after. A second recover refuses, and so does one whose lock was cleared by
# hand (touching nothing). A segment run started after such a crash recovers
# the export by itself (the holder is provably dead on this host).
source "$(dirname "$0")/lib.bash"

args=(--frames 6 --width 800 --height 600 --objects 6 --seed 16)
acq="$(synth_acquisition "$WORK/a" "${args[@]}")"
ref="$(synth_acquisition "$WORK/ref" "${args[@]}")"
state="$WORK/state"
log="$WORK/crash.txt"

# crash_export: a segment run that is killed -9 inside its export, after
# the archive and the TSV copy are written and before done.txt.
crash_export() {
  # The log of an earlier crash would end the wait below at once (the
  # background run truncates it only once it has started).
  rm -f "$log"
  SEGFLOW_TEST_FAULT="sleep=60@export:written" \
    "$SEGFLOW" segment --workers 1 --state "$state" "$acq" > "$log" 2>&1 &
  local pid=$!
  CHILDREN+=("$pid")
  wait_for 120 grep -qs "test_fault action=sleep" "$log" || fail "the export did not start"
  kill -9 "$pid"
  wait "$pid" || true
}

stuck_json() { "$SEGFLOW" ops stuck --state "$state" --min-age 0 --json; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

"$SEGFLOW" segment --workers 1 --state "$WORK/ref-state" --status-json \
  --summary-json "$WORK/ref-summary.json" "$ref" > "$WORK/ref.jsonl" 2> "$WORK/ref.txt" \
  || fail "uninterrupted run failed"
[ "$(ls "$WORK/ref-state/ops" | wc -l)" -eq 1 ] || fail "one operation journalled"
# Every status event of the run and its summary carry its operation id.
op="$(basename "$WORK/ref-state/ops/"*.json .json)"
[ "$(grep -c '"event"' "$WORK/ref.jsonl")" -ge 8 ] || fail "status events missing"
[ "$(grep '"event"' "$WORK/ref.jsonl" | grep -vc "\"op\":\"$op\"")" -eq 0 ] \
  || fail "a status event lacks the operation id $op: $(grep -v "$op" "$WORK/ref.jsonl" | head -2)"
[ "$(field 'd["jobs"][0]["op"]' < "$WORK/ref-summary.json")" = "$op" ] \
  || fail "the summary JSON lacks the operation id"
grep -q '"state": "success"' "$WORK/ref-state/ops/"*.json || fail "clean run not success"
"$SEGFLOW" ops stuck --state "$WORK/ref-state" --min-age 0 --json | field 'len(d)' \
  | grep -qx 0 || fail "a clean run is listed as stuck"
[ -z "$(find "$WORK/ref" -name '*segflow.lock')" ] || fail "a clean run left a lock"

crash_export
[ ! -f "$acq/done.txt" ] || fail "done.txt written by the killed export"
stuck_json > "$WORK/stuck.json"
[ "$(field 'len(d)' < "$WORK/stuck.json")" -eq 1 ] || fail "not listed: $(cat "$WORK/stuck.json")"
id="$(field 'd[0]["id"]' < "$WORK/stuck.json")"
[ "$(field 'd[0]["state"]' < "$WORK/stuck.json")" = write_started ] || fail "state"
[ "$(field 'd[0]["holder"]["state"]' < "$WORK/stuck.json")" = dead ] || fail "holder alive?"
field 'd[0]["scope"]["outputs"]' < "$WORK/stuck.json" | grep -q "done.txt" || fail "scope"
[ "$(field 'len(d[0]["scope"]["locks"])' < "$WORK/stuck.json")" -eq 2 ] || fail "locks"
"$SEGFLOW" ops stuck --state "$state" --min-age 0 | grep -q "segflow ops recover $id" \
  || fail "the text listing names no recover command"
# Younger than the default minimum age (10 min): not listed.
"$SEGFLOW" ops stuck --state "$state" --json | field 'len(d)' | grep -qx 0 \
  || fail "--min-age default not applied"

# A run from another state directory needs the locked outputs: refused.
set +e
"$SEGFLOW" segment --workers 1 --state "$WORK/other-state" "$acq" > "$WORK/refused.txt" 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "a job on a stuck export must fail, got $rc"
grep -q "ops recover $id" "$WORK/refused.txt" || fail "refusal does not name the recovery"

# Recover: same operation id, equal to the uninterrupted run.
"$SEGFLOW" ops recover "$id" --state "$state" > "$WORK/recover.txt" 2>&1 \
  || fail "recover failed: $(tail -5 "$WORK/recover.txt")"
grep -q "operation_recovering op=$id" "$WORK/recover.txt" || fail "not replayed under $id"
[ -f "$acq/done.txt" ] || fail "no done.txt after recover"
stuck_json | field 'len(d)' | grep -qx 0 || fail "still listed after recover"
[ -z "$(find "$WORK/a" -name '*segflow.lock' -o -name '.*.tmp-*')" ] || fail "locks or temp files left"
diff_outputs "$WORK/a/objects" "$WORK/ref/objects" || fail "crops differ"
"$TOOLS/tsv_compare" "$(tsv_of "$WORK/a")" "$(tsv_of "$WORK/ref")" --rel-tol 0 \
  --ignore process_datetime --ignore process_uuid --ignore process_id || fail "TSV differs"
zip_entries() {
  python3 - "$1" <<'PY'
import hashlib, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for n in sorted(z.namelist()):
        if not n.endswith(".tsv"):
            print(n, hashlib.sha256(z.read(n)).hexdigest())
PY
}
diff <(zip_entries "$(find "$WORK/a/export" -name '*.zip')") \
  <(zip_entries "$(find "$WORK/ref/export" -name '*.zip')") || fail "archive entries differ"

# A second recover refuses.
expect_rc 1 "$SEGFLOW" ops recover "$id" --state "$state"

# A lock cleared by hand: recover refuses and touches nothing.
rm "$acq/done.txt"
crash_export
id2="$(stuck_json | field 'd[0]["id"]')"
[ "$id2" != "$id" ] || fail "operation id reused"
rm "$WORK/a/objects/$(realpath --relative-to="$WORK/a/img" "$acq")/.export.segflow.lock"
before="$(find "$WORK/a" -type f | sort | xargs sha256sum)"
set +e
"$SEGFLOW" ops recover "$id2" --state "$state" > "$WORK/refuse2.txt" 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "recover with a lock cleared by hand must refuse"
grep -q "cleared by hand" "$WORK/refuse2.txt" || fail "refusal unclear: $(cat "$WORK/refuse2.txt")"
[ "$before" = "$(find "$WORK/a" -type f | sort | xargs sha256sum)" ] || fail "files touched"
find "$WORK/a" -name '*segflow.lock' -delete

# Automatic recovery at start: the holder is dead on this host.
rm -rf "$state"
crash_export
id3="$(stuck_json | field 'd[0]["id"]')"
"$SEGFLOW" segment --workers 1 --state "$state" "$acq" > "$WORK/auto.txt" 2>&1 \
  || fail "the run after the crash failed: $(tail -5 "$WORK/auto.txt")"
grep -q "operation_recover_automatic op=$id3" "$WORK/auto.txt" || fail "no automatic recovery"
[ -f "$acq/done.txt" ] || fail "no done.txt after automatic recovery"
stuck_json | field 'len(d)' | grep -qx 0 || fail "still listed after automatic recovery"
diff_outputs "$WORK/a/objects" "$WORK/ref/objects" || fail "crops differ after automatic recovery"
echo "ops_stuck: ok"
