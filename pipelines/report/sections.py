"""The report's sections, each a function from gathered data to an HTML fragment.

Every piece of text from the agreement, the CRM or the warehouse goes through `escape`:
stage labels, definitions and recycle reasons are user input, and the file is e-mailed.
"""

from __future__ import annotations

import math
import statistics
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from pipelines.agreement.figure_text import gap_places
from pipelines.agreement.kpis import at_risk_after_days, kpi_label, known_kpi_ids, policy, stage_label
from pipelines.agreement.months import month_range, spans
from pipelines.report import figures, svg
from pipelines.report.bottleneck import Bottleneck, attribute
from pipelines.report.format import (
    STATUS_ORDER,
    TEAMS,
    agreed_percent,
    data_number,
    escape,
    kpi_code,
    kpi_value,
    money,
    number,
    percent,
    revenue_target,
    scorecard_actual,
    share_of_target,
    status_badge,
    target_and_actual,
)
from pipelines.report.gather import AgreementReport, Handoff, ReportData
from pipelines.warehouse.summary import unknown_stage_values_text
from pipelines.wording import counted

TEAM_TITLE = {"marketing": "Marketing", "sales": "Sales", "shared": "Shared (both teams)"}


def _section(anchor: str, title: str, body: str, lead: str = "", r: AgreementReport | None = None) -> str:
    """A section of agreement `r`'s part (of the whole pack without one)."""
    lead_html = f'<p class="lead">{lead}</p>' if lead else ""
    # tabindex=-1: a link of the contents moves the focus here (a browser focuses a link's
    # target only if it can take focus), so the next Tab and a screen reader go on from here.
    return f'<section id="{escape(anchor)}" tabindex="-1">{_heading(r, 2, escape(title))}{lead_html}{body}</section>'


def _heading(r: AgreementReport | None, level: int, html: str, cls: str = "") -> str:
    """A heading of `level` in one agreement's report. In a pack of several, each part sits
    under its agreement's name (an h2): its headings go one level deeper, so a screen reader's
    outline nests them, and keep their look (class h<level>)."""
    depth = level + 1 if r is not None and r.anchor_prefix else level
    classes = " ".join(c for c in (f"h{level}" if depth != level else "", cls) if c)
    attrs = f' class="{classes}"' if classes else ""
    return f"<h{depth}{attrs}>{html}</h{depth}>"


class Num(str):
    """A column heading over figures: right-aligned like them (`td.num`)."""


def _table(label: str, head: list[str], rows: list[str], cls: str = "") -> str:
    """A table that `label` (plain text) names: its caption for a screen reader, which
    reads a table's caption before its cells, and the name of its box."""
    th = "".join(f'<th scope="col" class="num">{h}</th>' if isinstance(h, Num) else f'<th scope="col">{h}</th>'
                 for h in head)
    # In its own scrolling box: a table wider than a phone's screen scrolls by itself, not the
    # page. The box is a Tab stop, so a keyboard can scroll it (its arrow keys), named so a
    # screen reader says what it entered.
    return (f'<div class="table-box" role="region" tabindex="0" aria-label="{escape(label)}">'
            f'<table class="{cls}"><caption class="sr-only">{escape(label)}</caption><thead><tr>{th}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def _row_head(html: str, cls: str = "") -> str:
    """A body row's first cell, which names the row (the KPI, step, stage or reason): a
    heading, so a screen reader moving down a column of figures says whose each one is."""
    attrs = f' class="{cls}"' if cls else ""
    return f'<th scope="row"{attrs}>{html}</th>'


def _named(r: AgreementReport, label: str) -> str:
    """`label` with the agreement's name in a pack of several, where each part has its own."""
    return f"{r.agreement.name}: {label}" if r.anchor_prefix else label


# A column of bars that draw the row's figure again: its heading says so to a screen reader
# (an empty heading reads as nothing), and the bars themselves are hidden from it.
BARS = '<span class="sr-only">bar</span>'
# The worst step's mark: a screen reader reads "black right-pointing triangle", or nothing.
WORST = '<span aria-hidden="true">▶ </span><span class="sr-only">loses most: </span>'


def _currency(r: AgreementReport) -> str:
    return r.agreement.spec.currency


# --- summary ---------------------------------------------------------------------------------

def summary(r: AgreementReport, bottleneck: Bottleneck | None) -> str:
    a = r.agreement
    counts: dict[str, int] = {}
    for row in r.results:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    chips = "".join(
        f'<li class="chip c-{s}">{status_badge(s)} <b>{counts[s]}</b></li>' for s in STATUS_ORDER if counts.get(s))
    owners = a.metadata.owners
    state = (f"open — {r.days_elapsed:.1f} of {r.days_in_month} days elapsed; figures are provisional"
             if r.is_open else "closed")
    fails = [row for row in r.results if row["status"] == "breach" and row["severity"] == "fail"]
    by_team = {t: sum(1 for row in r.results if row["owner"] == t and row["status"] in ("breach", "at_risk"))
               for t in TEAMS}
    facts = [
        ("Revision in force", f"{escape(a.revision)} ({escape(a.spec.effective.from_)} to {escape(a.spec.effective.to)})"),
        ("Month", f"{escape(r.month)}, {escape(state)}"),
        ("Judged as of", f"{r.judged_as_of:%Y-%m-%d %H:%M} UTC"),
        ("Owners", f"marketing: {escape(owners.marketing.name)} · sales: {escape(owners.sales.name)}"),
        ("Revenue target", escape(revenue_target(r.plan.revenue, r.plan.customers, a.spec.average_deal_size,
                                                 a.spec.currency))),
    ]
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    attention = ", ".join(f"{TEAM_TITLE[t].split(' ')[0].lower()} {n}" for t, n in by_team.items() if n) or "none"
    headline = (f"{len(fails)} fail-severity breach{'es' if len(fails) != 1 else ''}; "
                f"KPIs breached or at risk by team: {attention}.")
    if bottleneck and bottleneck.worst:
        w = bottleneck.worst
        headline += (f" Biggest revenue leak: <b>{escape(_step_name(r, w.from_stage, w.stage_id))}</b> "
                     f"({escape(money(w.revenue_lost, _currency(r)))}).")
    # A heading only screen readers get: a reader moving by headings skipped the summary.
    return (_heading(r, 2, escape(_named(r, "Summary")), "sr-only")
            + f'<div class="summary"><dl class="facts">{dl}</dl>'
            f'<div><ul class="chips" aria-label="KPIs by status">{chips}</ul>'
            f'<p class="headline">{headline}</p></div></div>')


# --- funnel against targets ------------------------------------------------------------------

def funnel(r: AgreementReport) -> str:
    rows = []
    for stage in r.agreement.spec.stages:
        res = r.result(f"volume:{stage.id}")
        if res is None:
            continue
        target, actual, forecast = res["target"], res["actual"], res.get("forecast")
        if actual is None:
            caption = ("no data",)
        elif target:
            caption = (f"{number(actual)} of {number(target)} ({share_of_target(actual, target, res['tolerance'])})",)
            if forecast is not None:
                caption += (f"pace {number(forecast)}",)
        else:
            caption = (number(actual),)
        rows.append(svg.BulletRow(stage.label, actual, target, forecast, float(res["tolerance"] or 0),
                                  res["status"], caption))
    title = f"Funnel volumes of {r.month} against their targets"
    chart = (svg.full_width(lambda width: svg.bullets(rows, title, width), _named(r, title))
             + figures.bullets(rows, title, any(row.forecast is not None for row in rows)))
    legend = ('<p class="note">Bars show each stage\'s volume as a share of its own target (the line); '
              'the pale band is the tolerance, still met. '
              + ("A lighter bar is the pace forecast for the whole month. " if r.is_open else "")
              + "Symbols: ✓ met, ✗ breach, ! at risk, … provisional, – no data.</p>")
    return _section(r.anchor("funnel"), "The funnel against its targets", chart + legend, r=r)


# --- scorecard per team ----------------------------------------------------------------------

def scorecard(r: AgreementReport) -> str:
    currency = _currency(r)
    cards = []
    show_forecast = any(row.get("forecast") is not None for row in r.results)
    for team in TEAMS:
        rows = [row for row in r.results if row["owner"] == team]
        if not rows:
            continue
        rows.sort(key=lambda row: (STATUS_ORDER.index(row["status"]) if row["status"] in STATUS_ORDER else 9, row["kpi"]))
        body = []
        for row in rows:
            kpi = row["kpi"]
            target, actual = target_and_actual(kpi, row["target"], row["actual"], currency)
            cells = [
                _row_head(f"{escape(kpi_label(r.agreement, kpi))}<br>{kpi_code(kpi)}", "kpi"),
                f'<td class="num">{escape(target)}</td>',
                f'<td class="num"><b>{escape(actual)}</b></td>',
            ]
            if show_forecast:
                cells.append(f'<td class="num">{escape(kpi_value(kpi, row.get("forecast"), currency))}</td>')
            cells.append(f'<td>{status_badge(row["status"])}<br><small>{escape(str(row["severity"] or ""))}</small></td>')
            attrs = (f'data-agreement="{escape(row["agreement"])}" data-revision="{escape(row["revision"])}" '
                     f'data-period="{escape(row["period"])}" data-kpi="{escape(kpi)}" data-owner="{escape(team)}" '
                     f'data-target="{data_number(row["target"])}" data-actual="{data_number(row["actual"])}" '
                     f'data-forecast="{data_number(row.get("forecast"))}" data-status="{escape(row["status"])}"')
            body.append(f'<tr class="r-{escape(row["status"])}" {attrs}>{"".join(cells)}</tr>')
        head = ["KPI", Num("target"), Num("actual")] + ([Num("pace")] if show_forecast else []) + ["status"]
        breaches = sum(1 for row in rows if row["status"] == "breach")
        title = f"{escape(TEAM_TITLE[team])} <small>{counted(len(rows), 'KPI')}, {breaches} breached</small>"
        cards.append(f'<div class="card team-{team}">{_heading(r, 3, title)}'
                     f'{_table(_named(r, f"Scorecard: {TEAM_TITLE[team]}"), head, body, "scorecard")}</div>')
    # Each status with its meaning, as docs/report.md's table gives it: "breach" stood alone, and
    # a hand-off KPI provisional in a closed month had no reason in "the month or cohort".
    legend = ('<p class="note">Status: <b>✓ met</b> at or within tolerance of target · <b>✗ breach</b> '
              'outside tolerance, final · <b>! at risk</b> the pace forecast would breach · <b>… provisional</b> '
              'the month, cohort or hand-off window is still open · <b>– no data</b> no figure: a table the KPI '
              'needs was not delivered, or nobody to divide by once the month is final (e.g. no MQLs that month). '
              'Severity <i>fail</i> fails the run; <i>warn</i> is reported only.</p>')
    return _section(r.anchor("scorecard"), "Scorecard by team", f'<div class="teams">{"".join(cards)}</div>{legend}', r=r)


# --- pace forecast ---------------------------------------------------------------------------

def pace(r: AgreementReport) -> str:
    currency = _currency(r)
    if not r.is_open:
        return _section(r.anchor("pace"), "Pace forecast",
                        f"<p>{escape(r.month)} closed on {r.month_end:%Y-%m-%d %H:%M} UTC: its volumes and revenue "
                        "are final, so there is no pace forecast. Cohort and hand-off KPIs may still be "
                        "provisional until their windows pass.</p>", r=r)
    rows = []
    # In funnel order, visits to customers, then weighted MQLs and revenue: the results are
    # sorted by KPI id, which put revenue first and customers before leads.
    order = {kpi: i for i, kpi in enumerate(known_kpi_ids(r.agreement))}
    for row in sorted(r.results, key=lambda row: order.get(row["kpi"], len(order))):
        if row.get("forecast") is None:
            continue
        kpi, target, forecast = row["kpi"], row["target"], row["forecast"]
        gap = "" if target in (None, 0) else share_of_target(forecast, target, row.get("tolerance"))
        rows.append(f'<tr data-kpi="{escape(kpi)}">{_row_head(escape(kpi_label(r.agreement, kpi)))}'
                    f'<td class="num">{escape(kpi_value(kpi, row["actual"], currency))}</td>'
                    f'<td class="num"><b>{escape(kpi_value(kpi, forecast, currency))}</b></td>'
                    f'<td class="num">{escape(kpi_value(kpi, target, currency))}</td>'
                    f'<td class="num">{gap}</td><td>{status_badge(row["status"])}</td></tr>')
    lead = (f"{r.days_elapsed:.1f} of {r.days_in_month} days of {escape(r.month)} have elapsed. "
            "Forecast = actual × days in month ÷ days elapsed; a KPI whose forecast would breach is "
            "<b>! at risk</b>.")
    head = ["KPI", Num("so far"), Num("forecast"), Num("target"), Num("forecast ÷ target"), "status"]
    body = _table(_named(r, f"Pace forecast for {r.month}"), head, rows) if rows \
        else "<p>No volume or revenue KPI has a forecast.</p>"
    return _section(r.anchor("pace"), "Pace forecast for the open month", body, lead, r=r)


# --- bottleneck ------------------------------------------------------------------------------

def _uses_forecasts(r: AgreementReport) -> bool:
    """Whether the bottleneck takes the pace forecasts rather than the figures so far. The
    scorecard forecasts every paced KPI with data of an open month once any time has elapsed,
    so either all of them have a forecast or, at local midnight of day 1, none does."""
    return r.is_open and any(row.get("forecast") is not None for row in r.results)


def compute_bottleneck(r: AgreementReport) -> Bottleneck | None:
    a = r.agreement
    paced = _uses_forecasts(r)

    def figure(kpi: str) -> float | None:
        row = r.result(kpi)
        if row is None:
            return None
        return row.get("forecast") if paced else row["actual"]

    rates = {(u, l): Fraction(a.conversion_for(u, l).rate) for u, l in a.adjacent_pairs()}
    return attribute(a.stage_ids(), rates, {s: figure(f"volume:{s}") for s in a.stage_ids()},
                     r.plan.customers, Fraction(a.spec.average_deal_size), figure("revenue"))


def _bottleneck_basis(r: AgreementReport) -> str:
    """What the bottleneck's figures are, as compute_bottleneck took them."""
    if not r.is_open:
        return "with the month's final volumes"
    if _uses_forecasts(r):
        return "at the current pace (forecast volumes and revenue)"
    return "with the volumes and revenue so far (the month has no pace forecast yet)"


def _step_name(r: AgreementReport, from_stage: str | None, stage_id: str) -> str:
    if from_stage is None:
        return f"{stage_label(r.agreement, stage_id)} volume"
    return f"{stage_label(r.agreement, from_stage)} → {stage_label(r.agreement, stage_id)} conversion"


def bottleneck(r: AgreementReport, b: Bottleneck | None) -> str:
    currency = _currency(r)
    formula = (
        '<div class="formula"><b>How it is computed.</b> With M(S) the product of the agreed rates from stage S '
        "down to the last stage, the plan needs customers<sub>plan</sub> = revenue target ÷ deal size. "
        "For the top stage T: lost(T) = (customers<sub>plan</sub> ÷ M(T) − V(T)) × M(T). "
        "For each step A → B: lost(A→B) = (V(A) × agreed rate(A→B) − V(B)) × M(B), the customers "
        "missing because B received fewer contacts than the agreed rate promises from what A delivered, "
        "carried to the end of the funnel at the agreed rates. These add up exactly to customers<sub>plan</sub> "
        "− customers; × deal size they give the revenue gap, apart from <i>deal size and timing</i> "
        "(customers × deal size − revenue won). The bottleneck is the step with the largest loss. "
        "Volumes are the month's (period view), as in the plan; a negative loss is a step that over-delivered."
        "</div>")
    if b is None:
        return _section(r.anchor("bottleneck"), "The bottleneck",
                        "<p>Not computable: a funnel stage has no data this month.</p>" + formula, r=r)
    basis = _bottleneck_basis(r)
    # At the current pace the revenue here is the forecast: say so, next to the figure so far
    # that the scorecard shows, so "Revenue is" does not contradict the scorecard's actual.
    # The revenue, its target and the gap read together: the gap is the difference of the two
    # figures shown (figure_text.gap_places), in cents where whole units would not add up.
    places = gap_places("revenue", b.revenue_target, b.revenue_actual)
    revenue = f"Revenue is {escape(money(b.revenue_actual, currency, places))}"
    so_far = r.result("revenue")
    if _uses_forecasts(r) and so_far is not None and so_far["actual"] is not None:
        revenue = (f"Revenue is heading for {escape(money(b.revenue_actual, currency, places))} "
                   f"({escape(money(so_far['actual'], currency))} so far)")
    target = escape(money(b.revenue_target, currency, places))
    if b.revenue_gap is None:
        gap_text = "Revenue has no data this month"
    elif b.revenue_gap > 0:
        gap_text = f"{revenue} against a target of {target}: a gap of <b>{escape(money(b.revenue_gap, currency, places))}</b>"
    else:
        gap_text = f"{revenue}, {escape(money(-b.revenue_gap, currency, places))} above the target of {target}"
    if b.worst:
        w = b.worst
        verdict = (f"The step that loses most is <b>{escape(_step_name(r, w.from_stage, w.stage_id))}</b>: "
                   f"{number(w.customers_lost, decimals=2)} customers, {escape(money(w.revenue_lost, currency))} "
                   f"(owner: {escape(_owner_of(r, w.from_stage, w.stage_id))}).")
    else:
        verdict = "No step falls short of its agreed rate: the funnel delivered the plan or more at every step."
    biggest = max([abs(l.revenue_lost) for l in b.losses] + [1.0])
    rows = []
    for loss in b.losses:
        width = float(120 * abs(loss.revenue_lost) / biggest)
        cls = "f-breach" if loss.revenue_lost > 0 else "f-met"
        bar = (f'<svg width="124" height="12" aria-hidden="true">'
               f'<rect x="0" y="1" width="{width:.1f}" height="10" class="{cls}"/></svg>')
        mark = ' class="worst"' if b.worst is loss else ""
        rows.append(
            f'<tr{mark} data-step="{escape((loss.from_stage or "") + "->" + loss.stage_id)}" '
            f'data-revenue-lost="{data_number(loss.revenue_lost)}">'
            f"{_row_head((WORST if b.worst is loss else '') + escape(_step_name(r, loss.from_stage, loss.stage_id)))}"
            f'<td class="num">{number(loss.expected, decimals=1)}</td><td class="num">{number(loss.actual, decimals=1)}</td>'
            f'<td class="num">{number(loss.customers_lost, decimals=2, signed=True)}</td>'
            f'<td class="num">{escape(money(loss.revenue_lost, currency))}</td><td>{bar}</td></tr>')
    if b.deal_size_and_timing is not None:
        rows.append(f'<tr>{_row_head("Deal size and timing")}<td></td><td></td><td></td>'
                    f'<td class="num">{escape(money(b.deal_size_and_timing, currency))}</td><td></td></tr>')
    table = _table(_named(r, "Customers and revenue lost per step of the funnel"),
                   ["step", Num("expected"), Num("actual"), Num("customers lost"), Num("revenue lost"), BARS], rows, "losses")
    return _section(r.anchor("bottleneck"), "The bottleneck: where the revenue gap comes from",
                    f"<p>{gap_text}, {basis}. {verdict}</p>{table}{formula}", r=r)


def _owner_of(r: AgreementReport, from_stage: str | None, stage_id: str) -> str:
    if from_stage is None:
        return r.agreement.stage(stage_id).owner
    row = r.result(f"conversion:{from_stage}->{stage_id}")
    return row["owner"] if row else r.agreement.stage(from_stage).owner


# --- trends ----------------------------------------------------------------------------------

def trends(r: AgreementReport) -> str:
    a = r.agreement
    currency = a.spec.currency
    boundaries = [m for i, m in enumerate(r.trend_months) if i and r.revision_of.get(m) != r.revision_of.get(r.trend_months[i - 1])]

    judged = {period for period, _ in r.trend}

    def points(kpi: str) -> list[svg.Point]:
        out = []
        for m in r.trend_months:
            row = r.trend.get((m, kpi))
            # Judged, by a revision without this KPI (a stage it did not have): not "not judged",
            # which sent the reader to a backfill that cannot add it.
            absent = f"not in revision {r.revision_of.get(m)}" if row is None and m in judged else None
            out.append(svg.Point(m, row["actual"] if row else None, row["target"] if row else None,
                                 row["status"] if row else None, absent))
        return out

    def figure(caption: str, kpi: str, title: str) -> str:
        draw, axis = (svg.lines, _axis_percent) if kpi.startswith("conversion:") else (svg.columns, _axis_count)
        values = points(kpi)
        return (f"<figure><figcaption>{escape(caption)}</figcaption>"
                f"{draw(values, title, axis, boundaries, r.month)}"
                f"{figures.points(values, title, kpi, currency, r.month)}</figure>")

    volume_charts = [figure(stage.label, f"volume:{stage.id}", f"{stage.label}: monthly volume and target")
                     for stage in a.spec.stages]
    volume_charts.append(figure(f"Revenue won ({currency})", "revenue", "Revenue won per month and target"))
    conversion_charts = []
    for upper, lower in a.adjacent_pairs():
        label = kpi_label(a, f"conversion:{upper}->{lower}")
        conversion_charts.append(figure(label, f"conversion:{upper}->{lower}", f"{label}: conversion per month vs agreed rate"))
    missing = [m for m in r.trend_months if not any(k[0] == m for k in r.trend)]
    note = ('<p class="note">Columns and dots are coloured and shaped by status as in the scorecard '
            '(a month judged <i>no data</i> has only its – symbol); '
            'the horizontal tick (volumes) or dashed line (rates) is the target; the shaded month is this '
            "report's"
            # Only where one is drawn: a trend within one revision has no such line to explain.
            + (f"; a dotted vertical line marks a new revision of the agreement ({', '.join(escape(b) for b in boundaries)})"
               if boundaries else "") + ".")
    if missing:
        note += (f" Not judged yet, so left blank: {escape(', '.join(missing))} — run "
                 f"<code>funnelpact backfill --from {escape(missing[0])} --to {escape(missing[-1])}</code>.")
    # The axis lists the months of the revisions only: August stood next to October as if no
    # month were between them.
    shown = r.trend_months
    if gaps := [m for m in month_range(shown[0], shown[-1]) if m not in shown] if shown else []:
        note += (f" No revision of the agreement is in force in {escape(spans(gaps))}: never judged, "
                 "so left out of the charts.")
    note += "</p>"
    first, last = (r.trend_months[0], r.trend_months[-1]) if r.trend_months else (r.month, r.month)
    # "from 2026-01 to 2026-01" for the agreement's first month.
    lead = (f"Every month of the agreement from {escape(first)} to {escape(last)}, each judged by its revision in force."
            if first != last else f"{escape(first)} is the agreement's first month: the trends start with it.")
    return _section(r.anchor("trends"), "Trends over the agreement's window",
                    f'{_heading(r, 3, "Volumes")}<div class="grid">{"".join(volume_charts)}</div>'
                    f'{_heading(r, 3, "Conversion rates")}<div class="grid">{"".join(conversion_charts)}</div>{note}',
                    lead, r=r)


def _axis_count(value: float) -> str:
    """A gridline's volume or money, short: 12.5k, 1.2M, 600B. In millions alone, revenue in
    yen or won (billions a month) read "600000M", and a trillion "1.2e+06M", which ran 9 px past
    the chart's left edge."""
    for size, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{value / size:g}{unit}"
    return f"{value:g}"


def _axis_percent(value: float) -> str:
    """A gridline's rate with the decimals it has: the middle line of a 2.5 % scale is 1.25 %, not
    "1.2%". Thousands grouped, as every figure of the pack: a `period` conversion counts a month's MQLs
    against its own leads, and a month of few new leads scaled to "1260%" (past a million, "1.2e+06%")."""
    return f"{Decimal(repr(round(value * 100, 4))).normalize():,f}%"


# --- hand-offs -------------------------------------------------------------------------------

def handoffs(r: AgreementReport) -> str:
    rule = r.agreement.spec.handoff.first_touch if r.agreement.spec.handoff else None
    res = r.result("handoff:first_touch")
    if rule is None or "mql" not in r.agreement.stage_ids():
        return _section(r.anchor("handoffs"), "Hand-off time", "<p>This revision has no first-touch rule.</p>", r=r)
    limit = float(rule.within_hours)
    if not r.handoffs or all(h.status is None for h in r.handoffs):
        body = "<p>No MQL hand-offs with activity data this month.</p>"
    else:
        bins = _handoff_bins(r.handoffs, limit)
        untouched_breach = next(b.count for b in bins if b.kind == "none")
        pending = sum(b.count for b in bins if b.kind == "pending")
        title = f"Hours to the first sales touch of {r.month}'s MQLs, against the {limit:g} h limit"
        chart = (svg.full_width(lambda width: svg.histogram(bins, 3, f"limit {limit:g} h", title, width), _named(r, title))
                 + figures.bins(bins, title))
        touched = [h.hours for h in r.handoffs if h.hours is not None]
        median = statistics.median(touched) if touched else None
        in_time = sum(1 for h in r.handoffs if h.status == "in_time")
        breach = sum(1 for h in r.handoffs if h.status == "breach")
        body = (chart + f'<p>{counted(len(r.handoffs), "MQL")} entered in {escape(r.month)}: <b>{in_time:,} touched in time</b>, '
                f'{breach:,} late or not at all ({untouched_breach:,} never touched), {pending:,} still within the limit. '
                + (f"Median time to first touch: {median:.1f} h. " if median is not None else "")
                + f"Attainment {scorecard_actual(res) if res else '—'} against the agreed "
                f"{agreed_percent(rule.attainment)} — {status_badge(res['status']) if res else ''}</p>")
    return _section(r.anchor("handoffs"), "Hand-off: time to first touch", body,
                    f"Sales agreed to touch every new MQL within {counted(limit, 'hour')}, for at least "
                    f"{agreed_percent(rule.attainment)} of them. Bars left of the line are in time.", r=r)


def _handoff_bins(handoffs: list[Handoff], limit: float) -> list[svg.Bin]:
    """Twelve bins of a quarter of the limit each (four in time, eight late), then the later
    touches, the MQLs never touched in time, and those still within the limit (if any)."""
    width = limit / 4
    edges = [width * i for i in range(13)]
    counts = [0] * 12
    over = untouched_breach = pending = 0
    for h in handoffs:
        if h.hours is None:
            if h.status == "breach":
                untouched_breach += 1
            elif h.status == "pending":
                pending += 1
            continue
        i = math.floor(h.hours / width) if h.hours >= 0 else 0
        # A touch exactly at the limit is in time (SPEC §3): it belongs to the bin before the line.
        if h.hours == limit:
            i = 3
        if i < 12:
            counts[i] += 1
        else:
            over += 1
    bins = [svg.Bin(f"{_h(edges[i])}–{_h(edges[i + 1])}", counts[i], "in_time" if i < 4 else "late")
            for i in range(12)]
    bins.append(svg.Bin(f">{_h(edges[-1])}", over, "late"))
    bins.append(svg.Bin("no touch", untouched_breach, "none"))
    if pending:
        bins.append(svg.Bin("waiting", pending, "pending"))
    return bins


def _h(hours: float) -> str:
    return f"{hours:g}"


# --- recycling -------------------------------------------------------------------------------

def recycling(r: AgreementReport) -> str:
    if "mql" not in r.agreement.stage_ids():
        # The rate and its reasons count MQLs: without the stage, each agreed reason listed at
        # 0 MQLs read as nobody recycled, whatever the CRM's recycled events said.
        return _section(r.anchor("recycling"), "Recycled leads and why",
                        "<p>This revision has no stage with id mql: no recycle rate, and no recycled MQLs "
                        "to count by reason.</p>", r=r)
    res = r.result("recycle_rate")
    agreed = list(r.agreement.spec.recycling.reasons)
    total = sum(n for _, n in r.recycle_reasons)
    biggest = max([n for _, n in r.recycle_reasons] + [1])
    rows = []
    for reason, n in r.recycle_reasons:
        flag = "" if not agreed or reason in agreed else ' <span class="flag">not an agreed reason</span>'
        rows.append(f'<tr data-reason="{escape(reason)}" data-count="{n}">{_row_head(escape(reason) + flag)}'
                    f'<td class="num">{n:,}</td><td class="num">{percent(n / total, 0)}</td>'
                    f'<td><svg width="204" height="12" aria-hidden="true"><rect x="0" y="1" '
                    f'width="{200 * n / biggest:.1f}" height="10" class="f-neutral"/></svg></td></tr>')
    for reason in agreed:
        if reason not in {x for x, _ in r.recycle_reasons}:
            rows.append(f'<tr data-reason="{escape(reason)}" data-count="0">{_row_head(escape(reason))}'
                        '<td class="num">0</td><td class="num">0%</td><td></td></tr>')
    rate = (f"Recycle rate {scorecard_actual(res)} (max {agreed_percent(res['target'])}) — {status_badge(res['status'])}"
            if res else "No recycle-rate KPI this month.")
    table = (_table(_named(r, f"Recycled MQLs of {r.month} by reason"), ["reason", Num("MQLs"), Num("share"), BARS], rows)
             if rows else "<p>No MQL of the month was recycled.</p>")
    return _section(r.anchor("recycling"), "Recycled leads and why", f"<p>{rate}</p>{table}",
                    f"MQLs whose MQL entry is in {escape(r.month)} and that sales sent back to marketing, "
                    "by the reason of their latest recycled event.", r=r)


# --- the agreement ---------------------------------------------------------------------------

def agreement_rules(r: AgreementReport) -> str:
    a = r.agreement
    spec = a.spec
    stages = "".join(
        f'<tr>{_row_head(f"<b>{escape(s.label)}</b><br><code>{escape(s.id)}</code>")}<td>{escape(s.owner)}</td>'
        f'<td>{escape(s.definition or "—")}</td><td>{escape(", ".join(s.crm_values) or "—")}</td>'
        f'<td class="num">{number(r.plan.targets.get(s.id))}{" (explicit)" if s.id in r.plan.explicit else ""}</td></tr>'
        for s in spec.stages)
    conversions = "".join(
        f"<tr>{_row_head(f'{escape(stage_label(a, u))} → {escape(stage_label(a, l))}')}"
        f'<td class="num">{agreed_percent(a.conversion_for(u, l).rate)}</td>'
        f"<td>{escape(_method(a, u, l))}</td></tr>"
        for u, l in a.adjacent_pairs())
    rules = _rules(a)
    policies = []
    for kpi in known_kpi_ids(a):
        tolerance, severity = policy(a, kpi)
        policies.append(f"<tr>{_row_head(f'{escape(kpi_label(a, kpi))} {kpi_code(kpi)}')}"
                        f'<td class="num">{agreed_percent(tolerance)}</td><td>{escape(severity)}</td></tr>')
    owners = a.metadata.owners
    contacts = "".join(
        f"<li>{team}: {escape(p.name)}{(' &lt;' + escape(p.email) + '&gt;') if p.email else ''}</li>"
        for team, p in (("Marketing", owners.marketing), ("Sales", owners.sales)))
    stages_heading = _heading(r, 3, "Stages, definitions and this month's targets")
    body = (
        f"{stages_heading}"
        f'{_table(_named(r, f"Stages, definitions and targets of {r.month}"), ["stage", "owner", "definition", "CRM values", Num("target " + escape(r.month))], [stages], "rules")}'
        f'<div class="two"><div>{_heading(r, 3, "Agreed conversion rates")}{_table(_named(r, "Agreed conversion rates"), ["step", Num("rate"), "measured"], [conversions])}'
        f"{_heading(r, 3, 'Rules')}<ul>{''.join(f'<li>{x}</li>' for x in rules)}</ul>{_heading(r, 3, 'Owners')}<ul>{contacts}</ul></div>"
        f'<div>{_heading(r, 3, "Tolerance and severity")}{_table(_named(r, "Tolerance and severity per KPI"), ["KPI", Num("tolerance"), "severity"], policies, "compact")}</div></div>')
    source = f" ({escape(Path(a.source_file).name)})" if a.source_file else ""
    return _section(r.anchor("agreement"), f"The agreement in force: {a.name} {a.revision}", body,
                    f"What both teams signed up to for {escape(r.month)}{source}."
                    + (f" {escape(a.metadata.description)}" if a.metadata.description else ""), r=r)


def _rules(a) -> list[str]:
    """The agreement's rules besides its stages, rates and tolerances, one sentence each (HTML)."""
    spec = a.spec
    rules = []
    if spec.handoff and spec.handoff.first_touch:
        ft = spec.handoff.first_touch
        rules.append(f"First touch: sales touches a new MQL within <b>{counted(ft.within_hours, 'hour')}</b>, "
                     f"for at least {agreed_percent(ft.attainment)} of MQLs.")
    if spec.handoff and spec.handoff.decision:
        d = spec.handoff.decision
        rules.append(f"Decision: sales accepts (→ next stage) or rejects (recycled / disqualified) within "
                     f"<b>{counted(d.within_days, 'day')}</b>, for at least {agreed_percent(d.attainment)} of MQLs.")
    rec = spec.recycling
    # The recycle rate is over MQLs: a revision that renamed or dropped `mql` has none.
    limit = ("no recycle rate (the funnel has no stage with id mql)" if "mql" not in a.stage_ids()
             else f"at most {agreed_percent(rec.max_rate)} of MQLs" if rec.max_rate else "rate reported")
    rules.append("Recycling: " + limit
                 + (f"; agreed reasons: {escape(', '.join(rec.reasons))}" if rec.reasons else "") + ".")
    if spec.ignored_crm_values:
        rules.append("CRM values that are no stage of this funnel (their events count for none): "
                     + escape(", ".join(spec.ignored_crm_values)) + ".")
    weights = [f"{escape(dim)} {escape(k)} × {float(v):g}" for dim, table in
               (("seniority", spec.lead_value.seniority), ("persona", spec.lead_value.persona)) for k, v in table.items()]
    if weights:
        rules.append("Lead value (weighted MQLs): " + ", ".join(weights) + "; others × 1.")
    rules.append(f"Goal: {escape(money(spec.revenue_goal, spec.currency))} over {escape(spec.effective.from_)}–"
                 f"{escape(spec.effective.to)}; average deal {escape(money(spec.average_deal_size, spec.currency))}; "
                 f"months in {escape(spec.timezone)}.")
    rules.append(f"Review: {escape(spec.review.cadence)}"
                 + (f", for {escape(', '.join(spec.review.audience))}" if spec.review.audience else "") + ".")
    waits = {kpi: at_risk_after_days(a, kpi) for kpi in known_kpi_ids(a)}
    if any(waits.values()):
        rules.append("At-risk alerts wait for the month's first days: " + (
            counted(max(waits.values()), "day") if len(set(waits.values())) == 1 else
            ", ".join(f"{escape(kpi)} {counted(days, 'day')}" for kpi, days in waits.items() if days))
            + " (the scorecard shows at risk from the start).")
    return rules


def _method(a, upper: str, lower: str) -> str:
    c = a.conversion_for(upper, lower)
    if upper == "visit" or c.method == "period":
        return "period: volume ÷ volume"
    return f"cohort within {counted(c.window_days, 'day')}"


# --- data quality ----------------------------------------------------------------------------

def data_quality(data: ReportData, results: list[dict[str, Any]]) -> str:
    dq = data.data_quality
    res = next((row for row in results if row["kpi"] == "data_quality:quarantine_rate"), None)
    reasons = "".join(f'<tr data-reason="{escape(k)}" data-count="{v}">{_row_head(f"<code>{escape(k)}</code>")}'
                      f'<td class="num">{v:,}</td></tr>' for k, v in dq["by_reason"].items())
    tables = "".join(
        f'<tr>{_row_head(escape(str(t["table_name"])))}<td>{"yes" if t.get("present") else "<b>absent</b>"}</td>'
        f'<td class="num">{number(t.get("rows_read"))}</td><td class="num">{number(t.get("rows_loaded"))}</td>'
        f'<td class="num">{number(t.get("duplicate_rows"))}</td><td class="num">{number(t.get("quarantined_rows"))}</td></tr>'
        for t in data.load_report)
    rate = (f"Quarantine rate {scorecard_actual(res)} (max {agreed_percent(res['target'])}) — {status_badge(res['status'])}. "
            if res else "")
    unknown = (f'<p data-unknown-stage-values>Lifecycle values no agreement lists (<code>unknown_stage</code>): '
               f"{escape(unknown_stage_values_text(dq['unknown_stage_values']))}. List one in a stage's "
               "<code>crm_values</code> if it means a stage, or in <code>ignored_crm_values</code> if none.</p>"
               if dq.get("unknown_stage_values") else "")
    body = (f"<p>{rate}{counted(dq['quarantined_rows'], 'row')} quarantined, "
            f"{counted(dq['duplicate_rows'], 'exact duplicate')} removed. "
            "Quarantined rows are kept in <code>raw.quarantine</code> with their reason, never dropped silently.</p>"
            # Not in the reasons' column: that column is as wide as its content, and a sentence
            # there squeezed the tables beside it into scrolling.
            + unknown
            + "".join(f'<p class="banner" data-warning="{kind}">{escape(w)}</p>'
                      for kind, warnings in data.warnings.items() for w in warnings)
            + '<div class="two fit-left">'
            f'<div><h3>Quarantined rows by reason</h3>{_table("Quarantined rows by reason", ["reason", Num("rows")], [reasons]) if reasons else "<p>None.</p>"}</div>'
            f'<div><h3>Tables loaded</h3>{_table("Tables loaded", ["table", "delivered", Num("read"), Num("loaded"), Num("duplicates"), Num("quarantined")], [tables]) if tables else "<p>No load report.</p>"}</div>'
            "</div>")
    return _section("data-quality", "Data quality", body,
                    "The load the figures were built from. Absent tables make their KPIs <i>no data</i>, not zero.")
