# Sourced by tools/setup.sh and tools/ci/sanitizer_env.bash (from the
# repository root). ccache keeps compiled objects between runs: a fresh CI
# clone compiles mostly the same sources with the same flags as the last run,
# so its objects are taken from the cache instead of compiled again (paths
# are taken relative to the clone). Sets `ccache_launcher` to CMake's
# launcher option, or to nothing without ccache.
#   CCACHE_DIR           wins when set
#   SEGFLOW_ARM64_CACHE  the CI cache folder (default /var/cache/segflow): its
#                        ccache/ holds the objects when it is writable (root),
#                        else ccache's own default folder does
ccache_launcher=()
if command -v ccache > /dev/null; then
  if [ -z "${CCACHE_DIR:-}" ]; then
    ccache_root="${SEGFLOW_ARM64_CACHE:-/var/cache/segflow}"
    if mkdir -p "$ccache_root/ccache" 2> /dev/null && [ -w "$ccache_root/ccache" ]; then
      export CCACHE_DIR="$ccache_root/ccache"
    fi
  fi
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
  export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-include_file_mtime,include_file_ctime}"
  export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
  ccache_launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
