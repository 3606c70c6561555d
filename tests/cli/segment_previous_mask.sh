# segmentation.remove_previous_mask in the parallel pipeline (SPEC §3.2, with
# per-job state). On a synthetic acquisition with particles stuck on the
# flow cell and bad frames:
# - with 1 and with 2 workers, every frame's objects (bbox, area) equal those
#   of a sequential loop over the kernels (previous_mask_oracle);
# - the option removes the stuck particles from every frame after their
#   first, also across a bad frame (the nearest usable earlier frame gives the
#   previous mask), but not after 3 unusable frames in a row (no previous
#   mask then); without the option they stay in every frame;
# - a run interrupted with the option on and resumed equals an uninterrupted
#   one.
source "$(dirname "$0")/lib.bash"
ORACLE="$TOOLS/previous_mask_oracle"
on=(--profile planktoscope --set segmentation.remove_previous_mask=true)

# Files in name order: good frames 0-9, then synth's 5 faults each followed
# by a good frame (10..14), then 15. Good frames 13 and 14 are truncated too,
# so frame 15 follows 14 (bad), the half-size fault and 13 (bad); frame 11
# follows one bad file, then frame 10.
acq="$(synth_acquisition "$WORK/base" --frames 16 --objects 10 --seed 21 --stuck 2 --bad)"
"$ORACLE" --stuck "$WORK/base/ground_truth.json" > "$WORK/stuck.txt"
[ "$(awk '$1 == 10' "$WORK/stuck.txt" | wc -l)" -eq 2 ] || fail "synth placed no 2 stuck particles"
for i in 13 14; do
  f="$acq/$(awk -v i=$i '$1 == i { print $2 ".jpg"; exit }' "$WORK/stuck.txt")"
  truncate -s $(($(stat -c %s "$f") / 2)) "$f"
done
"$ORACLE" "$acq" | sort > "$WORK/oracle.txt"
[ -s "$WORK/oracle.txt" ] || fail "the oracle found no object"

# copy_run NAME SEGFLOW_ARGS...: segments a copy of the acquisition (exit
# code 1: the bad frames fail) and prints its objects as the oracle does.
copy_run() {
  local name="$1"
  shift
  cp -a "$WORK/base" "$WORK/$name"
  expect_rc 1 "$SEGFLOW" segment "$@" "$WORK/$name/${acq#"$WORK/base/"}" > "$WORK/$name.out" 2>&1
  tsv_objects "$(tsv_of "$WORK/$name")" > "$WORK/$name.txt"
}

# presence RUN: for each stuck particle of each frame, "<frame index> P" if
# an object of RUN's output covers it (bbox IoU > 0.5), else "<index> A".
presence() {
  awk -F'\t' 'FNR == NR { n = split($1, p, "_"); s = substr($1, 1, length($1) - length(p[n]) - 1)
                          obj[s] = obj[s] " " $2 "," $3 "," $4 "," $5; next }
    { split(obj[$2], boxes, " "); hit = "A"
      for (b in boxes) { split(boxes[b], o, ",")
        ix = (o[1] + o[3] < $3 + $5 ? o[1] + o[3] : $3 + $5) - (o[1] > $3 ? o[1] : $3)
        iy = (o[2] + o[4] < $4 + $6 ? o[2] + o[4] : $4 + $6) - (o[2] > $4 ? o[2] : $4)
        if (ix > 0 && iy > 0 && ix * iy > 0.5 * (o[3] * o[4] + $5 * $6 - ix * iy)) hit = "P" }
      print $1, hit }' "$WORK/$1.txt" "$WORK/stuck.txt"
}

copy_run on1 --workers 1 "${on[@]}"
copy_run on2 --workers 2 "${on[@]}"
copy_run off --workers 2 --profile planktoscope
grep -q "remove_previous_mask" "$WORK/on1.out" && fail "remove_previous_mask still warned about"
diff "$WORK/oracle.txt" "$WORK/on1.txt" > "$WORK/d1.txt" \
  || fail "1 worker differs from the sequential oracle: $(head -5 "$WORK/d1.txt")"
diff "$WORK/oracle.txt" "$WORK/on2.txt" > "$WORK/d2.txt" \
  || fail "2 workers differ from the sequential oracle: $(head -5 "$WORK/d2.txt")"
! cmp -s "$WORK/on2.txt" "$WORK/off.txt" || fail "remove_previous_mask changed nothing"

# Stuck particles: frames 13 and 14 are bad (no objects either way).
presence off > "$WORK/off.presence"
awk '{ print $1, ($1 == 13 || $1 == 14) ? "A" : "P" }' "$WORK/stuck.txt" > "$WORK/want.off"
diff "$WORK/want.off" "$WORK/off.presence" || fail "without the option a stuck particle is missed"
presence on2 > "$WORK/on.presence"
awk '{ print $1, ($1 == 10 || $1 == 15) ? "P" : "A" }' "$WORK/stuck.txt" > "$WORK/want.on"
diff "$WORK/want.on" "$WORK/on.presence" \
  || fail "with the option, stuck particles must stay only in frame 10 (first) and 15 (3 unusable before)"

# Interrupted after frame 12 (where the stuck particles are removed), resumed
# with another worker count, equal to an uninterrupted run.
args=(--frames 40 --width 2028 --height 1520 --objects 20 --seed 7 --stuck 2)
acq="$(synth_acquisition "$WORK/a" "${args[@]}")"
clean="$(synth_acquisition "$WORK/b" "${args[@]}")"
records="$WORK/a/objects/$(realpath --relative-to="$WORK/a/img" "$acq")/.segflow/frames"
committed() { [ "$(ls "$records" 2>/dev/null | grep -c '\.jsonl$')" -ge 12 ]; }
# Frame 20 is held 10 s so the stop always lands while the job runs, however
# loaded the machine (without it a fast run could end before the signal).
frame20="$(ls "$acq" | grep 'jpg$' | sed -n 20p)"
SEGFLOW_TEST_FAULT="sleep=10@$frame20" \
  "$SEGFLOW" segment --workers 1 "${on[@]}" "$acq" > "$WORK/run1.txt" 2> "$WORK/run1.err" &
pid=$!
CHILDREN+=("$pid")
wait_for 300 committed || fail "12 frames not committed in time"
signal_and_wait INT "$pid"
[ "$rc" -eq 3 ] || fail "interrupted run: expected exit code 3, got $rc"
n=$(ls "$records" | grep -c '\.jsonl$')
[ "$n" -lt 40 ] || fail "all 40 frames committed before the stop took effect"
echo "interrupted after $n committed frames"
"$SEGFLOW" segment --workers 2 "${on[@]}" "$acq" > "$WORK/run2.txt" || fail "resume failed"
"$SEGFLOW" segment --workers 1 "${on[@]}" "$clean" > "$WORK/clean.txt" || fail "clean run failed"
"$TOOLS/tsv_compare" "$(tsv_of "$WORK/a")" "$(tsv_of "$WORK/b")" --rel-tol 0 \
  --ignore process_datetime --ignore process_uuid --ignore process_id \
  || fail "resumed output differs from an uninterrupted run"
diff_outputs "$WORK/a/objects" "$WORK/b/objects" \
  || fail "resumed crops differ from an uninterrupted run"
echo "segment_previous_mask: ok"
