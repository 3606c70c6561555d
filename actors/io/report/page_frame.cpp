#include "actors/io/report/page_frame.hpp"

#include "actors/io/report/html_text.hpp"

namespace seg::io::report {

namespace {

// One style sheet for every page: readable at 390 px (cards stack, tables
// scroll inside their box, long names wrap) and printable.
const char* style_sheet = R"css(
:root{--ink:#1d2a33;--muted:#5b6b76;--line:#d8e0e5;--card:#fff;--bg:#f2f5f7;
--accent:#1f7a8c;--accent2:#e07a1f;--bad:#c0392b;--ok:#2e7d32;--warn:#b7791f}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);
font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
header.top{background:#0f3b47;color:#fff;padding:16px 16px 12px}
header.top h1{margin:0;font-size:1.35rem;overflow-wrap:anywhere}
header.top p{margin:4px 0 0;color:#cfe3e8;overflow-wrap:anywhere}
header.top a{color:#fff}
nav{display:flex;flex-wrap:wrap;gap:4px 14px;margin-top:10px;font-size:.9rem}
nav a{color:#cfe3e8}
main{max-width:1180px;margin:0 auto;padding:12px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;
padding:12px 14px;margin:0 0 12px;min-width:0}
h2{font-size:1.1rem;margin:0 0 8px}
h3{font-size:.95rem;margin:0 0 6px;color:var(--muted)}
p.note{color:var(--muted);font-size:.88rem;margin:6px 0 0}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:8px 16px;margin:0}
.facts div{min-width:0}
.facts dt{color:var(--muted);font-size:.78rem;text-transform:uppercase;letter-spacing:.03em}
.facts dd{margin:0;font-weight:600;overflow-wrap:anywhere}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:.85rem}
.s-done{background:var(--ok)}.s-failed{background:var(--bad)}
.s-interrupted,.s-partial,.s-done-with-failures{background:var(--warn)}.s-not-segmented{background:#7b8a94}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,420px),1fr));gap:12px}
.cards>div{min-width:0}
svg.plot{width:100%;max-width:760px;height:auto;display:block}
svg.plot .grid{stroke:#e6ecef;stroke-width:1}
svg.plot .axis{stroke:#7b8a94;stroke-width:1}
svg.plot .tick{fill:#5b6b76;font-size:12px}
svg.plot .title{fill:#1d2a33;font-size:13px}
svg.plot .bar{fill:var(--accent)}
svg.plot .line{fill:none;stroke:var(--accent2);stroke-width:2}
svg.plot .dot{fill:var(--accent2)}
svg.plot .failed line{stroke:var(--bad);stroke-width:2.5}
svg.plot .reflat{stroke:#6a1b9a;stroke-width:1.5;stroke-dasharray:4 3}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:.85rem;color:var(--muted);margin-top:4px}
.key{display:inline-block;width:12px;height:12px;vertical-align:-1px;margin-right:4px}
.mosaic{display:grid;grid-template-columns:repeat(auto-fill,minmax(76px,1fr));gap:6px}
.mosaic figure{margin:0;background:#fff;border:1px solid var(--line);border-radius:4px;
overflow:hidden;display:flex;flex-direction:column;min-width:0}
.mosaic img{display:block;width:100%;height:88px;object-fit:contain;background:#fff}
.mosaic figcaption{font-size:.72rem;color:var(--muted);background:#f4f7f8;padding:1px 4px;
white-space:nowrap;overflow:hidden;text-overflow:ellipsis;text-align:center}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:.88rem;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.wrap{overflow-wrap:anywhere;min-width:10em}
.meter{background:#e6ecef;border-radius:3px;height:10px;min-width:60px}
.meter span{display:block;height:10px;border-radius:3px;background:var(--accent)}
img.flat{max-width:min(100%,400px);height:auto;border-radius:4px;border:1px solid var(--line)}
details summary{cursor:pointer;color:var(--accent)}
@media (max-width:600px){.wide-only{display:none}}
footer{color:var(--muted);font-size:.8rem;text-align:center;padding:8px 12px 20px;
overflow-wrap:anywhere}
@media print{header.top{background:none;color:#000}nav{display:none}}
)css";

} // namespace

std::string page_head(const std::string& title, const std::string& kind) {
  return "<!doctype html>\n<html lang=\"en\" data-report=\"" + escape_html(kind)
         + "\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
           "<title>"
         + escape_html(title) + "</title>\n<style>" + style_sheet + "</style>\n</head>\n<body>\n";
}

std::string page_tail(const std::string& footer_html, const std::string& json) {
  return "</main>\n<footer>" + footer_html
         + "</footer>\n<script type=\"application/json\" id=\"segflow-report\">\n"
         + script_safe(json) + "\n</script>\n</body>\n</html>\n";
}

} // namespace seg::io::report
