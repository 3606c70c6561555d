#!/usr/bin/env bash
# Sets up a Debian 12 machine for segflow, builds it, then runs one thing:
#   tools/setup.sh demo   segment a synthetic demo acquisition (the main job)
#   tools/setup.sh test   run the whole test suite (ctest)
#   tools/setup.sh build  only install what is missing and build
# Installs only the Debian packages that are missing, so a second run is fast.
set -euo pipefail

cd "$(dirname "$0")/.."
action="${1:-build}"
case "$action" in
  demo|test|build) ;;
  *) echo "usage: tools/setup.sh [demo|test|build]" >&2; exit 2 ;;
esac

packages=(
  cmake ninja-build g++ pkgconf
  libcaf-dev libssl-dev openssl
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev
  libboost-dev libmsgpack-cxx-dev libspdlog-dev catch2 libbenchmark-dev
  libzip-dev nlohmann-json3-dev libtomlplusplus-dev libjpeg62-turbo-dev
  libmosquitto-dev mosquitto mosquitto-clients jq systemd
  python3 chromium imagemagick
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

build_dir="${SEGFLOW_BUILD_DIR:-build}"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir"

case "$action" in
  demo) "$build_dir/tools/segflow" demo ;;
  test) ctest --test-dir "$build_dir" --output-on-failure -j2 --timeout 600 ;;
  build) ;;
esac
