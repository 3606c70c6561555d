# Golden traces (tests/golden): each replays to the same messages on a
# fresh synthetic copy of its inputs; a changed kernel parameter makes a
# serve golden's replay fail naming the first divergent message.
source "$(dirname "$0")/lib.bash"
GOLDEN="$(dirname "$0")/../golden"

# Golden traces: recorded once (tests/golden/record.sh), replayed forever on
# a fresh synthetic copy of their inputs (NAME.synth: one line of synth
# arguments per acquisition, all in one data root).
# GOLDEN_TRACES="clean tiled" replays only those (the arm64 smoke step under
# qemu, where each takes 20 times as long); the checks of the others are skipped.
# (Not SEGFLOW_...: segflow reads those as settings and refuses unknown ones.)
op_ids() { "$SEGFLOW" trace dump "$1" | grep -o '"op-[0-9TZ]*-[0-9a-f]*"' | sort -u; }
selected() { [ -z "${GOLDEN_TRACES:-}" ] || [[ " $GOLDEN_TRACES " == *" $1 "* ]]; }
replayed=()
for golden in "$GOLDEN"/*.trace; do
  name="$(basename "$golden" .trace)"
  selected "$name" || continue
  replayed+=("$name")
  while read -r args; do
    [ -n "$args" ] || continue
    # shellcheck disable=SC2086
    synth_acquisition "$WORK/g-$name" $args > /dev/null
  done < "$GOLDEN/$name.synth"
  "$SEGFLOW" replay --root "$WORK/g-$name" --keep "$WORK/g-$name.replay" "$golden" \
    > "$WORK/g-$name.txt" 2>&1 \
    || fail "golden trace $name diverged: $(tail -1 "$WORK/g-$name.txt")"
  tail -1 "$WORK/g-$name.txt" | grep -q "same messages" \
    || fail "golden trace $name: $(tail -1 "$WORK/g-$name.txt")"
  # Each run's operation id is an input of the recording (note:operation):
  # the replay's messages carry the recorded ids, not fresh ones.
  recorded_ops="$(op_ids "$golden")"
  [ -n "$recorded_ops" ] || fail "golden trace $name carries no operation id"
  [ "$(op_ids "$WORK/g-$name.replay")" = "$recorded_ops" ] \
    || fail "golden trace $name: the replay's operation ids differ from the recorded ones"
done
for name in ${GOLDEN_TRACES:-}; do
  [ -f "$GOLDEN/$name.trace" ] || fail "GOLDEN_TRACES names no golden trace $name"
done
[ ${#replayed[@]} -gt 0 ] || fail "no golden trace replayed"

# The resume golden replays from the committed frames it recorded (the
# reader's run message lists them); the worker-loss golden re-drives the loss.
if selected resume; then
  grep -q "re-creating the committed frames" "$WORK/g-resume.txt" \
    || fail "the resume golden did not re-create its committed frames"
fi
if selected worker-loss; then
  grep -q "1 worker losses" "$WORK/g-worker-loss.txt" \
    || fail "the worker-loss golden re-drove no loss: $(head -3 "$WORK/g-worker-loss.txt")"
fi

# The tiled golden's frames went through the tile stitcher: 4 frames of 12
# tiles, each tile's report handed on once, each frame stitched and freed,
# its result the stitcher's; a replay with other tiles diverges.
if selected tiled; then
  "$SEGFLOW" trace dump "$GOLDEN/tiled.trace" > "$WORK/g-tiled.dump"
  [ "$(grep -cE 'exporter#[0-9]+ -> tile-stitcher#[0-9]+ +seg::tile_report ' "$WORK/g-tiled.dump")" -eq 48 ] \
    || fail "the tiled golden's stitcher did not get 48 tile reports"
  [ "$(grep -cE 'tile-stitcher#[0-9]+ -> reader#[0-9]+ +atom:stitched,' "$WORK/g-tiled.dump")" -eq 4 ] \
    || fail "the tiled golden's reader was not told of 4 stitched frames"
  [ "$(grep -cE 'tile-stitcher#[0-9]+ -> exporter#[0-9]+ +seg::frame_result ' "$WORK/g-tiled.dump")" -eq 4 ] \
    || fail "the tiled golden's frame results did not come from the stitcher"
  set +e
  "$SEGFLOW" replay --root "$WORK/g-tiled" --set tiling.tile_width=96 "$GOLDEN/tiled.trace" \
    > "$WORK/g-tiled-changed.txt" 2>&1
  rc=$?
  set -e
  [ "$rc" -eq 1 ] || fail "other tiles must make the tiled replay fail (exit $rc)"
fi

# The serve-tiled-loss golden re-drives the loss of a worker process that
# held a tile: the same tile of the same frame (the note names it).
if selected serve-tiled-loss; then
  grep -q "1 worker losses" "$WORK/g-serve-tiled-loss.txt" \
    || fail "the serve-tiled-loss golden re-drove no loss: $(head -3 "$WORK/g-serve-tiled-loss.txt")"
  "$SEGFLOW" trace dump "$GOLDEN/serve-tiled-loss.trace" > "$WORK/g-tiled-loss.dump"
  grep -qE 'note:worker_lost +\[\[1, 6, [0-9]+, 0, [0-9]+\]\]' "$WORK/g-tiled-loss.dump" \
    || fail "the serve-tiled-loss golden's lost item is no tile"
fi

# The export-recovered golden is `ops recover` replaying an export killed
# after its archive was written: every frame committed before, the archive
# written again, under the stuck operation's id (its note and summary).
if selected export-recovered; then
  "$SEGFLOW" trace dump "$GOLDEN/export-recovered.trace" > "$WORK/g-recovered.dump"
  grep -q "command recover" "$WORK/g-recovered.dump" || fail "export-recovered is no ops recover run"
  grep -q "seg::frame_result" "$WORK/g-recovered.dump" \
    && fail "export-recovered segmented frames: they were committed before the crash"
  [ "$(op_ids "$GOLDEN/export-recovered.trace" | wc -l)" -eq 1 ] \
    || fail "export-recovered: one operation, the recovered one"
  grep -q 'atom:finished,seg::job_summary.*ecotaxa_.*\.zip' "$WORK/g-recovered.dump" \
    || fail "export-recovered wrote no archive"
fi

# A changed kernel parameter on a serve golden: the replay fails and names
# the first divergent message.
if selected serve-reorder; then
  set +e
  "$SEGFLOW" replay --root "$WORK/g-serve-reorder" --set segmentation.min_esd=45 \
    "$GOLDEN/serve-reorder.trace" > "$WORK/g-changed.txt" 2>&1
  rc=$?
  set -e
  [ "$rc" -eq 1 ] || fail "a changed min_esd must make the serve replay fail (exit $rc)"
  tail -1 "$WORK/g-changed.txt" | grep -q "diverged: message [0-9]*" \
    || fail "serve divergence not named: $(tail -1 "$WORK/g-changed.txt")"
fi
echo "trace_golden: ok (${replayed[*]})"
