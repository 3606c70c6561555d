# Counts the guest instructions a program executed from qemu-user's log of
#   qemu-aarch64 -d in_asm,exec,nochain PROGRAM ...
# in_asm lists each translated block's instructions once; with nochain, exec
# logs every execution of a block: the count is the sum of their lengths.
/^IN:/ { block = ""; next }
/^0x[0-9a-f]+:/ {
  address = substr($1, 3, length($1) - 3)
  if (block == "") { block = address; length_of[block] = 0 } # a block translated again
  length_of[block]++
  next
}
/^Trace / {
  split($4, fields, "/")
  pc = fields[2]
  sub(/^0+/, "", pc)
  executed += length_of[pc]
  if (!(pc in length_of)) unknown++
  next
}
END { printf "%d instructions (%d block executions not in the log)\n", executed, unknown }
