# Shared helpers of the command-line tests. Each test script is run by ctest
# as: bash SCRIPT SEGFLOW SHARED_DATA TOOLS_DIR
set -euo pipefail
SEGFLOW="$1"
SHARED="$2"
TOOLS="$3"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/segflow-test.XXXXXX")"
CHILDREN=()
# The default state directory (queue file, operations journal) of every
# segflow this test starts: its own, not the user's.
export XDG_STATE_HOME="$WORK/state-home"
cleanup() {
  for pid in "${CHILDREN[@]:-}"; do
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# expect_rc WANT CMD...: runs CMD, fails unless its exit code is WANT.
expect_rc() {
  local want="$1"
  shift
  set +e
  "$@"
  local rc=$?
  set -e
  [ "$rc" -eq "$want" ] || fail "expected exit code $want, got $rc: $*"
}

# copy_acquisition SET DEST: copies a shared composed data root (img/ only)
# to DEST so outputs can be written beside it; prints the acquisition path.
copy_acquisition() {
  local set="$1" dest="$2"
  mkdir -p "$dest"
  cp -r "$SHARED/composed/$set/img" "$dest/"
  find "$dest/img" -name metadata.json -printf '%h\n' | head -1
}

# synth_acquisition DEST ARGS...: prints the acquisition path.
synth_acquisition() {
  local dest="$1"
  shift
  "$SEGFLOW" synth --out "$dest" "$@" | sed -n 's/^acquisition: //p'
}

# diff_outputs DIFF-ARGS... A B: diff -r of two output trees without what
# differs between equal runs: the TSV (run time, uuid), segflow's own files
# (.segflow: records, run record) and the HTML reports (times).
diff_outputs() {
  diff -r -x '*.tsv' -x '.segflow' -x 'report*.html' "$@"
}

# tsv_of ROOT: the single EcoTaxa TSV under ROOT/objects.
tsv_of() {
  find "$1/objects" -name 'ecotaxa_*.tsv' | head -1
}

# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds.
wait_for() {
  local limit="$1"
  shift
  local end=$((SECONDS + limit))
  until "$@"; do
    [ "$SECONDS" -lt "$end" ] || return 1
    sleep 0.1
  done
}

# signal_and_wait SIGNAL PID: sends SIGNAL to PID (a child of this shell),
# waits for it and leaves its exit code in $rc (not a subshell: wait needs
# the child).
signal_and_wait() {
  kill "-$1" "$2"
  set +e
  wait "$2"
  rc=$?
  set -e
}

# tsv_objects TSV: one line per object of an EcoTaxa TSV (pixel profile),
# "<object_id>\t<bx>\t<by>\t<width>\t<height>\t<area_exc>", sorted: the
# format of previous_mask_oracle.
tsv_objects() {
  awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; ++i) c[$i] = i; next } NR == 2 { next }
    { print $c["object_id"] "\t" $c["object_bx"] "\t" $c["object_by"] "\t" \
        $c["object_width"] "\t" $c["object_height"] "\t" $c["object_area_exc"] }' "$1" | sort
}

# objects_of ROOT: "<object_id> <bx> <by> <width> <height> <area_exc>" of
# every object of the single TSV under ROOT, sorted.
objects_of() {
  awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
              NR == 2 { next }
              { print $c["object_id"], $c["object_bx"], $c["object_by"],
                      $c["object_width"], $c["object_height"], $c["object_area_exc"] + 0 }' \
    "$(tsv_of "$1")" | sort
}

# oracle_objects ACQ OUT: the objects of tests/tools/recalc_oracle (the
# reference's sequential loop, flat recalculation included) as objects_of
# prints them into OUT, its recalculations into OUT.recalcs.
oracle_objects() {
  "$TOOLS/recalc_oracle" "$1" > "$2.raw" || fail "oracle failed on $1"
  grep '^object ' "$2.raw" | cut -d' ' -f2- | sort > "$2"
  grep '^recalc ' "$2.raw" > "$2.recalcs" || true
}
