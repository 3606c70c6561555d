# What the serve benchmarks share (sourced by tools/bench/cluster.sh and
# coordinator.sh once they set `here` (tools/bench) and `build`): the
# command-line tests' helpers (tests/cli/serve_lib.bash), and rounds in
# which every variant runs once (the caller's run_variant NAME, which sets
# job_s), in an order rotated from round to round, so a slow spell of the
# machine falls on all of them alike.

# The helpers take (SEGFLOW SHARED TOOLS) as arguments and find each other
# beside $0: this script passes for one of them.
set -- "$build/tools/segflow" "$here/../../../shared/data" "$build/tests"
BASH_ARGV0="$here/../../tests/cli/serve_bench"
source "$here/../../tests/cli/serve_lib.bash"

# await_first_job WHAT: waits for job 1 of a fresh serve state to end done;
# sets job_s to its seconds as serve logged them.
await_first_job() {
  wait_for 900 grep -qs "job_finished job=1 " "$SERVE_LOG" || fail "$1: the job did not finish"
  grep -q "job_finished job=1 state=done" "$SERVE_LOG" || fail "$1: the job failed"
  job_s="$(sed -n 's/.*job_finished job=1 .* s=\([0-9.]*\).*/\1/p' "$SERVE_LOG")"
}

declare -A seconds # variant -> " s1 s2 ..."

# run_rounds ROUNDS VARIANT...: fills `seconds`.
run_rounds() {
  local rounds="$1"
  shift
  local variants=("$@") r i v
  for ((r = 0; r < rounds; ++r)); do
    for ((i = 0; i < ${#variants[@]}; ++i)); do
      v="${variants[$(( (i + r) % ${#variants[@]} ))]}"
      run_variant "$v"
      seconds[$v]="${seconds[$v]:-} $job_s"
      echo "round $((r + 1)) $v: $job_s s" >&2
    done
  done
}

# median_of VARIANT: the median of its job seconds.
median_of() {
  tr ' ' '\n' <<< "${seconds[$1]}" | grep . | sort -g \
    | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
