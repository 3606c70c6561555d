#!/usr/bin/env bash
# Randomised crash trials of the durability invariants (issue: the lock
# manager's journal). Each trial segments a fresh copy of one small synthetic
# acquisition and kills it: half the trials with kill -9 at a uniformly
# random moment of a `segment` run (0 .. the length of an uninterrupted run),
# the others inside an export step forced by the test fault hook
# (SEGFLOW_TEST_FAULT=abort@export:begin|written|done). Right after the kill:
# an archive or done.txt that exists must be complete (the archive passes
# validate-ecotaxa, done.txt only with its archive), and every operation
# whose outputs are still locked must be listed by `ops stuck`. Then the same
# command runs again (resuming, and recovering a dead holder's export by
# itself) and the outputs must equal an uninterrupted run's: 0 objects lost,
# 0 duplicated (TSV object ids), 0 orphan crops (crop files = TSV rows), 0
# temporary files, 0 locks, and `ops stuck` lists nothing.
#
# usage: tools/bench/crash_trials.sh N SEGFLOW OUT_DIR
#   N        trials (CI: 20; by hand: 300)
#   SEGFLOW  the segflow executable
#   OUT_DIR  scratch folder (emptied); trials.txt lists every outcome
# Exit code 0 if every trial kept every invariant.
set -euo pipefail
ulimit -c 0 # the fault hook aborts: no core files
N="$1"
SEGFLOW="$(realpath "$2")"
OUT="$3"
rm -rf "$OUT"
mkdir -p "$OUT"
args=(--frames 8 --width 800 --height 600 --objects 8 --seed 31)
points=(export:begin export:written export:done)

fail_trial() {
  echo "trial $1 ($2): FAIL: $3" | tee -a "$OUT/trials.txt"
  failures=$((failures + 1))
}

ids_of() { # the object ids of the TSV under $1/objects, sorted
  local tsv
  tsv="$(find "$1/objects" -name 'ecotaxa_*.tsv' 2> /dev/null | head -1 || true)"
  [ -n "$tsv" ] || return 0
  awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "object_id") c = i; next }
              NR > 2 && c { print $c }' "$tsv" | sort
}

# The reference: an uninterrupted run, and how long it takes.
"$SEGFLOW" synth --out "$OUT/ref" "${args[@]}" > /dev/null
ref_acq="$(find "$OUT/ref/img" -name metadata.json -printf '%h\n' | head -1)"
t0=$(date +%s%N)
"$SEGFLOW" segment --workers 1 --state "$OUT/ref-state" "$ref_acq" > "$OUT/ref.txt" 2>&1
run_ms=$((($(date +%s%N) - t0) / 1000000))
ids_of "$OUT/ref" > "$OUT/ref-ids.txt"
objects="$(wc -l < "$OUT/ref-ids.txt")"
echo "reference: $objects objects, ${run_ms} ms uninterrupted" | tee "$OUT/trials.txt"

failures=0
for trial in $(seq 1 "$N"); do
  dir="$OUT/t"
  rm -rf "$dir"
  "$SEGFLOW" synth --out "$dir" "${args[@]}" > /dev/null
  acq="$(find "$dir/img" -name metadata.json -printf '%h\n' | head -1)"
  state="$dir/state"
  if [ $((RANDOM % 2)) -eq 0 ]; then
    at=$(( (RANDOM * 32768 + RANDOM) % (run_ms + 1) ))
    kind="kill -9 at ${at} ms"
    "$SEGFLOW" segment --workers 1 --state "$state" "$acq" > "$dir/run1.txt" 2>&1 &
    pid=$!
    sleep "$(printf '%d.%03d' $((at / 1000)) $((at % 1000)))"
    kill -9 "$pid" 2> /dev/null || true
    wait "$pid" 2> /dev/null || true
  else
    point="${points[$((RANDOM % 3))]}"
    kind="abort at $point"
    SEGFLOW_TEST_FAULT="abort@$point" \
      "$SEGFLOW" segment --workers 1 --state "$state" "$acq" > "$dir/run1.txt" 2>&1 || true
  fi
  # Right after the crash.
  zip="$(find "$dir/export" -name '*.zip' 2> /dev/null | head -1 || true)"
  if [ -n "$zip" ] && ! "$SEGFLOW" validate-ecotaxa "$zip" > "$dir/validate.txt" 2>&1; then
    fail_trial "$trial" "$kind" "an incomplete archive exists"; continue
  fi
  if [ -f "$acq/done.txt" ] && [ -z "$zip" ]; then
    fail_trial "$trial" "$kind" "done.txt without its archive"; continue
  fi
  locked="$(find "$dir" -name '*segflow.lock' -exec grep -l '"indefinite": true' {} + 2> /dev/null \
    | xargs -r grep -h '"op"' | sed 's/.*"op": "\([^"]*\)".*/\1/' | sort -u || true)"
  listed="$("$SEGFLOW" ops stuck --state "$state" --min-age 0 --json \
    | python3 -c 'import json,sys; print("\n".join(sorted(o["id"] for o in json.load(sys.stdin))))')"
  for op in $locked; do
    grep -qx "$op" <<< "$listed" || { fail_trial "$trial" "$kind" "locked $op not listed"; continue 2; }
  done
  stuck=$(grep -c . <<< "$listed" || true)
  # Restart: resume and recover.
  if ! "$SEGFLOW" segment --workers 1 --state "$state" "$acq" > "$dir/run2.txt" 2>&1; then
    fail_trial "$trial" "$kind" "the restart failed: $(tail -3 "$dir/run2.txt" | tr '\n' ' ')"; continue
  fi
  ids_of "$dir" > "$dir/ids.txt"
  lost=$(comm -23 "$OUT/ref-ids.txt" "$dir/ids.txt" | wc -l)
  dup=$(uniq -d "$dir/ids.txt" | wc -l)
  rows=$(wc -l < "$dir/ids.txt")
  crops=$(find "$dir/objects" -name '*.jpg' -not -path '*/.segflow/*' | wc -l)
  temps=$(find "$dir" -name '.*.tmp-*' | wc -l)
  locks=$(find "$dir" -name '*segflow.lock' | wc -l)
  after=$("$SEGFLOW" ops stuck --state "$state" --min-age 0 --json \
    | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
  outcome="lost=$lost duplicated=$dup rows=$rows orphan_crops=$((crops - rows)) temps=$temps locks=$locks stuck_before=$stuck stuck_after=$after"
  if [ "$lost" -ne 0 ] || [ "$dup" -ne 0 ] || [ "$rows" -ne "$objects" ] || [ "$crops" -ne "$rows" ] \
     || [ "$temps" -ne 0 ] || [ "$locks" -ne 0 ] || [ "$after" -ne 0 ] || [ ! -f "$acq/done.txt" ]; then
    fail_trial "$trial" "$kind" "$outcome"; continue
  fi
  echo "trial $trial ($kind): ok $outcome" >> "$OUT/trials.txt"
done
echo "trials: $N, failed: $failures" | tee -a "$OUT/trials.txt"
[ "$failures" -eq 0 ]
