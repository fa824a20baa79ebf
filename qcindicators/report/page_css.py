"""The HTML report's style sheet: fits 1280 px without sideways scrolling; a card per hospital under 640 px."""

PAGE_CSS = """
*{box-sizing:border-box}
body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;margin:0;color:#1d2733;line-height:1.45}
header{background:#1f4e79;color:#fff;padding:14px 20px}
header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;font-size:13px;opacity:.85}
nav{padding:8px 20px;background:#eef2f7;font-size:13px}
nav a{margin-right:14px;color:#1f4e79;white-space:nowrap}
main{padding:0 20px 40px;max-width:1240px}
section{margin-top:22px}
h2{font-size:17px;border-bottom:2px solid #1f4e79;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 4px}
h3 small{font-weight:400;color:#555}
.lead{font-size:14px;margin:6px 0}
.hint{font-size:12px;color:#555;margin:2px 0 8px}
.met{background:#dff3e3;color:#17622b}
.unmet{background:#fbe0e0;color:#8d1c1c}
.na{background:#f1f2f4;color:#5b616b}
.lead span{padding:1px 6px;border-radius:3px}
table.score{width:100%;table-layout:fixed;border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums}
table.score th{font-size:12px;font-weight:600;text-align:right;vertical-align:bottom;padding:4px 6px;
  border-bottom:2px solid #c8d0da;overflow-wrap:anywhere}
table.score th small{display:block;font-weight:400;color:#555}
table.score th.unit{width:13em;text-align:left}
table.score td{text-align:right;padding:4px 6px;border-bottom:1px solid #fff;white-space:nowrap}
table.score tr.region th,table.score tr.region td{font-weight:700;border-bottom:2px solid #1f4e79}
.mark{display:inline-block;width:1em;text-align:center}
.arrow{display:inline-block;width:1em;color:#333}
.figs{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,560px),1fr));gap:12px}
figure{margin:8px 0}
figure img{width:100%;height:auto;border:1px solid #e4e8ee}
figcaption{font-size:12px;color:#555}
.scroll{overflow-x:auto;max-height:70vh;border:1px solid #e4e8ee;margin-bottom:10px}
table.qci{border-collapse:collapse;font-size:12px;font-variant-numeric:tabular-nums}
table.qci th{background:#f0f3f7;position:sticky;top:0;text-align:left;padding:4px 8px;border-bottom:2px solid #c8d0da}
table.qci td{padding:3px 8px;border-bottom:1px solid #e4e8ee;vertical-align:top;white-space:nowrap}
table.qci td.num{text-align:right}
@media (max-width:640px){
  main{padding:0 10px 30px}
  table.score thead{display:none}
  table.score,table.score tbody,table.score tr{display:block;width:100%}
  table.score tr{border:1px solid #c8d0da;border-radius:6px;margin:0 0 10px;overflow:hidden}
  table.score th.unit{display:block;width:auto;font-size:15px;padding:6px 8px;background:#eef2f7;text-align:left}
  table.score td{display:flex;justify-content:space-between;gap:8px;white-space:normal}
  table.score td::before{content:attr(data-label);text-align:left;font-weight:400;color:#333}
  table.score td .v{white-space:nowrap}
}
@media print{nav{display:none}section{page-break-before:always}.scroll{max-height:none;overflow:visible}}
"""
