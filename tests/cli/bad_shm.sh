# A /dev/shm too small for the flat field (Docker's is 64 MB): the preflight
# refuses with the numbers and the fixes (exit code 2); with --force-run the
# job fails cleanly (its segments are allocated up front, so the shortage is
# ENOSPC, never SIGBUS), leaves no segment and no lease, and the next job
# runs. Each run gets a private mount namespace with an 8 MB tmpfs on
# /dev/shm (root and unshare(1) needed: CI runs as root).
source "$(dirname "$0")/lib.bash"

# in_small_shm CMD...: runs CMD with an 8 MB /dev/shm of its own, then lists
# what is left in that /dev/shm into $WORK/shm-left.txt.
in_small_shm() {
  unshare --mount --propagation private sh -c '
    mount -t tmpfs -o size=8m,mode=1777 tmpfs /dev/shm || exit 99
    left="$1"; shift
    "$@"; rc=$?
    ls -A /dev/shm > "$left"
    exit $rc' sh "$WORK/shm-left.txt" "$@"
}
unshare --mount --propagation private true \
  || fail "unshare --mount is not available (the test needs root)"

# 800x600 frames: a flat stack of 9 frames and the flat need 14 MiB.
big="$(synth_acquisition "$WORK/big" --frames 12 --width 800 --height 600 --seed 7)"
# 320x240: 2.2 MiB, which fits.
small="$(synth_acquisition "$WORK/small" --frames 3 --width 320 --height 240 --seed 8)"

set +e
in_small_shm "$SEGFLOW" segment "$big" > "$WORK/out.txt" 2> "$WORK/err.txt"
rc=$?
set -e
[ "$rc" -ne 99 ] || fail "could not mount a tmpfs on /dev/shm"
[ "$rc" -eq 2 ] || fail "preflight: expected exit code 2, got $rc: $(cat "$WORK/err.txt")"
grep -q "not enough shared memory" "$WORK/err.txt" || fail "no shm refusal: $(cat "$WORK/err.txt")"
grep -q "/dev/shm" "$WORK/err.txt" || fail "the refusal does not name /dev/shm"
grep -q "14 MiB" "$WORK/err.txt" || fail "the refusal does not give the need"
grep -Eq "(8\.0|7\.[0-9]) MiB" "$WORK/err.txt" || fail "the refusal does not give what is free"
grep -q -- "--shm-size" "$WORK/err.txt" || fail "the refusal does not name --shm-size"
grep -q "segmentation.flat_frames=" "$WORK/err.txt" || fail "the refusal does not offer a smaller stack"
[ ! -d "$WORK/big/objects" ] || fail "the run started although refused"

set +e
in_small_shm "$SEGFLOW" segment --force-run "$big" "$small" > "$WORK/out.txt" 2> "$WORK/err.txt"
rc=$?
set -e
[ "$rc" -lt 128 ] || fail "segment died of signal $((rc - 128)): $(tail -3 "$WORK/err.txt")"
[ "$rc" -eq 1 ] || fail "--force-run: expected exit code 1, got $rc: $(cat "$WORK/err.txt")"
grep -q "No space left on device" "$WORK/err.txt" || fail "the job's failure does not say ENOSPC"
grep -q -- "--shm-size" "$WORK/err.txt" || fail "the job's failure does not give the fix"
[ ! -s "$WORK/shm-left.txt" ] || fail "segments left in /dev/shm: $(cat "$WORK/shm-left.txt")"
[ ! -e "$big/.segflow.lock" ] || fail "the failed job left its lease"
[ ! -e "$big/done.txt" ] || fail "the failed job wrote done.txt"
[ -e "$small/done.txt" ] || fail "the next job did not run: $(cat "$WORK/err.txt")"
