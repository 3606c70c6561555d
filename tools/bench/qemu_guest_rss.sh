#!/usr/bin/env bash
# Peak memory of arm64 processes run under qemu-user, without qemu's own:
# runs COMMAND and samples, every 0.2 s, every qemu-aarch64 process it
# starts (directly or through its children, e.g. serve's worker processes)
# whose command line matches PATTERN (an extended regex).
# In a 64-bit guest qemu-user maps the guest's memory (program, libraries,
# heap, stacks, buffers) at guest addresses, below 2^44 here; qemu's own
# memory (its binary, translated code, its heap) lies above. Prints each
# process's peak guest RSS and peak qemu RSS, the peak of the summed guest
# RSS and that of the summed guest PSS (shared pages split between users).
#
# usage: tools/bench/qemu_guest_rss.sh PATTERN COMMAND...
#   e.g. ' (serve|worker) ' chroot ROOT ... tools/bench/rss.sh SEGFLOW ACQ 3
#   (in tools/ci/arm64.sh's chroot; the pattern leaves out rss.sh's `ctl` calls)
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
pattern="$1"
shift
"$@" &
top=$!
declare -A guest_peak qemu_peak
sum_peak=0 pss_peak=0
descendants() { # pids under $top whose program is qemu-aarch64, matching $pattern
  local -A parent
  local stat pid
  for stat in /proc/[0-9]*/stat; do
    { read -r pid _ _ ppid _ < "$stat"; } 2> /dev/null || continue
    parent[$pid]=$ppid
  done
  for pid in "${!parent[@]}"; do
    local p=$pid
    while [ -n "${parent[$p]:-}" ] && [ "$p" != "$top" ] && [ "$p" -gt 1 ]; do p=${parent[$p]}; done
    [ "$p" = "$top" ] || continue
    [[ "$(readlink "/proc/$pid/exe" 2> /dev/null)" == *qemu-aarch64* ]] || continue
    tr '\0' ' ' < "/proc/$pid/cmdline" 2> /dev/null | grep -Eq -- "$pattern" && echo "$pid"
  done
}
while kill -0 "$top" 2> /dev/null; do
  guest_sum=0 pss_sum=0
  for pid in $(descendants); do
    read -r guest qemu guest_pss < <(awk '
      /^[0-9a-f]+-[0-9a-f]+ / { split($1, range, "-"); guest = length(range[1]) <= 11 }
      /^Rss:/ { if (guest) g += $2; else q += $2 }
      /^Pss:/ { if (guest) p += $2 }
      END { print g + 0, q + 0, p + 0 }' "/proc/$pid/smaps" 2> /dev/null || echo "0 0 0")
    [ "$guest" -gt "${guest_peak[$pid]:-0}" ] && guest_peak[$pid]=$guest
    [ "$qemu" -gt "${qemu_peak[$pid]:-0}" ] && qemu_peak[$pid]=$qemu
    guest_sum=$((guest_sum + guest))
    pss_sum=$((pss_sum + guest_pss))
  done
  [ "$guest_sum" -gt "$sum_peak" ] && sum_peak=$guest_sum
  [ "$pss_sum" -gt "$pss_peak" ] && pss_peak=$pss_sum
  sleep 0.2
done
wait "$top" || { echo "qemu_guest_rss: the command failed" >&2; exit 1; }
total=0
for pid in "${!guest_peak[@]}"; do
  printf 'pid %-8s guest %5d MB, qemu %5d MB\n' "$pid" $((guest_peak[$pid] / 1024)) \
    $((qemu_peak[$pid] / 1024))
  total=$((total + guest_peak[$pid]))
done
echo "sum of the guest peaks: $((total / 1024)) MB; peak of the summed guest RSS: $((sum_peak / 1024)) MB"
echo "peak of the summed guest PSS (shared pages split between their users): $((pss_peak / 1024)) MB"
