# segment --follow: an acquisition written frame by frame while segment
# follows it (frames listed in integrity.check once whole) ends after
# pipeline.follow_idle_s without a new frame, with the objects of a run on
# the finished folder. A frame that sorts before frames already segmented
# fails the job with a clear reason.
source "$(dirname "$0")/serve_lib.bash"

src="$(synth_acquisition "$WORK/src" --frames 14 --objects 6 --seed 51)"
ref="$(synth_acquisition "$WORK/ref" --frames 14 --objects 6 --seed 51)"
frames=($(ls "$src" | grep 'jpg$' | LC_ALL=C sort))
live="$WORK/d/img/$(realpath --relative-to="$WORK/src/img" "$src")"
mkdir -p "$live"
cp "$src/metadata.json" "$live/"
printf '# planktoscope integrity file, see https://www.planktoscope.org\n# filename,size,sha1\n' \
  > "$live/integrity.check"
add_frame() {
  cp "$src/$1" "$live/$1"
  echo "$1,$(stat -c %s "$live/$1"),0" >> "$live/integrity.check"
}
add_frame "${frames[0]}"
"$SEGFLOW" segment --follow --set pipeline.follow_idle_s=2 --workers 2 "$live" \
  > "$WORK/follow.out" 2> "$WORK/follow.err" &
pid=$!
CHILDREN+=("$pid")
for f in "${frames[@]:1}"; do
  sleep 0.2
  add_frame "$f"
done
set +e
wait "$pid"
rc=$?
set -e
[ "$rc" -eq 0 ] || { cat "$WORK/follow.err" >&2; fail "segment --follow exited $rc"; }
grep -q 'follow_idle' "$WORK/follow.err" || fail "the job did not end by the idle timeout"
[ -f "$live/done.txt" ] || fail "no done.txt"
"$SEGFLOW" segment --workers 1 "$ref" > "$WORK/ref.out" 2>&1 || fail "segment of the finished folder failed"
same_outputs "$WORK/d" "$WORK/ref" "followed acquisition"

# A frame out of name order: the job fails naming it.
live2="$WORK/e/img/x/s/a"
mkdir -p "$live2"
cp "$src/metadata.json" "$live2/"
printf '# h\n# filename,size,sha1\n' > "$live2/integrity.check"
for f in "${frames[@]:1:11}"; do
  cp "$src/$f" "$live2/$f"
  echo "$f,$(stat -c %s "$live2/$f"),0" >> "$live2/integrity.check"
done
"$SEGFLOW" segment --follow --set pipeline.follow_idle_s=3 --workers 1 "$live2" \
  > "$WORK/order.out" 2> "$WORK/order.err" &
pid=$!
CHILDREN+=("$pid")
wait_for 30 grep -q 'frame_done\|flat_ready' "$WORK/order.err" || true
cp "$src/${frames[0]}" "$live2/"
echo "${frames[0]},$(stat -c %s "$live2/${frames[0]}"),0" >> "$live2/integrity.check"
set +e
wait "$pid"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "a frame out of order: exit $rc, want 1"
grep -q "frame ${frames[0]} appeared after .* but sorts before it" "$WORK/order.err" "$WORK/order.out" \
  || fail "no clear reason for the frame out of order"
[ ! -f "$live2/done.txt" ] || fail "done.txt despite the failure"
echo "segment_follow: ok"
