# Helpers of the report tests (sourced after lib.bash).

# page_json HTML: the page's numbers, the JSON of its
# <script type="application/json" id="segflow-report"> block.
page_json() {
  python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r'<script type="application/json" id="segflow-report">\n(.*?)\n</script>', text, re.S)
if not m:
    sys.exit(f"{sys.argv[1]}: no segflow-report JSON block")
print(m.group(1))
PY
}

# tsv_column TSV NAME: the values of column NAME, one a line (rows 3..).
tsv_column() {
  awk -F'\t' -v name="$2" 'NR == 1 { for (i = 1; i <= NF; ++i) if ($i == name) c = i; next }
                           NR == 2 { next } { print $c }' "$1"
}
