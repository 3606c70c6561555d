# Sourced by tools/ci/sanitize.sh and tools/ci/fuzz.sh (from the repository
# root): their shared build folder and the sanitizers' run-time options.
#   SEGFLOW_SANITIZE_BUILD_DIR  build folder (default build-sanitize)
#   SEGFLOW_ARM64_CACHE         where ccache keeps its objects between CI runs
#                               (default /var/cache/segflow; CCACHE_DIR wins)
sanitize_dir="${SEGFLOW_SANITIZE_BUILD_DIR:-build-sanitize}"

# Any report ends the program with an error: UBSan is built with
# -fno-sanitize-recover (halt_on_error says it again for a build made
# without); leaks are reported at exit, less CAF's own (lsan.supp).
export ASAN_OPTIONS="detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1"
export LSAN_OPTIONS="suppressions=$PWD/tools/ci/lsan.supp:print_suppressions=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# Configures (Debian's clang, -O1, line tables for readable reports, the
# libFuzzer coverage hooks so the fuzz targets share the libraries) and
# builds the given targets. ccache: a fresh CI clone compiles the same
# sources with the same flags, so the cache outlives the clone and paths are
# taken relative to it.
sanitize_build() {
  export CCACHE_DIR="${CCACHE_DIR:-${SEGFLOW_ARM64_CACHE:-/var/cache/segflow}/ccache}"
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
  export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-include_file_mtime,include_file_ctime}"
  export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
  mkdir -p "$CCACHE_DIR"
  local launcher=() started
  command -v ccache > /dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  started=$(date +%s)
  cmake -S . -B "$sanitize_dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug "${launcher[@]}" \
    -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only" \
    -DSEGFLOW_SANITIZE=address,undefined -DSEGFLOW_FUZZ=ON > /dev/null
  nice -n 5 cmake --build "$sanitize_dir" --target "$@"
  echo "${0##*/}: built $* in $(( $(date +%s) - started )) s"
}

# Prints the sanitizer's (or libFuzzer's) report in LOG to stderr, cut to
# lines a CI log shows (CAF's template names run to thousands of characters).
show_report() {
  grep -E -A40 '^==[0-9]+== ?ERROR|runtime error:|deadly signal|failed' "$1" | cut -c1-300 | head -120 >&2 \
    || tail -60 "$1" | cut -c1-300 >&2
}
