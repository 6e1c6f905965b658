"""Inline SVG charts: no library, no script, nothing fetched. Colours come from the page's
CSS classes (f-<status>), and every chart carries text labels and symbols so it reads
without colour. To a screen reader a chart is one image named by its <title>; its figures
are a table beside it (figures.py)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from pipelines.agreement.months import month_name
from pipelines.report.format import STATUS, escape

Fmt = Callable[[float], str]
LABEL_CHAR_W, LABEL_MAX_W = 7.5, 380     # the funnel's stage labels: px per character, widest column
MIN_TRACK_W = 220                        # the funnel's bars keep this much room from a long label
# The figures beside the funnel's bars, 13 px ("1,234,567 of 2,345,678 (53%)"): px per
# character (Chromium draws 6.8), and the column's least width. They were drawn on one line in
# 300 px, and an open month's visits in millions ran 26 px past the chart's edge, cut off.
VAL_CHAR_W, VAL_MIN_W = 7.5, 300
AXIS_CHAR_W = 6.5                        # 11 px axis text ("0.25–0.5", "no touch"): px per character
# A chart as wide as the page is drawn twice, and the page's CSS shows the drawing that fits
# at its natural size (style.py): scaled down to fit an 800 px window, the 1,100 px drawing
# put its 12 px text at 8 px. 720 px fits an 800 px window with its scrollbar.
WIDE_W, NARROW_W = 1100, 720


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * exponent >= value:
            return step * exponent
    return 10 * exponent


def _svg(width: int, height: int, title: str, body: str) -> str:
    # One image, named by its title: Chromium exposed each text and shape inside a role=img
    # drawing to screen readers as well (figures.py gives them its figures as a table).
    return (f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">'
            f'<title>{escape(title)}</title><g aria-hidden="true">{body}</g></svg>')


def _text(x: float, y: float, text: str, cls: str = "", anchor: str = "start", title: str | None = None) -> str:
    """`title`: the full text as a tooltip, for a label shown cut."""
    tip = f"<title>{escape(title)}</title>" if title is not None else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" class="{cls}" text-anchor="{anchor}">{tip}{escape(text)}</text>'


@dataclass(frozen=True)
class BulletRow:
    label: str
    actual: float | None
    target: float | None
    forecast: float | None
    tolerance: float
    status: str
    # The figures beside the bar, in pieces: ("167 of 118 (142%)", "pace 180"). One line,
    # joined by commas, when it fits the column; else a line per piece.
    caption: tuple[str, ...]


def full_width(draw: Callable[[int], str], title: str) -> str:
    """`draw(width)` at WIDE_W and at NARROW_W, each in the box the page's CSS shows or hides.
    The narrow one scrolls in a window narrower than the drawing: a Tab stop, named by the
    chart's `title`, so a keyboard can scroll it."""
    return (f'<div class="chart-wide">{draw(WIDE_W)}</div>'
            f'<div class="chart-narrow" role="region" tabindex="0" aria-label="{escape(title)}">{draw(NARROW_W)}</div>')


def bullets(rows: Sequence[BulletRow], title: str, width: int = WIDE_W) -> str:
    """Each stage on its own scale, the target at the same x on every row: the eye compares
    attainment (visits in thousands and customers in tens share one picture)."""
    # Stage labels are the agreement's: the label column grows with the longest (12 px bold
    # runs about 7 px a character; 7.5 leaves room), up to a cap past which a label is cut
    # with "…" and keeps its full text as a tooltip. Fixed at 170 px, a long label ran off
    # the chart's left edge. A narrow drawing cuts labels sooner: its bars keep MIN_TRACK_W.
    row_h = 40
    captions = [_caption_lines(row) for row in rows]
    # The figures' column takes its widest line (a 15-digit target needs 385 px), taken from the labels' room.
    right_w = max([VAL_MIN_W] + [math.ceil(len(line) * VAL_CHAR_W) + 10 for lines in captions for line in lines])
    longest = max((len(row.label) for row in rows), default=0)
    label_w = min(max(170, math.ceil(longest * LABEL_CHAR_W) + 20), LABEL_MAX_W, width - right_w - MIN_TRACK_W)
    fits = int((label_w - 20) / LABEL_CHAR_W)
    track = width - label_w - right_w
    target_x = label_w + track / 1.5            # the track runs to 150 % of target
    parts = []
    for i, row in enumerate(rows):
        y = 10 + i * row_h
        if len(row.label) <= fits:
            parts.append(_text(label_w - 10, y + 19, row.label, "lbl", "end"))
        else:
            shown = row.label[:fits - 1].rstrip() + "…"
            parts.append(_text(label_w - 10, y + 19, shown, "lbl", "end", title=row.label))
        parts.append(f'<rect x="{label_w}" y="{y + 6}" width="{track}" height="20" class="track"/>')
        if row.target:
            ok_from = target_x - (target_x - label_w) * row.tolerance
            parts.append(f'<rect x="{ok_from:.1f}" y="{y + 6}" width="{target_x - ok_from:.1f}" height="20" class="tol"/>')
            if row.forecast is not None and row.actual is not None and row.forecast > row.actual:
                fx = label_w + min(row.forecast / row.target, 1.5) * (target_x - label_w)
                parts.append(f'<rect x="{label_w}" y="{y + 10}" width="{fx - label_w:.1f}" height="12" '
                             f'class="fc f-{escape(row.status)}"/>')
            if row.actual is not None:
                ax = label_w + min(row.actual / row.target, 1.5) * (target_x - label_w)
                parts.append(f'<rect x="{label_w}" y="{y + 10}" width="{max(ax - label_w, 1):.1f}" height="12" '
                             f'class="f-{escape(row.status)}"/>')
        lines = captions[i]
        for j, line in enumerate(lines):  # one line beside the bar's middle; two either side of it
            parts.append(_text(label_w + track + 10, y + (20 if len(lines) == 1 else 14 + 16 * j), line, "val"))
    parts.append(f'<line x1="{target_x:.1f}" x2="{target_x:.1f}" y1="4" y2="{10 + len(rows) * row_h}" class="target"/>')
    parts.append(_text(target_x, 10 + len(rows) * row_h + 14, "target", "axis", "middle"))
    parts.append(_text(label_w + track, 10 + len(rows) * row_h + 14, "150 %", "axis", "end"))
    return _svg(width, 10 + len(rows) * row_h + 22, title, "".join(parts))


def _caption_lines(row: BulletRow) -> list[str]:
    """The status symbol and the figures of a funnel row, on the lines they take."""
    symbol = STATUS.get(row.status, ("?", row.status))[0]
    one = f"{symbol} {', '.join(row.caption)}"
    if len(one) * VAL_CHAR_W <= VAL_MIN_W - 10 or len(row.caption) < 2:
        return [one]
    return [f"{symbol} {row.caption[0]},", *(f"{piece}," for piece in row.caption[1:-1]), row.caption[-1]]


@dataclass(frozen=True)
class Point:
    period: str
    actual: float | None
    target: float | None
    status: str | None           # None: not judged
    # Why a month has no status though it was judged: its revision has no such KPI.
    absent: str | None = None


def _marks(points: Sequence[Point], x: Callable[[int], float], y: Callable[[float], float], base: float,
           lift: float) -> str:
    """The status symbol of each month not simply met, `lift` px over its figure: the chart
    reads without colour. A month judged without a figure (no_data) has it over the baseline,
    which tells it apart from a month not judged. Charts draw the marks last: a month just
    short of its target has its ✗ where the target line runs, and under the line the symbol
    was struck through (the marks' halo is in style.py)."""
    marks = []
    for i, p in enumerate(points):
        if p.status in (None, "met"):
            continue
        at = y(p.actual) - lift if p.actual is not None else base - 4
        marks.append(_text(x(i), at, STATUS.get(p.status, ("?",))[0], f"mark m-{escape(p.status)}", "middle"))
    return "".join(marks)


def _frame(points: Sequence[Point], width: int, height: int, top: float, fmt: Fmt,
           boundaries: Sequence[str], highlight: str | None):
    # Months are named ("Jan", not "01": a number on an axis reads as a quantity). Months of
    # more than one year get a row of years under them: two years of revisions read
    # "… Dec Jan Feb …" and "Jan" twice, with nothing saying which year.
    years = len({p.period[:4] for p in points}) > 1
    left, right, bottom = 48, 8, 36 if years else 24
    values = [v for p in points for v in (p.actual, p.target) if v is not None]
    y_max = _nice_max(max(values) * 1.05 if values else 1.0)
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(points), 1)

    def y(value: float) -> float:
        return top + plot_h * (1 - value / y_max)

    def x(i: int) -> float:
        return left + step * (i + 0.5)

    # A month's label every `every` months: two years of half-year revisions put 24 labels in
    # 304 px, 12.7 px apart, and they ran together ("0102030405…").
    names = [month_name(p.period) for p in points]
    every = next((k for k in (1, 2, 3, 4, 6, 12) if not _crowded(names[::k], step * k)), 12)
    parts = []
    for frac in (0, 0.5, 1):
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(y_max * frac):.1f}" y2="{y(y_max * frac):.1f}" class="gl"/>')
        parts.append(_text(left - 4, y(y_max * frac) + 4, fmt(y_max * frac), "axis", "end"))
    for i, p in enumerate(points):
        if p.period == highlight:
            parts.append(f'<rect x="{left + step * i:.1f}" y="{top}" width="{step:.1f}" height="{plot_h:.1f}" class="hl"/>')
        if i % every == 0:
            parts.append(_text(x(i), height - (20 if years else 8), names[i], "axis", "middle"))
        if years and _starts_a_year(points, i, step):
            parts.append(_text(left + step * i, height - 6, p.period[:4], "axis year", "start"))
        if p.period in boundaries and i > 0:
            bx = left + step * i
            parts.append(f'<line x1="{bx:.1f}" x2="{bx:.1f}" y1="{top - 4}" y2="{top + plot_h}" class="boundary"/>')
    return parts, x, y, step, top + plot_h


def columns(points: Sequence[Point], title: str, fmt: Fmt, boundaries: Sequence[str] = (),
            highlight: str | None = None, width: int = 360, height: int = 170) -> str:
    """Monthly volumes as columns coloured by status, the target as a tick per month."""
    parts, x, y, step, base = _frame(points, width, height, 14, fmt, boundaries, highlight)
    bar_w = max(step * 0.6, 2)
    for i, p in enumerate(points):
        if p.actual is not None:
            cls = f"f-{p.status}" if p.status else "f-unjudged"
            parts.append(f'<rect x="{x(i) - bar_w / 2:.1f}" y="{y(p.actual):.1f}" width="{bar_w:.1f}" '
                         f'height="{max(base - y(p.actual), 0.5):.1f}" class="{escape(cls)}"/>')
        if p.target is not None:
            parts.append(f'<line x1="{x(i) - step * 0.45:.1f}" x2="{x(i) + step * 0.45:.1f}" y1="{y(p.target):.1f}" '
                         f'y2="{y(p.target):.1f}" class="target"/>')
    return _svg(width, height, title, "".join(parts) + _marks(points, x, y, base, 4))


def lines(points: Sequence[Point], title: str, fmt: Fmt, boundaries: Sequence[str] = (),
          highlight: str | None = None, width: int = 360, height: int = 170) -> str:
    """A rate over the months, the agreed rate dashed; a marker per judged month by status."""
    parts, x, y, step, base = _frame(points, width, height, 14, fmt, boundaries, highlight)
    for attr, cls in (("target", "target-line"), ("actual", "actual-line")):
        path = []
        for i, p in enumerate(points):
            value = getattr(p, attr)
            if value is None:
                continue
            before = i > 0 and getattr(points[i - 1], attr) is not None
            after = i + 1 < len(points) and getattr(points[i + 1], attr) is not None
            if attr == "target" and not (before or after):
                # A lone month (the agreement's first, or one between months not judged): a path
                # of one point draws nothing, so the agreed rate is a level tick, like the columns'.
                path.append(f"M{x(i) - step * 0.45:.1f},{y(value):.1f} L{x(i) + step * 0.45:.1f},{y(value):.1f}")
                continue
            path.append(f'{"L" if before else "M"}{x(i):.1f},{y(value):.1f}')
        if path:
            parts.append(f'<path d="{" ".join(path)}" class="{cls}"/>')
    for i, p in enumerate(points):
        if p.actual is not None:
            cls = f"f-{p.status}" if p.status else "f-unjudged"
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(p.actual):.1f}" r="4" class="{escape(cls)} dot"/>')
    return _svg(width, height, title, "".join(parts) + _marks(points, x, y, base, 7))


@dataclass(frozen=True)
class Bin:
    label: str
    count: int
    kind: str                    # in_time, late, none (never touched), pending


def _starts_a_year(points: Sequence[Point], i: int, step: float) -> bool:
    """Whether the year is written under month `i`: each January, and the first month unless a
    January follows too closely for both years to fit ("2026" is ~26 px of axis text)."""
    if points[i].period.endswith("-01"):
        return True
    following = next((j for j, p in enumerate(points) if p.period.endswith("-01")), len(points))
    return i == 0 and following * step >= 4 * AXIS_CHAR_W + 6


def _crowded(labels: Sequence[str], step: float) -> bool:
    """Whether two neighbouring labels, centred `step` px apart, would come closer than 4 px."""
    return any((len(a) + len(b)) * AXIS_CHAR_W / 2 > step - 4 for a, b in pairwise(labels))


def histogram(bins: Sequence[Bin], limit_after: int, limit_label: str, title: str,
              width: int = WIDE_W, height: int = 230) -> str:
    """Counts per bin; a vertical line after bin `limit_after` (0-based) marks the limit."""
    left, right, top, bottom = 44, 8, 22, 40
    plot_w = width - left - right
    step = plot_w / max(len(bins), 1)
    # In the narrow drawing a bin is about 45 px: the bins of a 1 h limit ("0.25–0.5",
    # "0.5–0.75") or "no touch" beside "waiting" ran into each other. Every other label then
    # drops a line, and the chart grows by one.
    stagger = _crowded([b.label for b in bins], step)
    if stagger:
        height, bottom = height + 12, bottom + 12
    plot_h = height - top - bottom
    y_max = _nice_max(max([b.count for b in bins] + [1]) * 1.1)
    # Counts are whole: the middle gridline must be one too (a line at 12.5 labelled "12" misreads).
    while (y_max / 2) % 1:
        y_max = _nice_max(y_max * 1.0001)
    parts = []
    for frac in (0, 0.5, 1):
        gy = top + plot_h * (1 - frac)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{gy:.1f}" y2="{gy:.1f}" class="gl"/>')
        parts.append(_text(left - 4, gy + 4, f"{y_max * frac:,.0f}", "axis", "end"))
    for i, b in enumerate(bins):
        h = plot_h * b.count / y_max
        bx = left + step * i
        parts.append(f'<rect x="{bx + 2:.1f}" y="{top + plot_h - h:.1f}" width="{max(step - 4, 1):.1f}" '
                     f'height="{max(h, 0):.1f}" class="h-{escape(b.kind)}"/>')
        if b.count:
            parts.append(_text(bx + step / 2, top + plot_h - h - 4, f"{b.count:,}", "val small", "middle"))
        label_y = height - bottom + 14 + (12 if stagger and i % 2 else 0)
        parts.append(_text(bx + step / 2, label_y, b.label, "axis", "middle"))
    lx = left + step * (limit_after + 1)
    parts.append(f'<line x1="{lx:.1f}" x2="{lx:.1f}" y1="{top - 8}" y2="{top + plot_h}" class="limit"/>')
    parts.append(_text(lx + 4, top - 10 + 8, limit_label, "limit-label"))
    parts.append(_text(left + plot_w / 2, height - 6, "hours from MQL entry to the first sales touch", "axis", "middle"))
    return _svg(width, height, title, "".join(parts))
