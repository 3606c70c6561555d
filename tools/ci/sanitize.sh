#!/usr/bin/env bash
# CI step (run by `tools/setup.sh test`): builds the unit, kernel and actor
# tests with -fsanitize=address,undefined in their own build folder
# (tools/ci/sanitizer_env.bash) and runs them. The first sanitizer report
# halts the program, so any report fails the step. tools/ci/lsan.supp and
# tools/ci/ubsan.ignorelist exempt CAF's own code, nothing of segflow's.
#   SEGFLOW_SANITIZE=off  skip, saying so (tools/setup.sh passes it)
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${SEGFLOW_SANITIZE:-on}" = off ]; then
  echo "sanitize: SKIPPED (SEGFLOW_SANITIZE=off): no test ran under ASan/UBSan"
  exit 0
fi
source tools/ci/sanitizer_env.bash
sanitize_build unit_tests kernel_tests actor_tests

passed=0 failed=0
for t in unit_tests kernel_tests actor_tests; do
  started=$(date +%s)
  log="$sanitize_dir/tests/$t.log"
  # The tests find their data relative to their folder, as under ctest.
  if (cd "$sanitize_dir/tests" && "./$t" --reporter compact --order decl > "$t.log" 2>&1); then
    passed=$((passed + 1))
    echo "sanitize: $t: $(grep -E '^(Passed all|All tests passed)' "$log" | tail -1) ($(( $(date +%s) - started )) s)"
  else
    failed=$((failed + 1))
    echo "sanitize: $t FAILED:" >&2
    show_report "$log"
  fi
done
echo "sanitize: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
