# Helpers of the chroot-based CI steps (sourced by tools/ci/arm64.sh and
# tools/ci/package.sh): Debian bookworm chroots made with debootstrap, their
# mounts undone on exit. Callers set `step` (their name in messages) first.
die() { echo "$step: FAILED: $*" >&2; exit 1; }
say() { echo "$step: $* ($(( SECONDS - step_started )) s)"; }
step_started=$SECONDS

# The Debian mirror the host's apt uses (overridable: SEGFLOW_DEBIAN_MIRROR).
debian_mirror() {
  local uri="${SEGFLOW_DEBIAN_MIRROR:-}"
  [ -n "$uri" ] || uri="$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources \
    2>/dev/null | head -1)"
  [ -n "$uri" ] || uri="$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' \
    /etc/apt/sources.list 2>/dev/null)"
  [ -n "$uri" ] || die "no Debian mirror found in the host's apt sources: set SEGFLOW_DEBIAN_MIRROR"
  echo "$uri"
}

# make_bookworm DIR LOG: a minimal Debian 12 amd64 in DIR (replaced whole).
make_bookworm() {
  local dir="$1" log="$2" mirror
  command -v debootstrap > /dev/null || die "debootstrap is missing (tools/setup.sh installs it)"
  mirror="$(debian_mirror)"
  say "debootstrap bookworm from $mirror"
  rm -rf "$dir.new"
  nice -n 5 debootstrap --variant=minbase bookworm "$dir.new" "$mirror" > "$log" 2>&1 \
    || die "debootstrap failed: $(tail -3 "$log")"
  printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n' "$mirror" "$mirror" \
    > "$dir.new/etc/apt/sources.list"
  rm -rf "$dir"
  mv "$dir.new" "$dir"
}

mounted=()
unmount_all() {
  local i
  for (( i = ${#mounted[@]} - 1; i >= 0; i-- )); do
    umount -l "${mounted[$i]}" 2>/dev/null || true
  done
  mounted=()
}
mount_in() { # mount_in TARGET MOUNT-ARGS...
  local target="$1"; shift
  mkdir -p "$target"
  mount "$@" "$target" || die "cannot mount $target"
  mounted+=("$target")
}
# mount_system ROOT: /proc, /dev, /dev/pts and a private /dev/shm.
mount_system() {
  mount_in "$1/proc" -t proc proc
  mount_in "$1/dev" --bind /dev
  mount_in "$1/dev/pts" --bind /dev/pts
  mount_in "$1/dev/shm" -t tmpfs -o size=2g,mode=1777 tmpfs
}

# in_chroot ROOT CMD...: CMD in ROOT with a clean environment.
in_chroot() {
  local root="$1"; shift
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    DEBIAN_FRONTEND=noninteractive "$@"
}

# check_deb DEB ARCH: the package's control fields and file list are what
# cmake/packaging.cmake promises, before any install is tried.
check_deb() {
  local deb="$1" arch="$2" field path machine
  field="$(dpkg-deb -f "$deb" Architecture)" || die "$deb is no Debian package"
  [ "$field" = "$arch" ] || die "$(basename "$deb"): Architecture is '$field', not $arch"
  dpkg-deb -f "$deb" Depends | grep -q 'libopencv-core' \
    || die "$(basename "$deb") names no Debian dependencies: $(dpkg-deb -f "$deb" Depends)"
  for path in ./usr/bin/segflow ./etc/segflow/segflow.toml ./lib/systemd/system/segflow.service \
      ./usr/share/man/man1/segflow.1.gz; do
    dpkg-deb -c "$deb" | awk '{ print $NF }' | grep -qx "$path" \
      || die "$(basename "$deb") lacks $path"
  done
  case "$arch" in arm64) machine='ARM aarch64' ;; amd64) machine='x86-64' ;; esac
  dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/bin/segflow | file - | grep -q "$machine" \
    || die "$(basename "$deb"): usr/bin/segflow is not an $arch executable"
}
