"""The report's CSS, inlined into the file. System fonts only: nothing to download."""

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

CSS = """
:root { --ink:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#f6f8fa; --accent:#0b4f8a;
  --met:#1a7f37; --breach:#cf222e; --at_risk:#9a6700; --provisional:#0969da; --no_data:#656d76; }
/* Each status colour is also text (badges, chips, trend marks): at least 4.5:1 on white and
   on the chips' --bg. No data was #818b98, 3.45:1 on white and 3.24 in a chip. */
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color:var(--ink); background:#fff; }
.page { max-width: 1240px; margin: 0 auto; padding: 24px 28px 48px; }
/* Text with no break opportunity wraps anywhere rather than run past the page's edge (off a
   printed page for good): an agreement id or revision may be 63 characters of [a-z0-9_], as
   wide as 817 px in a heading, and it made the page 873 px wide on A4. Tables keep their
   words whole: they scroll in their box. */
h1, h2, h3, h4, p, dd, li, figcaption, nav.toc b { overflow-wrap: anywhere; }
header.top { background: var(--accent); color:#fff; padding: 22px 32px; }
header.top .inner { max-width:1184px; margin:0 auto; }
header.top h1 { margin:0; font-size: 28px; font-weight: 650; letter-spacing: -0.01em; }
header.top p { margin: 4px 0 0; opacity: .9; }
nav.toc { font-size: 13px; margin-top: 10px; display: flex; flex-wrap: wrap; row-gap: 4px; }
nav.toc a { color:#fff; margin-right: 14px; text-decoration: none; border-bottom: 1px solid rgba(255,255,255,.5); white-space: nowrap; }
nav.toc b { margin-right: 6px; }   /* an agreement's name before its links: a flex row drops the space */
/* An agreement's name and links wrap as one unit: a flex item moves to the next line whole
   when its max-content width does not fit what is left of the line (at 1,000 px the second
   agreement's name ended one line and its links began the next). Wider than the whole bar
   (a phone) it shrinks to the bar and wraps inside. */
nav.toc .toc-group { display: flex; flex-wrap: wrap; row-gap: 4px; }
/* Where the keyboard is: the browser's own ring was 1 px (Chromium's, rgb(16,16,16)), 2.3:1
   against the header's blue. 3 px in the accent on white, in white on the header. A section
   takes the focus from a contents link (sections.py) but is not a control: no ring round it. */
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
header.top :focus-visible { outline-color: #fff; }
section:focus { outline: none; }
/* .h2, .h3: a section's heading one level deeper in a pack of several (sections._heading) */
h2, .h2 { font-size: 21px; margin: 36px 0 6px; padding-bottom: 6px; border-bottom: 2px solid var(--line); }
h3, .h3 { font-size: 16px; margin: 18px 0 8px; }
h3 small, .h3 small { font-weight: 400; color: var(--muted); margin-left: 6px; }
p.lead { color: var(--muted); margin: 0 0 12px; }
/* For screen readers only (a table's caption, the figures a chart draws): out of sight and
   out of the layout, but in the accessibility tree, which display:none would drop. */
.sr-only { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; border: 0; overflow: hidden;
  clip-path: inset(50%); white-space: nowrap; }
.note { color: var(--muted); font-size: 13px; }
code { overflow-wrap: anywhere; font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; color: var(--muted); }
code.id { overflow-wrap: normal; } code.id > span { white-space: nowrap; }   /* ids wrap at their <wbr> only (format.kpi_code) */
table { border-collapse: collapse; width: 100%; font-size: 14px; }
/* relative: a box that scrolls clips only what it contains, and an absolutely placed caption
   (.sr-only) is contained by its positioned ancestor: unpositioned, the bottleneck's caption
   made the page 519 px wide in a 320 px window. */
.table-box { overflow-x: auto; position: relative; }
thead th { text-align: left; font-weight: 600; color: var(--muted); font-size: 12px; text-transform: uppercase;
  letter-spacing: .04em; border-bottom: 2px solid var(--line); padding: 6px 8px; }
/* A body row's first cell is its heading (sections._row_head), for screen readers: it looks
   like the cells beside it. */
td, tbody th { border-bottom: 1px solid var(--line); padding: 6px 8px; vertical-align: top; }
tbody th { text-align: left; font-weight: inherit; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; } td.num { white-space: nowrap; }
.kpi { line-height: 1.3; }
.summary { display: grid; grid-template-columns: 1.3fr 1fr; gap: 24px; align-items: start; margin-top: 8px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
ul.chips { list-style: none; padding: 0; margin: 0 0 10px; display: flex; flex-wrap: wrap; gap: 8px; }
.chip { border: 1px solid var(--line); border-radius: 16px; padding: 3px 12px; background: var(--bg); }
.headline { font-size: 16px; margin: 0; }
.status { display: inline-block; font-weight: 600; white-space: nowrap; border-radius: 4px; padding: 0 6px;
  border: 1px solid currentColor; font-size: 13px; }
.status .sym { font-weight: 800; }
.s-met { color: var(--met); } .s-breach { color: #fff; background: var(--breach); border-color: var(--breach); }
.s-at_risk { color: var(--at_risk); border-style: dashed; } .s-provisional { color: var(--provisional); border-style: dotted; }
.s-no_data { color: var(--no_data); }
tr.r-breach > :first-child { box-shadow: inset 4px 0 0 var(--breach); }
tr.r-at_risk > :first-child { box-shadow: inset 4px 0 0 var(--at_risk); }
/* The team cards sit side by side when both tables fit, whatever the figures, and stack
   otherwise: a fixed breakpoint (1,240 px) left an open month's sales table, with one more
   digit of revenue, scrolling in its card (610 px in 552). A flex item's minimum width is its
   content's min-content width (min-width: auto), the narrowest its table gets without
   scrolling: a line wraps the next card when the two minimums and the gap do not fit. Not
   the max-content width: the KPI column wraps at its <wbr>, and unwrapped the open month's
   normal sales table is 670 px, which would stack the cards in any window under 1,400 px.
   From a basis of 0 both cards grow alike, so side by side they are equal unless one needs
   more; max-width caps that minimum at the row (a phone), where the table scrolls in its box. */
.teams { display: flex; flex-wrap: wrap; gap: 20px; }
.teams > .card { flex: 1 1 0; max-width: 100%; }
.teams > .card.team-shared { flex-basis: 100%; }
/* Narrower cells make a narrower table: an open month's five columns (money in three,
   "… provisional") take 541 px at 6 px either side of a cell, 561 at 8. */
table.scorecard th, table.scorecard td { padding-left: 6px; padding-right: 6px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 4px 14px 10px; background: #fff; }
.card h3, .card .h3 { margin-top: 10px; }
.team-marketing { border-top: 4px solid #8250df; } .team-sales { border-top: 4px solid #bc4c00; }
.team-shared { border-top: 4px solid var(--accent); }
/* A trend chart is drawn 360 px wide: in a 348 px figure (its padding and border take 18) its
   12 px text still reads at 11 px. A narrower window gets fewer columns, not smaller charts. */
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 348px), 1fr)); gap: 14px 18px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 6px 8px 2px; }
figcaption { font-weight: 600; font-size: 13px; }
.two { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 24px; }
/* A narrow table beside a wide one (two columns against six): halves gave the six-column
   table 453 px of the 576 it needs at 1,000 px, and it scrolled. The left column takes what
   its table needs, the right one the rest. */
@media (min-width: 901px) { .two.fit-left { grid-template-columns: minmax(0, max-content) minmax(0, 1fr); } }
.formula { background: var(--bg); border-left: 4px solid var(--accent); padding: 10px 14px; font-size: 13px; margin-top: 12px; }
tr.worst > * { font-weight: 650; background: #fff8f7; }
.flag { color: var(--at_risk); font-size: 12px; border: 1px dashed currentColor; padding: 0 4px; border-radius: 3px; }
.banner { border: 1px solid var(--at_risk); background: #fff8e6; padding: 8px 12px; border-radius: 6px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 10px; }
svg.chart { max-width: 100%; height: auto; display: block; }
/* The funnel and the histogram are drawn 1,100 and 720 px wide (svg.full_width). The wide one
   fits a window of 1,156 px (the page's padding is 2 × 28); below that the narrow one shows, at its
   natural size: in a window narrower still it scrolls sideways rather than shrink its text. */
.chart-narrow { display: none; overflow-x: auto; } .chart-narrow svg.chart { max-width: none; }
svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: var(--ink); }
svg text.axis { fill: var(--muted); font-size: 11px; } svg text.val { font-size: 13px; } svg text.lbl { font-weight: 600; }
svg text.small { font-size: 10px; } svg text.limit-label { fill: var(--breach); font-weight: 700; }
.track { fill: var(--bg); } .tol { fill: #dafbe1; } .gl { stroke: var(--line); stroke-width: 1; }
.hl { fill: #fff8c5; } .boundary { stroke: var(--muted); stroke-dasharray: 2 3; }
line.target { stroke: var(--ink); stroke-width: 2; }
.target-line { fill: none; stroke: var(--ink); stroke-width: 1.5; stroke-dasharray: 5 4; }
.actual-line { fill: none; stroke: var(--accent); stroke-width: 2; }
.limit { stroke: var(--breach); stroke-width: 2.5; }
.f-met { fill: var(--met); } .f-breach { fill: var(--breach); } .f-at_risk { fill: var(--at_risk); }
.f-provisional { fill: var(--provisional); } .f-no_data { fill: var(--no_data); } .f-unjudged { fill: #c8d1da; }
.f-neutral { fill: var(--accent); } .fc { opacity: .35; }
.dot { stroke: #fff; stroke-width: 1.5; }
/* A white halo under each status mark: it sits over the target line or tick when a month
   falls just short, and the line must not strike it through. */
svg text.mark { font-size: 11px; font-weight: 800; paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
svg text.m-breach { fill: var(--breach); } svg text.m-at_risk { fill: var(--at_risk); } svg text.m-provisional { fill: var(--provisional); } svg text.m-no_data { fill: var(--no_data); }
.h-in_time { fill: var(--met); } .h-late { fill: var(--breach); } .h-none { fill: #82071e; } .h-pending { fill: var(--no_data); }
@media (max-width: 1155px) { .chart-wide { display: none; } .chart-narrow { display: block; } }
/* minmax(0, …): a column may be narrower than its widest table, which then scrolls in its box */
@media (max-width: 900px) { .two, .summary { grid-template-columns: minmax(0, 1fr); } }
/* 320 px is a 1,280 px screen zoomed to 400 % (WCAG 1.4.10, reflow): the page's and the
   figures' padding give their room to the content, so a 360 px trend chart scales to more
   than 3/4 of its size in a 305 px page (a window with its scrollbar); it shrank to 0.68. */
@media (max-width: 400px) {
  .page { padding: 16px 10px 32px; } header.top { padding: 16px 10px; } figure { padding: 4px 4px 2px; }
}
/* On paper (docs/report.md, "On paper"): A4 or Letter, portrait, the browser's margins, a
   page about 718 px (A4) to 740 px (Letter) wide. The page's margins are the white space:
   the page's box drops its padding, so the 720 px drawings of the funnel and the histogram (picked
   by the max-width rule above, as in a narrow window) fit at natural size, or scaled by
   at most 0.3 %, and the trend charts sit two abreast. Paper does not scroll: a scroll box
   would cut off what it hides. Backgrounds are not printed by default, so nothing may rely
   on one: the breach badge is white text on red on screen. */
@media print {
  header.top { background: none; color: var(--ink); border-bottom: 2px solid var(--ink); padding: 0 0 10px; }
  nav.toc { display: none; }
  .page { padding: 0; max-width: none; }
  .table-box, .chart-narrow { overflow: visible; }
  .teams > .card { flex-basis: 100%; }   /* stacked: two cards' tables may not fit a page's 718 px */
  .chart-narrow svg.chart { max-width: 100%; }
  .s-breach { color: var(--breach); background: none; border-width: 2px; }
  /* Sections run on from page to page (each kept whole left most pages part empty), but a
     heading stays with what follows it, and a chart, a card or a table row is not split.
     Chromium keeps a heading with the next block only by breaking before a sibling: in a
     section box, a hand-off heading whose chart did not fit broke inside the lead instead.
     Unboxed, the sections' headings and blocks are siblings. */
  section { display: contents; }
  h2, h3, h4, p.lead, figcaption { break-after: avoid; }
  figure, .card, .chart-wide, .chart-narrow, .summary, .formula, .banner, tr { break-inside: avoid; }
  article + article { break-before: page; }   /* each agreement of a pack starts a page */
}
"""
