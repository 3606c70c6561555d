#!/usr/bin/env bash
# Sets up a Debian 12 machine for segflow, builds it, then runs one thing:
#   tools/setup.sh demo   build only segflow and segment a synthetic demo acquisition
#   tools/setup.sh test   build everything, run the whole test suite (ctest), then
#                         the Debian package check (tools/ci/package.sh; SEGFLOW_PACKAGE=on|off)
#                         and the arm64 check (tools/ci/arm64.sh; SEGFLOW_ARM64=smoke|full|off):
#                         both by default in CI (arm64: its smoke subset), else when asked;
#                         then the unit, kernel and actor tests under ASan+UBSan and
#                         each fuzz target for 20 s (tools/ci/sanitize.sh, tools/ci/fuzz.sh;
#                         SEGFLOW_SANITIZE=off, SEGFLOW_FUZZ=off skip them)
#   tools/setup.sh build  only install what is missing and build everything
# Installs only the Debian packages that are missing, so a second run is fast.
# SEGFLOW_JOBS overrides the parallel compile jobs (default: as many as the
# cores and the free memory allow).
set -euo pipefail

cd "$(dirname "$0")/.."
action="${1:-build}"
case "$action" in
  demo|test|build) ;;
  *) echo "usage: tools/setup.sh [demo|test|build]" >&2; exit 2 ;;
esac

# One package a line (easy to merge).
packages=(
  cmake ninja-build g++ pkgconf
  libcaf-dev libssl-dev openssl
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev
  libboost-dev libmsgpack-cxx-dev libspdlog-dev catch2 libbenchmark-dev
  libzip-dev nlohmann-json3-dev libtomlplusplus-dev libjpeg62-turbo-dev
  libmosquitto-dev
  libpng-dev
  libtiff-dev
  mosquitto
  mosquitto-clients
  systemd
  jq
  unzip
  debootstrap
  dpkg-dev
  file
  python3
  chromium
  imagemagick
  clang
  libclang-rt-14-dev
  ccache
  iproute2
  util-linux
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi

# The largest translation unit peaks at 0.78 GB of compiler memory (g++ -O3,
# docs/PERFORMANCE.md "pi"): one job per 1.2 GB available (at most one per
# core), so a 4 GB Raspberry Pi builds with 2 jobs and never runs out of memory.
jobs="${SEGFLOW_JOBS:-}"
if [ -z "$jobs" ]; then
  available_mb=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
  jobs=$(( available_mb / 1200 ))
  cores=$(nproc)
  [ "$jobs" -le "$cores" ] || jobs=$cores
  [ "$jobs" -ge 1 ] || jobs=1
fi

targets=()
[ "$action" != demo ] || targets=(--target segflow)
build_dir="${SEGFLOW_BUILD_DIR:-build}"
source tools/ci/ccache.bash
build_started=$SECONDS
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "${ccache_launcher[@]}" >/dev/null
cmake --build "$build_dir" -j "$jobs" "${targets[@]}"
build_seconds=$(( SECONDS - build_started ))
echo "setup: built in $build_seconds s"

case "$action" in
  demo) "$build_dir/tools/segflow" demo ;;
  test)
    # Every step runs even when one fails, so one CI run reports them all;
    # each step's time is reported at the end (the CI budget is 45 minutes).
    status=0 times=()
    step() {
      local name="$1" started=$SECONDS rc=0
      shift
      "$@" || rc=$?
      times+=("$name $(( SECONDS - started )) s$([ "$rc" -eq 0 ] || echo " (failed)")")
      [ "$rc" -eq 0 ] || status=1
    }
    step ctest ctest --test-dir "$build_dir" --output-on-failure -j2 --timeout 600
    # The chroot checks need root and take minutes: on by default in CI only
    # (arm64's smoke subset; SEGFLOW_ARM64=full runs the whole suite under qemu).
    package_default=off arm64_default=off
    if [ -n "${CI:-}" ]; then
      package_default=on arm64_default=smoke
    fi
    step package env SEGFLOW_PACKAGE="${SEGFLOW_PACKAGE:-$package_default}" tools/ci/package.sh "$build_dir"
    step arm64 env SEGFLOW_ARM64="${SEGFLOW_ARM64:-$arm64_default}" tools/ci/arm64.sh
    # ASan/UBSan and fuzzing (SEGFLOW_SANITIZE=off, SEGFLOW_FUZZ=off skip them).
    step sanitize tools/ci/sanitize.sh
    step fuzz tools/ci/fuzz.sh
    echo "setup: step times: build $build_seconds s, $(IFS=,; echo "${times[*]}" | sed 's/,/, /g'); total $SECONDS s"
    exit $status
    ;;
  build) ;;
esac
