#!/usr/bin/env bash
# The Debian package, tested as a user gets it: cpack builds
# segflow_<version>_amd64.deb in BUILD_DIR; a fresh Debian 12 chroot (a
# pristine debootstrap, cached as a tarball and unpacked anew each run)
# installs it with apt-get, runs `segflow demo`, checks the man page and the
# conffile, and runs `systemd-analyze verify` on the units.
#   tools/ci/package.sh BUILD_DIR
#   SEGFLOW_PACKAGE=off skips it, saying so; SEGFLOW_ARM64_CACHE as in arm64.sh.
set -euo pipefail
step=package
source "$(dirname "$0")/chroot.bash"

if [ "${SEGFLOW_PACKAGE:-on}" = off ]; then
  echo "package: SKIPPED (SEGFLOW_PACKAGE=off): the .deb was not tested"
  exit 0
fi
build="$(cd "${1:?usage: tools/ci/package.sh BUILD_DIR}" && pwd)"
cache="${SEGFLOW_ARM64_CACHE:-/var/cache/segflow}"
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, mounts)"
mkdir -p "$cache/apt-archives"
exec 8> "$cache/package.lock"
flock 8

rm -f "$build"/segflow_*.deb
cmake --build "$build" --target segflow man_page > /dev/null || die "build failed"
(cd "$build" && cpack -G DEB > cpack.log 2>&1) || die "cpack failed: $(tail -5 "$build/cpack.log")"
deb="$(ls "$build"/segflow_*_amd64.deb)" || die "no segflow_*_amd64.deb in $build"
check_deb "$deb" amd64
say "built $(basename "$deb"): depends $(dpkg-deb -f "$deb" Depends)"

pristine="$cache/bookworm-minbase.tar"
if [ ! -f "$pristine" ]; then
  make_bookworm "$cache/bookworm-minbase" "$cache/debootstrap-minbase.log"
  tar -C "$cache/bookworm-minbase" -cf "$pristine.new" . && mv "$pristine.new" "$pristine"
  rm -rf "$cache/bookworm-minbase"
fi
root="$(mktemp -d "$cache/package-test.XXXXXX")"
cleanup() {
  unmount_all
  rm -rf "$root"
}
trap cleanup EXIT
tar -C "$root" -xf "$pristine"
mount_system "$root"
# Downloads are kept between runs; the installed system is fresh every time.
mount_in "$root/var/cache/apt/archives" --bind "$cache/apt-archives"
cp "$deb" "$root/tmp/"

say "apt-get install ./$(basename "$deb") in a fresh Debian 12"
in_chroot "$root" sh -c 'apt-get update -qq && cd /tmp &&
  apt-get install -y -qq --no-install-recommends ./segflow_*_amd64.deb' > "$build/package-install.log" 2>&1 \
  || die "apt-get install failed: $(tail -5 "$build/package-install.log")"
in_chroot "$root" sh -c 'cd /tmp && segflow demo --out /tmp/demo --frames 3 --width 1014 --height 760' \
  > "$build/package-demo.log" 2>&1 || die "segflow demo failed: $(tail -5 "$build/package-demo.log")"
ls "$root"/tmp/demo/export/ecotaxa/*.zip > /dev/null 2>&1 || die "the demo wrote no EcoTaxa zip"
in_chroot "$root" dpkg-query -W -f '${Conffiles}\n' segflow | grep -q /etc/segflow/segflow.toml \
  || die "/etc/segflow/segflow.toml is not a conffile"
zgrep -q '^\.SS serve' "$root/usr/share/man/man1/segflow.1.gz" || die "the man page has no serve section"
getent_ok="$(in_chroot "$root" getent passwd segflow || true)"
[ -n "$getent_ok" ] || die "postinst created no segflow user"

say "systemd-analyze verify"
in_chroot "$root" apt-get install -y -qq --no-install-recommends systemd > "$build/package-systemd.log" 2>&1 \
  || die "installing systemd failed: $(tail -3 "$build/package-systemd.log")"
# --man=no: the minimal system has no man-db (the man page is checked above).
in_chroot "$root" sh -c 'systemd-analyze verify --man=no /lib/systemd/system/segflow*.service' \
  > "$build/package-verify.log" 2>&1 || die "systemd-analyze verify: $(cat "$build/package-verify.log")"
if [ -s "$build/package-verify.log" ]; then die "systemd-analyze verify: $(cat "$build/package-verify.log")"; fi
say "passed"
