# `segflow bench` and `segment --summary-json` on a tiny synthetic
# acquisition: the JSON holds every field with plausible values (no timing
# assertion), the Markdown holds the tables, and the reference path reports
# where its numbers come from.
source "$(dirname "$0")/lib.bash"

frames=10
acq="$(synth_acquisition "$WORK/d" --frames "$frames" --width 512 --height 384 --objects 4 --seed 5)"

# number KEY FILE: the first scalar "KEY": value of a JSON file written with
# 2-space indentation (one key per line), empty if none.
number() {
  grep -m1 -E "\"$1\": -?[0-9]" "$2" | sed -E 's/.*": (-?[0-9.eE+-]+),?$/\1/'
}
# equals KEY FILE N: KEY's number is N (JSON doubles print as "12.0").
equals() {
  local v
  v="$(number "$1" "$2")"
  awk -v v="$v" -v n="$3" 'BEGIN { exit !(v != "" && v == n) }' || fail "$2: $1 = $v, expected $3"
}
positive() {
  local v
  v="$(number "$1" "$2")"
  [ -n "$v" ] || fail "$2: no number for $1"
  awk -v v="$v" 'BEGIN { exit !(v > 0) }' || fail "$2: $1 = $v, expected > 0"
}

# segment --summary-json: every job_summary field and the process's usage.
"$SEGFLOW" segment -q --workers 1 --summary-json "$WORK/summary.json" "$acq" > /dev/null \
  || fail "segment --summary-json failed"
s="$WORK/summary.json"
[ "$(number frames_done "$s")" -eq "$frames" ] || fail "summary: frames_done is not $frames"
[ "$(number frames_failed "$s")" -eq 0 ] || fail "summary: frames_failed is not 0"
grep -q '"state": "done"' "$s" || fail "summary: job state is not done"
for key in seconds objects decode_ms correct_ms mask_ms peak_rss_kb cpu_s minor_faults; do
  positive "$key" "$s"
done
for key in read_ms label_features_ms crops_ms commit_ms export_ms flat_ms worker_wait_ms \
           exporter_wait_ms frames_resumed zip objects_dir user_cpu_s system_cpu_s; do
  grep -q "\"$key\":" "$s" || fail "summary: no $key"
done

# Untiled, the text summary has no tiles' line; the JSON has the tile fields, 0.
for key in tiles tile_pixels tiled_frame_pixels tile_read_ms tile_segment_ms stitch_ms \
           stitch_wait_ms held_back_ms; do
  equals "$key" "$s" 0
done
"$SEGFLOW" segment --workers 1 --force "$acq" > "$WORK/untiled.out" 2>&1 \
  || fail "segment failed: $(tail -5 "$WORK/untiled.out")"
grep -q '^  job 1: read ' "$WORK/untiled.out" || fail "no stages line: $(cat "$WORK/untiled.out")"
! grep -q 'tiles ' "$WORK/untiled.out" || fail "an untiled run prints tiles"

# Tiled (4×3 tiles of 128×128 a frame): the tiles' numbers in both.
"$SEGFLOW" segment --workers 2 --force --tile-size 128x128 --summary-json "$WORK/tiled.json" \
  "$acq" > "$WORK/tiled.out" 2>&1 || fail "tiled segment failed: $(tail -5 "$WORK/tiled.out")"
t="$WORK/tiled.json"
equals tiles "$t" $((frames * 12))
equals tiled_frame_pixels "$t" $((frames * 512 * 384))
awk -v p="$(number tile_pixels "$t")" -v f="$((frames * 512 * 384))" 'BEGIN { exit !(p > f) }' \
  || fail "tiled summary: tile_pixels (halos included) not above the frames' pixels"
for key in tile_read_ms tile_segment_ms stitch_ms; do
  positive "$key" "$t"
done
for key in stitch_wait_ms held_back_ms; do
  grep -q "\"$key\": [0-9]" "$t" || fail "tiled summary: no number for $key"
done
grep -qE "^    tiles $((frames * 12)) \(pixel work [0-9.]+x the frames'\): read [0-9.]+, segment [0-9.]+, stitch [0-9.]+; stitcher waited [0-9.]+, workers held back [0-9.]+$" \
  "$WORK/tiled.out" || fail "no tiles' line in the text summary: $(cat "$WORK/tiled.out")"

# bench with one worker and no reference.
"$SEGFLOW" bench --workers-max 1 --repeat 1 --json "$WORK/bench.json" \
  --markdown "$WORK/bench.md" "$acq" > "$WORK/bench.out" 2> "$WORK/bench.err" \
  || { cat "$WORK/bench.err" >&2; fail "bench failed"; }
b="$WORK/bench.json"
[ "$(number workers "$b")" -eq 1 ] || fail "bench: workers is not 1"
[ "$(number runs_ok "$b")" -eq 1 ] || fail "bench: runs_ok is not 1"
[ "$(number frames "$b")" -eq "$frames" ] || fail "bench: frames is not $frames"
for key in frames_per_second objects_per_second frames_per_second_excl_flat flat_ms job_s \
           cpu_s cpu_percent peak_rss_mb decode_floor_fps decode_floor_with_read_fps \
           percent_of_decode_floor decode_ms correct_ms compute_ms \
           bench_process_peak_rss_mb megapixels; do
  positive "$key" "$b"
done
grep -q '"source": "none"' "$b" || fail "bench: reference source is not none"
grep -q '"ratio_vs_reference": null' "$b" || fail "bench: a ratio without a reference"
grep -q '| workers | frames/s |' "$WORK/bench.md" || fail "bench: no throughput table"
grep -q "^| $(basename "$acq") | 512×384" "$WORK/bench.md" || fail "bench: no row for the acquisition"
cmp -s "$WORK/bench.md" "$WORK/bench.out" || fail "bench: --markdown differs from stdout"
! grep -q 'Tiled frames' "$WORK/bench.md" || fail "bench: a tiles table for untiled runs"
equals tiles_per_frame "$b" 0

# A tiled bench: the tiles' table, with its numbers per frame.
"$SEGFLOW" bench --workers-max 1 --repeat 1 --set tiling.max_frame_pixels=0 \
  --set tiling.tile_width=128 --set tiling.tile_height=128 --json "$WORK/tb.json" \
  --markdown "$WORK/tb.md" "$acq" > /dev/null 2> "$WORK/tb.err" \
  || { cat "$WORK/tb.err" >&2; fail "tiled bench failed"; }
equals tiles_per_frame "$WORK/tb.json" 12
for key in pixel_work tile_read_ms_per_frame tile_segment_ms_per_frame stitch_ms_per_frame; do
  positive "$key" "$WORK/tb.json"
done
grep -q '| acquisition | workers | tiles/frame | pixel work | read into shm |' "$WORK/tb.md" \
  || fail "tiled bench: no tiles table: $(cat "$WORK/tb.md")"
grep -qE "^\| $(basename "$acq") \| 1 \| 12\.0 \| 1\.[0-9]{3}× \|" "$WORK/tb.md" \
  || fail "tiled bench: no tiles row for the acquisition"

# A recorded timing of other frames is refused, not mixed in.
printf '{"per_image":[{"image":"x.jpg","objects":1,"seconds":1}],"wall_seconds":1}\n' \
  > "$WORK/timing.json"
"$SEGFLOW" bench --workers-max 1 --repeat 1 --reference-timing "$WORK/timing.json" \
  --json "$WORK/b2.json" "$acq" > /dev/null 2>&1 || fail "bench with a foreign timing failed"
grep -q '"source": "none"' "$WORK/b2.json" || fail "a timing of other frames was used"
grep -q 'is about other frames' "$WORK/b2.json" || fail "no reason for ignoring the timing"

# A matching recorded timing is used and labelled as recorded.
{
  printf '{"per_image":['
  sep=""
  for f in $(cd "$acq" && ls ./*.jpg | sed 's|^\./||' | LC_ALL=C sort); do
    printf '%s{"image":"%s","objects":2,"seconds":0.5}' "$sep" "$f"
    sep=","
  done
  printf '],"total_objects":%d,"wall_seconds":%d,"images_per_second":0.5}\n' \
    $((2 * frames)) $((2 * frames))
} > "$WORK/timing.json"
"$SEGFLOW" bench --workers-max 1 --repeat 1 --reference-timing "$WORK/timing.json" \
  --json "$WORK/b3.json" --markdown "$WORK/b3.md" "$acq" > /dev/null 2>&1 \
  || fail "bench with a recorded timing failed"
grep -q '"source": "recorded"' "$WORK/b3.json" || fail "recorded timing not used"
grep -q '"reference_source": "recorded"' "$WORK/b3.json" || fail "ratio not labelled recorded"
grep -q 'not measured in this run' "$WORK/b3.md" || fail "markdown does not say recorded"
ratio="$(number ratio_vs_reference "$WORK/b3.json")"
fps="$(number frames_per_second "$WORK/b3.json")"
awk -v r="$ratio" -v f="$fps" 'BEGIN { exit !(r > 0 && (r - f / 0.5) ^ 2 < 1e-6 * r * r) }' \
  || fail "ratio $ratio is not frames/s $fps / 0.5"

# The reference path, against a stand-in checkout that only publishes the
# statuses the reference publishes (no reference code is run here).
if /usr/bin/python3 -c "import cv2, skimage, pandas" 2> /dev/null; then
  pkg="$WORK/checkout/segmenter/planktoscope/segmenter"
  mkdir -p "$pkg"
  : > "$WORK/checkout/segmenter/planktoscope/__init__.py"
  cat > "$pkg/__init__.py" <<'EOF'
import json, os, time
class SegmenterProcess:
    def __init__(self, event, data_path):
        self.data_path = data_path
    def segment_list(self, paths, force=False, ecotaxa_export=True):
        pub = self.segmenter_client.client.publish
        for p in paths:
            assert p.startswith(os.path.join(self.data_path, "img")), p
            frames = sorted(f for f in os.listdir(p) if f.endswith("jpg"))
            pub("status/segmenter", '{"status":"Calculating flat"}')
            time.sleep(0.05)
            for i, f in enumerate(frames):
                pub("status/segmenter", json.dumps(
                    {"status": f"Segmenting image {f}, image {i + 1}/{len(frames)}"}))
                pub("status/segmenter/object_id", '{"object_id":"%d"}' % i)
                time.sleep(0.02)
            open(os.path.join(p, "done.txt"), "w").write("stand-in")
        pub("status/segmenter", '{"status":"Done"}')
EOF
  "$SEGFLOW" bench --workers-max 1 --repeat 1 --reference-checkout "$WORK/checkout" \
    --json "$WORK/b4.json" "$acq" > /dev/null 2> "$WORK/b4.err" \
    || { cat "$WORK/b4.err" >&2; fail "bench with a reference checkout failed"; }
  grep -q '"source": "measured"' "$WORK/b4.json" || fail "reference not measured"
  grep -q '"reference_source": "measured"' "$WORK/b4.json" || fail "ratio not labelled"
  # The stand-in saw every frame once and one object per frame.
  sed -n '/"reference"/,/}/p' "$WORK/b4.json" > "$WORK/ref.json"
  [ "$(number frames "$WORK/ref.json")" -eq "$frames" ] || fail "reference frames"
  [ "$(number objects "$WORK/ref.json")" -eq "$frames" ] || fail "reference objects"
  positive flat_s "$WORK/ref.json"
  positive peak_rss_mb "$WORK/ref.json"
else
  echo "bench_smoke: /usr/bin/python3 lacks cv2/skimage/pandas: reference path not run"
  "$SEGFLOW" bench --workers-max 1 --repeat 1 --reference-checkout "$WORK" \
    --json "$WORK/b4.json" "$acq" > /dev/null 2>&1 || fail "bench without python deps failed"
  grep -q 'cannot import cv2, skimage and pandas' "$WORK/b4.json" \
    || fail "missing python modules not reported"
fi

expect_rc 2 "$SEGFLOW" bench --repeat 0 "$acq"
expect_rc 2 "$SEGFLOW" bench "$WORK/no-such-acquisition"
echo "bench_smoke: ok"
