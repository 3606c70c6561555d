# The reports a job writes when it ends (export.report, on by default) and
# `segflow report` tell the truth about the outputs: counts equal the TSV's,
# every crop of the TSV is on the page of all objects (and its file beside
# it), the size classes' counts sum to the object count, failed frames are
# listed with their reasons, flat recalculations are marked where the
# reference's loop (tests/tools/recalc_oracle) makes them, the planktoscope
# profile is in pixels. A report that cannot be written is logged and never
# fails the job; with export.report = false none is written.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/report_lib.bash"

# check_acquisition ACQ_OBJECTS TSV: the report beside the crops agrees with
# the TSV; prints the report's JSON to $WORK/last.json.
check_acquisition() {
  local objects="$1" tsv="$2"
  [ -f "$objects/report.html" ] || fail "no report.html in $objects"
  [ -f "$objects/report-objects.html" ] || fail "no report-objects.html in $objects"
  page_json "$objects/report.html" > "$WORK/last.json"
  page_json "$objects/report-objects.html" > "$WORK/last-objects.json"
  tsv_column "$tsv" img_file_name | sort > "$WORK/tsv-crops.txt"
  tsv_column "$tsv" object_id | sort > "$WORK/tsv-ids.txt"
  python3 - "$WORK/last.json" "$WORK/last-objects.json" "$WORK/tsv-crops.txt" \
    "$WORK/tsv-ids.txt" "$objects" <<'PY' || fail "report of $objects disagrees with $tsv"
import json, os, sys
report = json.load(open(sys.argv[1]))
page = json.load(open(sys.argv[2]))
crops = open(sys.argv[3]).read().split()
ids = set(open(sys.argv[4]).read().split())
objects_dir = sys.argv[5]
def check(ok, what):
    if not ok:
        sys.exit("FAIL: " + what)
n = report["counts"]["objects"]
check(n == len(crops) and n > 0, f"objects {n} != TSV rows {len(crops)}")
bins = report["size_spectrum"]["bins"]
check(sum(b["count"] for b in bins) == n, "size classes do not sum to the object count")
check(all(b["lo"] < b["hi"] for b in bins), "a size class is empty or reversed")
check(all(a["hi"] == b["lo"] for a, b in zip(bins, bins[1:])), "size classes are not contiguous")
check(all((b["count"] > 0) == (b["nbss"] > 0) for b in bins), "NBSS > 0 iff the class has objects")
check(sorted(page["crops"]) == crops, "the page of all objects does not list exactly the TSV's crops")
check(all(os.path.isfile(os.path.join(objects_dir, c)) for c in crops), "a crop file is missing")
mosaic = report["mosaic"]["ids"]
check(len(mosaic) == min(n, report["mosaic"]["limit"]), "mosaic size")
check(set(mosaic) <= ids, "a mosaic id is not in the TSV")
frames = report["frames"]
check(len(frames) == report["counts"]["frames_total"], "frame list length")
check(sum(f["objects"] for f in frames) == n, "objects per frame do not sum to the objects")
check(sum(f["state"] == "failed" for f in frames) == report["counts"]["frames_failed"],
      "failed frame count")
check(all(f["reason"] for f in frames if f["state"] == "failed"), "a failed frame has no reason")
# A run with failed frames is partial, not done.
check(report["run"] is not None
      and report["run"]["state"] == ("partial" if report["counts"]["frames_failed"] else "done"),
      "run record state")
check(report["flat_thumbnail"], "no flat thumbnail")
PY
  # Every crop of the TSV is an <img> of the page of all objects.
  while read -r crop; do
    grep -qF "src=\"$crop\"" "$objects/report-objects.html" || fail "$crop not on the objects page"
  done < "$WORK/tsv-crops.txt"
}

json_get() { # json_get FILE PYTHON-EXPR (on j)
  python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"
}

# 1. A composed acquisition (real crops), default profile: µm.
acq="$(copy_acquisition dev-small "$WORK/c")"
"$SEGFLOW" segment "$acq" > "$WORK/c.out" 2> "$WORK/c.log" || fail "segment failed: $(tail "$WORK/c.log")"
grep -q "report_written" "$WORK/c.log" || fail "the job wrote no report"
objects="$WORK/c/objects/20250911/composed-dev/dev-small"
check_acquisition "$objects" "$(tsv_of "$WORK/c")"
[ "$(json_get "$WORK/last.json" 'j["unit"]')" = um ] || fail "default profile: sizes not in µm"
[ "$(json_get "$WORK/last.json" 'j["size_spectrum"]["nbss_per"]')" = litre ] \
  || fail "acq_imaged_volume is in the metadata: NBSS per litre"
[ "$(json_get "$WORK/last.json" 'j["counts"]["frames_done"]')" = 12 ] || fail "frames done"
grep -q 'µm' "$objects/report.html" || fail "no µm label"
# The index lists the acquisition with its counts and a link.
page_json "$WORK/c/objects/report.html" > "$WORK/index.json"
[ "$(json_get "$WORK/index.json" 'len(j["acquisitions"])')" = 1 ] || fail "index rows"
[ "$(json_get "$WORK/index.json" 'j["acquisitions"][0]["objects"]')" = \
  "$(json_get "$WORK/last.json" 'j["counts"]["objects"]')" ] || fail "index object count"
[ "$(json_get "$WORK/index.json" 'j["acquisitions"][0]["report"]')" = \
  "20250911/composed-dev/dev-small/report.html" ] || fail "index link"

# 2. Failed frames (synth --bad), a second acquisition under the same root:
# the job ends partial, the report lists each failed frame with its reason.
bad="$(synth_acquisition "$WORK/c" --frames 14 --width 1014 --height 760 --objects 8 --seed 11 --bad)"
expect_rc 1 "$SEGFLOW" segment "$bad" > "$WORK/b.out" 2> "$WORK/b.log"
bad_objects="$WORK/c/objects/${bad#"$WORK/c/img/"}"
check_acquisition "$bad_objects" "$(find "$bad_objects" -maxdepth 1 -name 'ecotaxa_*.tsv')"
failed="$(json_get "$WORK/last.json" 'j["counts"]["frames_failed"]')"
artifacts="$(find "$WORK/c/errors" -name '*.json' | wc -l)"
[ "$failed" -eq 5 ] && [ "$failed" -eq "$artifacts" ] \
  || fail "failed frames: report $failed, artifacts $artifacts, synth made 5"
for reason in "Premature end of JPEG file" "empty file (0 bytes)" "not a JPEG, PNG or TIFF image"; do
  grep -qF "$reason" "$bad_objects/report.html" || fail "reason '$reason' not in the report"
done
page_json "$WORK/c/objects/report.html" > "$WORK/index.json"
[ "$(json_get "$WORK/index.json" 'len(j["acquisitions"])')" = 2 ] || fail "index of two"

# 3. `segflow report` on the data root rewrites both, same numbers.
cp "$WORK/last.json" "$WORK/bad-before.json"
"$SEGFLOW" report "$WORK/c" > "$WORK/r.out" || fail "segflow report failed"
[ "$(grep -c '^report: ' "$WORK/r.out")" = 2 ] && grep -q '^index: ' "$WORK/r.out" \
  || fail "report output: $(cat "$WORK/r.out")"
page_json "$bad_objects/report.html" > "$WORK/bad-after.json"
python3 -c 'import json,sys; a,b=(json.load(open(f)) for f in sys.argv[1:]); sys.exit(a["counts"]!=b["counts"] or a["size_spectrum"]!=b["size_spectrum"])' \
  "$WORK/bad-before.json" "$WORK/bad-after.json" || fail "segflow report differs from the job's report"
expect_rc 2 "$SEGFLOW" report "$WORK/nowhere"

# 4. planktoscope profile with dense frames: pixels, and the flat
# recalculations marked where the reference's loop makes them.
dense="$(synth_acquisition "$WORK/d" --frames 24 --objects 6 --dense 11:3:70 --seed 7)"
"$SEGFLOW" segment --profile planktoscope "$dense" > /dev/null 2> "$WORK/d.log" || fail "dense run"
dense_objects="$WORK/d/objects/${dense#"$WORK/d/img/"}"
check_acquisition "$dense_objects" "$(tsv_of "$WORK/d")"
[ "$(json_get "$WORK/last.json" 'j["unit"]')" = px ] || fail "planktoscope: sizes not in pixels"
grep -q 'sizes in pixels' "$dense_objects/report.html" || fail "planktoscope: no pixel label"
oracle_objects "$dense" "$WORK/oracle"
sed 's/^recalc next=\([0-9]*\) .*/\1/' "$WORK/oracle.recalcs" > "$WORK/want-flats.txt"
json_get "$WORK/last.json" '"\n".join(str(i) for i, f in enumerate(j["frames"]) if f["new_flat"])' \
  > "$WORK/got-flats.txt"
[ -s "$WORK/want-flats.txt" ] || fail "the dense frames fired no recalculation in the oracle"
diff "$WORK/want-flats.txt" "$WORK/got-flats.txt" || fail "recalculated flats marked differ from the oracle's"

# 5. export.report = false: no report, the run record still; a report that
# cannot be written (the index's place is a folder) is logged and the job
# succeeds.
off="$(synth_acquisition "$WORK/o" --frames 6 --objects 4 --seed 3)"
"$SEGFLOW" segment --set export.report=false "$off" > /dev/null 2> "$WORK/o.log" || fail "run without report"
off_objects="$WORK/o/objects/${off#"$WORK/o/img/"}"
[ ! -e "$off_objects/report.html" ] && [ ! -e "$WORK/o/objects/report.html" ] \
  || fail "export.report = false wrote a report"
[ -f "$off_objects/.segflow/run.json" ] || fail "no run record"
mkdir -p "$WORK/o/objects/report.html"
"$SEGFLOW" segment --force "$off" > /dev/null 2> "$WORK/o2.log" || fail "a report failure failed the job"
grep -q "report_failed" "$WORK/o2.log" || fail "the report failure was not logged"
echo "report_content: ok"
