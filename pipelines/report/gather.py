"""Everything the review pack shows, read from the warehouse into plain data.

Judged figures (scorecard, funnel, trends, forecast, bottleneck) come from
`judgements.kpi_status`, so the report says exactly what the run said and alerted on.
Details the scorecard does not hold (hand-off hours per MQL, recycle reasons, quarantine
by reason) come from `marts.mql_handoffs` and the `raw` tables of the last build; when that
is not the build the month was judged from (another run, `judgements.last_build`) or ran at
another as-of instant, the report says so.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

from pipelines.agreement.kpis import month_targets
from pipelines.agreement.model import Agreement
from pipelines.agreement.months import days_elapsed, days_in_month, month_bounds_utc, month_index
from pipelines.agreement.plan import MonthPlan, plan_agreement
from pipelines.errors import InputError, Problem
from pipelines.warehouse.connection import connect, warehouse_tables
from pipelines.warehouse.judgements import last_build, read_judgements, scorecard_as_of
from pipelines.warehouse.summary import data_quality_summary, data_warnings, months_outside_the_data_by_agreement


def _not_judged_yet(month: str, where: str) -> InputError:
    return InputError(Problem(
        f"{month} has not been judged yet in {where}: run `funnelpact run --from {month} --to {month}` "
        f"or `funnelpact backfill --from {month} --to {month}` for that month first",
        field="--month"))


@dataclass(frozen=True)
class Handoff:
    hours: float | None        # hours from MQL entry to the first sales touch; None: no touch yet
    status: str | None         # in_time, breach, pending; None without activities


@dataclass
class AgreementReport:
    agreement: Agreement                       # the revision in force for the month
    month: str
    results: list[dict[str, Any]]              # judgements of the month
    trend_months: list[str]
    trend: dict[tuple[str, str], dict]         # (period, kpi) -> judgement
    revision_of: dict[str, str]                # period -> revision (judged or in force)
    plan: MonthPlan
    judged_as_of: datetime
    judged_build: str | None                   # run id of the build judged; None before builds were named
    month_start: datetime
    month_end: datetime
    handoffs: list[Handoff] = field(default_factory=list)
    recycle_reasons: list[tuple[str, int]] = field(default_factory=list)
    # KPIs whose judged target is not the one the agreement file gives today: the revision
    # was edited after the month was judged, so the plan-based sections disagree with it.
    edited_targets: list[str] = field(default_factory=list)
    # The month begins after the CRM data's newest row: judged on no data (summary.py's line).
    after_the_data: str | None = None
    anchor_prefix: str = ""                    # "<agreement>-" when the pack holds several

    def anchor(self, section: str) -> str:
        return f"{self.anchor_prefix}{section}"

    def result(self, kpi: str) -> dict[str, Any] | None:
        return next((r for r in self.results if r["kpi"] == kpi), None)

    @property
    def is_open(self) -> bool:
        return self.judged_as_of < self.month_end

    @property
    def days_elapsed(self) -> float:
        return days_elapsed(self.month, self.agreement.spec.timezone, self.judged_as_of)

    @property
    def days_in_month(self) -> int:
        return days_in_month(self.month)


@dataclass
class ReportData:
    month: str
    as_of: datetime                            # when the report was asked for
    warehouse: Path
    agreements: list[AgreementReport]
    data_quality: dict[str, Any]
    load_report: list[dict[str, Any]]
    build_as_of: datetime | None               # as-of instant of the marts (last dbt build)
    build_id: str | None = None                # run id of the last load or dbt build (None: not recorded)
    # By kind: the month's revenue summed won deals in another currency than the agreement's
    # ('currency'); events a revision counts for no stage ('stage-values'); a month under way
    # judged on data that stopped days before ('freshness'). A closed month the CRM data does
    # not reach is each agreement's `after_the_data`.
    warnings: dict[str, list[str]] = field(default_factory=dict)
    # Revisions in force for the month that it was not judged by (added to the folder since):
    # not in the pack, which says so rather than leave a team's agreement out without a word.
    left_out: list[Agreement] = field(default_factory=list)


def left_out(agreements: list[Agreement], month: str, judged: Iterable[str]) -> list[Agreement]:
    """The revisions in force for `month` whose agreement has no judgement of it (`judged`:
    the agreements that have one): added to the folder since the month was judged."""
    judged = set(judged)
    return [a for a in agreements if month in a.months() and a.name not in judged]


def gather(warehouse: Path, agreements: list[Agreement], month: str, as_of: datetime) -> ReportData:
    if not warehouse.is_file():
        raise _not_judged_yet(month, f"the warehouse {warehouse} (it does not exist)")
    # connect: a damaged block read here is the warehouse's "move it aside" (exit 2), not a bug.
    with connect(warehouse, read_only=True) as con:
        judged = read_judgements(con, [month])
        if not judged:
            raise _not_judged_yet(month, f"the warehouse {warehouse}")
        names = sorted({r["agreement"] for r in judged})
        tables = warehouse_tables(con)
        # With several agreements, one id per section and agreement, or the table of contents
        # reaches only the first.
        reports = [_agreement_report(con, tables, agreements, name, month,
                                     [r for r in judged if r["agreement"] == name],
                                     f"{name}-" if len(names) > 1 else "") for name in names]
        # Atop each agreement's part, not among the Data quality section's banners at the end:
        # it explains every figure of the part (a funnel of zeros, all breached), page 1 onwards.
        after_the_data = months_outside_the_data_by_agreement(con, [month])
        for report in reports:
            report.after_the_data = after_the_data.get(report.agreement.name)
        build_as_of = scorecard_as_of(con) if ("marts", "scorecard") in tables else None
        return ReportData(
            month=month,
            as_of=as_of,
            warehouse=warehouse,
            agreements=reports,
            data_quality=data_quality_summary(con),
            load_report=_rows(con, "select * from raw.load_report order by table_name")
            if ("raw", "load_report") in tables else [],
            build_as_of=build_as_of,
            build_id=last_build(con),
            warnings=data_warnings(con, [month], data_end=False),
            left_out=left_out(agreements, month, names),
        )


def _agreement_report(con, tables: set[tuple[str, str]], agreements: list[Agreement], name: str,
                      month: str, results: list[dict[str, Any]], anchor_prefix: str) -> AgreementReport:
    revision = results[0]["revision"]
    agreement = next((a for a in agreements if a.name == name and a.revision == revision), None)
    if agreement is None:
        raise InputError(Problem(
            f"{month} was judged by agreement {name!r} revision {revision!r}, which is not in the agreement "
            "folder any more: point --sla at the agreements the month was judged with, or re-run the month",
            field="--sla"))
    if month not in agreement.months():
        # Its window was moved since: the revision has no plan, rules or targets for the month.
        raise InputError(Problem(
            f"{month} was judged by agreement {name!r} revision {revision!r}, whose window "
            f"({agreement.spec.effective.from_}..{agreement.spec.effective.to}) no longer holds it: re-run the "
            "month to judge it by the revision in force now (`funnelpact run --from "
            f"{month} --to {month}`), or point --sla at the agreements it was judged with", field="--sla"))
    revisions = [a for a in agreements if a.name == name]
    trend_months = sorted({m for a in revisions for m in a.months() if month_index(m) <= month_index(month)},
                          key=month_index)
    revision_of = {m: a.revision for a in revisions for m in a.months() if m in trend_months}
    trend = {}
    for row in read_judgements(con, trend_months):
        if row["agreement"] == name:
            trend[(row["period"], row["kpi"])] = row
            revision_of[row["period"]] = row["revision"]
    plan = next(p for p in plan_agreement(agreement) if p.period == month)
    start, end = month_bounds_utc(month, agreement.spec.timezone)
    judged_as_of = max(r["as_of"] for r in results)
    report = AgreementReport(
        agreement=agreement, month=month, results=sorted(results, key=lambda r: r["kpi"]),
        trend_months=trend_months, trend=trend, revision_of=revision_of, plan=plan,
        judged_as_of=judged_as_of, judged_build=results[0].get("build_id"), month_start=start, month_end=end,
        edited_targets=_edited_targets(month_targets(agreement, plan), results), anchor_prefix=anchor_prefix,
    )
    if ("marts", "mql_handoffs") in tables:
        report.handoffs = [Handoff(hours, status) for hours, status in con.execute(
            """
            select epoch(first_touch_at - mql_entered_at) / 3600.0, first_touch_status
            from marts.mql_handoffs
            where agreement = ? and period = ?
            order by mql_entered_at, contact_id
            """, [name, month]).fetchall()]
        if ("raw", "lifecycle_events") in tables:
            report.recycle_reasons = _recycle_reasons(con, name, month, judged_as_of)
    return report


def _edited_targets(in_file: dict[str, Fraction | None], results: list[dict[str, Any]]) -> list[str]:
    judged = {r["kpi"]: r["target"] for r in results}
    return sorted(kpi for kpi in in_file.keys() | judged.keys()
                  if kpi not in in_file or kpi not in judged
                  or not _same_target(in_file[kpi], judged[kpi]))


def _same_target(in_file: Fraction | None, judged: float | None) -> bool:
    if in_file is None or judged is None:
        return in_file is None and judged is None
    # The judged target went through a double; the file's is exact.
    return math.isclose(float(in_file), float(judged), rel_tol=1e-9, abs_tol=1e-12)


def _recycle_reasons(con, name: str, month: str, as_of: datetime) -> list[tuple[str, int]]:
    """Per reason, the month's MQLs whose latest recycled event (up to as_of) gives it.

    One reason per contact, so the counts add up to the recycled MQLs of the recycle rate.
    """
    rows = con.execute(
        """
        with mqls as (
            select contact_id from marts.mql_handoffs where agreement = ? and period = ?
        ),
        recycled as (
            select
                events.contact_id,
                coalesce(nullif(trim(events.reason), ''), '(no reason given)') as reason,
                row_number() over (
                    partition by events.contact_id order by events.occurred_at desc, events.reason
                ) as latest
            from raw.lifecycle_events as events
            inner join mqls on events.contact_id = mqls.contact_id
            where events.stage = 'recycled' and events.occurred_at <= ?
        )
        select reason, count(*) as contacts
        from recycled
        where latest = 1
        group by reason
        order by contacts desc, reason
        """, [name, month, as_of]).fetchall()
    return [(reason, int(n)) for reason, n in rows]


def _rows(con, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]

