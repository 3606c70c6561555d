# Randomised crash trials (tools/bench/crash_trials.sh), kept short for CI:
# SEGFLOW_CRASH_TRIALS trials (default 20; 300 by hand).
source "$(dirname "$0")/lib.bash"
"$(dirname "$0")/../../tools/bench/crash_trials.sh" "${SEGFLOW_CRASH_TRIALS:-20}" "$SEGFLOW" \
  "$WORK/trials" || { cat "$WORK/trials/trials.txt"; fail "a crash trial broke an invariant"; }
grep -E "^(reference|trials)" "$WORK/trials/trials.txt"
echo "crash_trials: ok"
