# Outputs never escape the data root. A symlinked objects/, errors/ or
# export/ folder is refused, naming it, and nothing is written or removed
# through it (--force once ran remove_all on the link's target); --force
# removes only what segflow wrote, never a user's file beside it; a data root
# given through a link works; a job start sweeps its folders of the
# temporary files a crash left (owner pid dead) and keeps a live writer's.
source "$(dirname "$0")/lib.bash"

acq="$(synth_acquisition "$WORK/d" --frames 4 --width 600 --height 450 --objects 4 --seed 5)"
rel="${acq#"$WORK/d/img/"}"
[ -n "$rel" ] && [ "$rel" != "$acq" ] || fail "synth gave no acquisition under img/"

# A link in place of each output folder: refused before any frame runs.
for folder in objects errors export; do
  rm -rf "${WORK:?}/elsewhere" "$WORK/d/$folder"
  mkdir -p "$WORK/elsewhere/$rel" "$WORK/elsewhere/ecotaxa"
  echo keep > "$WORK/elsewhere/$rel/precious.txt"
  ln -s "$WORK/elsewhere" "$WORK/d/$folder"
  set +e
  "$SEGFLOW" segment --force "$acq" > "$WORK/link.txt" 2>&1
  rc=$?
  set -e
  [ "$rc" -ne 0 ] || fail "$folder/ a link: segment succeeded"
  grep -q "$WORK/d/$folder.*symbolic link" "$WORK/link.txt" \
    || fail "$folder/ a link: the error does not name it: $(tail -5 "$WORK/link.txt")"
  [ -f "$WORK/elsewhere/$rel/precious.txt" ] || fail "$folder/ a link: its target's file is gone"
  [ "$(find "$WORK/elsewhere" -type f | wc -l)" -eq 1 ] \
    || fail "$folder/ a link: something was written through it: $(find "$WORK/elsewhere" -type f)"
  [ ! -e "$acq/done.txt" ] || fail "$folder/ a link: done.txt written"
  rm "$WORK/d/$folder"
done
rm -rf "${WORK:?}/d/objects" "$WORK/d/errors" "$WORK/d/export"

# --force removes what segflow wrote, not a user's files beside it.
"$SEGFLOW" segment "$acq" > /dev/null 2>&1 || fail "first run failed"
crops="$(find "$WORK/d/objects/$rel" -maxdepth 1 -name '*.jpg' | wc -l)"
[ "$crops" -gt 0 ] || fail "no crops"
echo mine > "$WORK/d/objects/$rel/notes.txt"
mkdir -p "$WORK/d/objects/$rel/sorted"
echo mine > "$WORK/d/objects/$rel/sorted/a.txt"
echo mine > "$WORK/d/errors-notes.txt"
"$SEGFLOW" segment --force "$acq" > /dev/null 2>&1 || fail "--force run failed"
[ -f "$WORK/d/objects/$rel/notes.txt" ] || fail "--force removed a user's file"
[ -f "$WORK/d/objects/$rel/sorted/a.txt" ] || fail "--force removed a user's folder"
[ "$(find "$WORK/d/objects/$rel" -maxdepth 1 -name '*.jpg' | wc -l)" -eq "$crops" ] \
  || fail "--force did not give the same crops"

# A data root given through a link is the user's choice: it works.
ln -s "$WORK/d" "$WORK/root-link"
"$SEGFLOW" segment --force "$WORK/root-link/img/$rel" > "$WORK/root.txt" 2>&1 \
  || fail "a data root through a link was refused: $(tail -5 "$WORK/root.txt")"
[ -f "$acq/done.txt" ] || fail "no done.txt through the root link"

# Temporaries of a crash (pid 999999999 is above any pid_max: never alive)
# are swept when the job starts again; a live writer's stays.
zip="$(find "$WORK/d/export/ecotaxa" -name 'ecotaxa_*.zip' | head -1)"
[ -n "$zip" ] || fail "no archive"
zname="$(basename "$zip")"
mkdir -p "$WORK/d/errors/$rel"
stale=("$WORK/d/export/ecotaxa/.$zname.tmp-999999999-0"
       "$WORK/d/export/ecotaxa/.$zname.tmp-999999999-0.AbC123"
       "$acq/.done.txt.tmp-999999999-3"
       "$WORK/d/objects/$rel/.x_0.jpg.tmp-999999999-1"
       "$WORK/d/objects/$rel/.segflow/frames/.f.jsonl.tmp-999999999-4"
       "$WORK/d/errors/$rel/.f.json.tmp-999999999-2")
for f in "${stale[@]}"; do echo partial > "$f"; done
sleep 600 &
live=$!
CHILDREN+=("$live")
live_temp="$WORK/d/export/ecotaxa/.ecotaxa_other.zip.tmp-$live-0"
echo writing > "$live_temp"
rm "$acq/done.txt" # as after a kill -9 during the export
"$SEGFLOW" segment "$acq" > "$WORK/sweep.txt" 2>&1 || fail "rerun failed: $(tail -5 "$WORK/sweep.txt")"
for f in "${stale[@]}"; do
  [ ! -e "$f" ] || fail "stale temporary file left: ${f#"$WORK/"}"
done
[ -f "$live_temp" ] || fail "a live writer's temporary file was removed"
echo "ok: links refused, --force confined, temporaries swept"
