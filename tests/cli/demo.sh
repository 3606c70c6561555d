# The README's main job: the demo synthesises, segments and says where the
# crops and the EcoTaxa archive are.
source "$(dirname "$0")/lib.bash"

cd "$WORK"
"$SEGFLOW" demo --frames 6 --width 1014 --height 760 > out.txt || fail "demo failed"
crops="$(sed -n 's/^crops: *//p' out.txt)"
zip="$(sed -n 's/^ecotaxa: *//p' out.txt)"
[ -d "$crops" ] || fail "crops folder missing: $crops"
ls "$crops"/*.jpg > /dev/null || fail "no crops in $crops"
[ -f "$zip" ] || fail "zip missing: $zip"
"$TOOLS/zip_list" "$zip" > /dev/null || fail "zip does not open"
echo "demo: ok"
