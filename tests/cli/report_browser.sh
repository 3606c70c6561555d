# The reports in a real browser (Debian's headless chromium, offline, a
# fresh profile, driven through the DevTools protocol by report_browser.py):
# for a composed acquisition, a failed-frames one and the index, at a
# desktop width and on a 390-px-wide phone viewport: no console error or
# exception, every image loaded, no horizontal overflow, and screenshots
# that are not blank (more than a few colours). The screenshots are kept
# under build/test-artifacts/report (SEGFLOW_TEST_ARTIFACTS overrides).
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/report_lib.bash"

browser="$(command -v chromium)" || fail "chromium is not installed (tools/setup.sh installs it)"
command -v identify > /dev/null || fail "ImageMagick's identify is not installed (tools/setup.sh)"
artifacts="${SEGFLOW_TEST_ARTIFACTS:-$(dirname "$SEGFLOW")/../test-artifacts/report}"
mkdir -p "$artifacts"
rm -f "$artifacts"/*.png

root="$WORK/root"
acq="$(copy_acquisition dev-small "$root")"
"$SEGFLOW" segment "$acq" > /dev/null 2>&1 || fail "segment failed"
bad="$(synth_acquisition "$root" --frames 14 --width 1014 --height 760 --objects 8 --seed 11 --bad)"
expect_rc 1 "$SEGFLOW" segment "$bad" > /dev/null 2>&1
good="$root/objects/${acq#"$root/img/"}"
failed="$root/objects/${bad#"$root/img/"}"

# A report shows its mosaic and the flat; the page of all objects every crop.
objects() {
  page_json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["counts"]["objects"])'
}
good_n="$(objects "$good/report.html")"
failed_n="$(objects "$failed/report.html")"
[ "$good_n" -gt 0 ] && [ "$failed_n" -gt 0 ] || fail "no objects to show"

mkdir -p "$WORK/profile"
timeout 120 python3 "$(dirname "$0")/report_browser.py" "$browser" "$WORK/profile" \
  "composed-desktop,$good/report.html,1280,900,$((good_n + 1)),$artifacts/composed-desktop.png" \
  "composed-phone,$good/report.html,390,844,$((good_n + 1)),$artifacts/composed-phone.png" \
  "composed-objects-phone,$good/report-objects.html,390,844,$good_n" \
  "failed-desktop,$failed/report.html,1280,900,$((failed_n + 1)),$artifacts/failed-desktop.png" \
  "failed-phone,$failed/report.html,390,844,$((failed_n + 1))" \
  "failed-objects-phone,$failed/report-objects.html,390,844,$failed_n" \
  "index-desktop,$root/objects/report.html,1280,900,0" \
  "index-phone,$root/objects/report.html,390,844,0,$artifacts/index-phone.png" \
  || fail "a page failed in the browser"

# The checks can fail: a copy of a report with a missing image, a console
# error and a block wider than the phone fails each of them.
sed 's|</main>|<img src="missing.jpg"><div style="width:900px">wide</div><script>console.error("boom")</script></main>|' \
  "$good/report.html" > "$good/broken.html"
set +e
timeout 120 python3 "$(dirname "$0")/report_browser.py" "$browser" "$WORK/profile" \
  "broken,$good/broken.html,390,844,1" > "$WORK/broken.out"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "the broken page passed (exit $rc): $(cat "$WORK/broken.out")"
for what in "images loaded" "px wide in a 390-px viewport" "console.error: boom"; do
  grep -q "FAIL: broken: .*$what" "$WORK/broken.out" || fail "not caught: $what ($(cat "$WORK/broken.out"))"
done

for shot in "$artifacts"/*.png; do
  colours="$(identify -format %k "$shot")"
  [ "$colours" -gt 64 ] || fail "$(basename "$shot") has $colours colours: blank?"
  echo "$(basename "$shot"): $colours colours"
done
echo "report_browser: ok"
