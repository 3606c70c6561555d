#!/usr/bin/env bash
# CI step (run by `tools/setup.sh test` after tools/ci/sanitize.sh, whose
# build folder it shares): runs each libFuzzer target of tests/fuzz for
# SEGFLOW_FUZZ_SECONDS (default 20) from its committed seed corpus
# (tests/fuzz/corpus/<target>/, read only: new inputs go to a scratch folder).
# A crash, leak, sanitizer report, timeout (10 s) or out-of-memory (2 GB)
# fails the step and leaves the input in SEGFLOW_FUZZ_ARTIFACTS (default
# <build>/fuzz-artifacts); reproduce it with <build>/tests/fuzz/<target> FILE.
#   SEGFLOW_FUZZ=off             skip, saying so
#   SEGFLOW_FUZZ_SECONDS=600     a long run by hand
#   SEGFLOW_FUZZ_TARGETS="fuzz_metadata fuzz_queue_json"  some targets only
#   SEGFLOW_FUZZ_CORPUS=DIR      keep the inputs found in DIR/<target> (default: discarded)
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${SEGFLOW_FUZZ:-on}" = off ]; then
  echo "fuzz: SKIPPED (SEGFLOW_FUZZ=off): no fuzz target ran"
  exit 0
fi
source tools/ci/sanitizer_env.bash
seconds="${SEGFLOW_FUZZ_SECONDS:-20}"
all_targets=$(ls tests/fuzz/corpus)
targets="${SEGFLOW_FUZZ_TARGETS:-$all_targets}"
artifacts="${SEGFLOW_FUZZ_ARTIFACTS:-$sanitize_dir/fuzz-artifacts}"
sanitize_build fuzz_targets
mkdir -p "$artifacts"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/segflow-fuzz.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
corpus_root="${SEGFLOW_FUZZ_CORPUS:-$scratch}"

passed=0 failed=0
for t in $targets; do
  [ -d "tests/fuzz/corpus/$t" ] || { echo "fuzz: no target $t (tests/fuzz/corpus/$t)" >&2; exit 2; }
  mkdir -p "$corpus_root/$t"
  log="$scratch/$t.log"
  if nice -n 5 "$sanitize_dir/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 \
       -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/$t-" \
       "$corpus_root/$t" "tests/fuzz/corpus/$t" > "$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    passed=$((passed + 1))
    echo "fuzz: $t: ${runs:-?} executions in $seconds s, ${cov:-cov: ?}, nothing found"
  else
    failed=$((failed + 1))
    echo "fuzz: $t FAILED (input in $artifacts):" >&2
    show_report "$log"
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
