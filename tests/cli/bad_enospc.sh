# A disk that fills up mid-run fails the job cleanly: exit code 1, no zip, no
# done.txt, the committed frames' records kept; the queue goes on to the next
# acquisition; a rerun with space resumes and gives the output of a run that
# never failed. The full disk is a small tmpfs mounted on the outputs folder
# (root). Without mount rights a write failure is injected instead: a
# directory where the 15th frame's first crop goes makes its commit fail
# (EISDIR rather than ENOSPC, the same error path; ulimit -f cannot serve, it
# also stops the flat field's shared memory). The disk preflight refuses the
# tmpfs run before it starts, unless --force-run.
source "$(dirname "$0")/lib.bash"

args=(--frames 30 --width 1014 --height 760 --objects 10 --seed 21)
acq="$(synth_acquisition "$WORK/a" "${args[@]}")"
ref="$(synth_acquisition "$WORK/ref" "${args[@]}")"
other="$(synth_acquisition "$WORK/other" --frames 3 --width 400 --height 300 --objects 2 --seed 2)"
objects="$WORK/a/objects/${acq#"$WORK/a/img/"}"
records="$WORK/a/objects/${acq#"$WORK/a/img/"}/.segflow/frames"

mounted=0
mkdir -p "$WORK/a/objects"
if mount -t tmpfs -o size=400k segflow-test "$WORK/a/objects" 2> /dev/null; then
  mounted=1
  unmount() { umount "$WORK/a/objects" 2> /dev/null || true; }
  trap 'unmount; cleanup' EXIT
  echo "full disk: 400 KiB tmpfs"
  # The preflight sees 400 KiB free and refuses before anything starts.
  set +e
  "$SEGFLOW" segment --workers 2 "$acq" > "$WORK/pre.txt" 2>&1
  rc=$?
  set -e
  [ "$rc" -eq 2 ] || fail "preflight: expected exit code 2, got $rc"
  grep -q "not enough disk space" "$WORK/pre.txt" || fail "preflight does not explain"
  grep -q -- "--force-run" "$WORK/pre.txt" || fail "preflight does not name the fix"
  [ -z "$(ls -A "$WORK/a/objects")" ] || fail "preflight refused but something was written"
  run_full() { "$SEGFLOW" segment --workers 2 --force-run "$acq" "$other"; }
else
  echo "full disk: cannot mount a tmpfs here, injecting a write failure"
  frame15="$(ls "$acq" | grep 'jpg$' | sed -n 15p)"
  block="$objects/synth-21_$(basename "$acq")_${frame15%.jpg}_0.jpg"
  mkdir -p "$block/in-the-way"
  run_full() { "$SEGFLOW" segment --workers 2 "$acq" "$other"; }
fi

set +e
run_full > "$WORK/full.txt" 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "full disk: expected exit code 1, got $rc: $(tail -20 "$WORK/full.txt")"
grep -E -q "commit: .*(No space left on device|Is a directory)" "$WORK/full.txt" \
  || fail "the write error is not reported"
sed -n '/^summary/,/^stages/p' "$WORK/full.txt" | grep -A1 -F "$(basename "$acq")" | grep -q failed \
  || fail "the job did not end failed"
[ -z "$(find "$WORK/a/export" -name '*.zip' 2> /dev/null)" ] || fail "a zip was written"
[ -z "$(find "$WORK/a" -name '.*.tmp-*' 2> /dev/null)" ] || fail "temporary files left behind"
[ ! -f "$acq/done.txt" ] || fail "done.txt written by a failed job"
[ -f "$other/done.txt" ] || fail "the queue did not go on to the next acquisition"
kept=$(ls "$records" 2> /dev/null | grep -c '\.jsonl$' || true)
echo "records kept after the failure: $kept"
[ "$kept" -ge 1 ] && [ "$kept" -lt 30 ] || fail "expected some, not all, frames committed: $kept"
if [ "$mounted" -eq 1 ]; then
  mount -o remount,size=256m "$WORK/a/objects" || fail "cannot grow the tmpfs"
else
  rm -r "$block"
fi

"$SEGFLOW" segment --workers 2 "$acq" > "$WORK/rerun.txt" 2>&1 \
  || fail "rerun with space failed: $(tail -20 "$WORK/rerun.txt")"
[ -f "$acq/done.txt" ] || fail "rerun wrote no done.txt"
grep -q "job_resumed job=[0-9]* committed=$kept " "$WORK/rerun.txt" \
  || fail "the rerun did not resume from the $kept committed frames"
"$SEGFLOW" segment --workers 2 "$ref" > "$WORK/ref.txt" 2>&1 || fail "reference run failed"
"$TOOLS/tsv_compare" "$(tsv_of "$WORK/a")" "$(tsv_of "$WORK/ref")" --rel-tol 0 \
  --ignore process_datetime --ignore process_uuid --ignore process_id \
  || fail "resumed output differs from a run that never failed"
diff_outputs "$WORK/a/objects" "$WORK/ref/objects" \
  || fail "resumed crops differ from a run that never failed"
echo "bad_enospc: ok"
