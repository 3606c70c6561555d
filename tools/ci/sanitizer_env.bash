# Sourced by tools/ci/sanitize.sh and tools/ci/fuzz.sh (from the repository
# root): their shared build folder and the sanitizers' run-time options.
#   SEGFLOW_SANITIZE_BUILD_DIR  build folder (default build-sanitize)
sanitize_dir="${SEGFLOW_SANITIZE_BUILD_DIR:-build-sanitize}"

# Any report ends the program with an error: UBSan is built with
# -fno-sanitize-recover (halt_on_error says it again for a build made
# without); leaks are reported at exit, less CAF's own (lsan.supp).
export ASAN_OPTIONS="detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1"
export LSAN_OPTIONS="suppressions=$PWD/tools/ci/lsan.supp:print_suppressions=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# Configures (Debian's clang, -O1, line tables for readable reports, the
# libFuzzer coverage hooks so the fuzz targets share the libraries) and
# builds the given targets, through ccache (tools/ci/ccache.bash).
sanitize_build() {
  source tools/ci/ccache.bash
  local started
  started=$(date +%s)
  cmake -S . -B "$sanitize_dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug "${ccache_launcher[@]}" \
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
