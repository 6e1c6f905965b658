"""Judging the scorecard with the Great Expectations suites, and alerting the owning teams.

No `from __future__ import annotations` here: Dagster inspects the context annotation.
"""

from collections import Counter
from datetime import UTC, datetime

import dagster as dg

from pipelines.agreement import load_agreements
from pipelines.agreement.kpis import KPI_FAMILIES, STATUSES, family
from pipelines.agreement.load import has_started, in_force, not_judged
from pipelines.agreement.months import parse_as_of, spans
from pipelines.defs.dbt import SCORECARD
from pipelines.defs.partitions import tagged_as_of
from pipelines.defs.resources import FunnelpactResource
from pipelines.errors import InputError, Problem
from pipelines.logs import RunLogHandler, routed_to

GROUP = "judgement"
ALERT_KINDS = ("breach", "at_risk", "recovered")   # pipelines.alerts.events.AlertEvent.kind
KPI_STATUS = dg.AssetKey("kpi_status")


def _check_name(kpi_family: str) -> str:
    return f"{kpi_family}_targets"


def family_check(kpi_family: str, results: list[dict], asset: dg.AssetKey) -> dg.AssetCheckResult:
    """One check per KPI family: fails on a breach, with the agreement's severity."""
    mine = [r for r in results if family(r["kpi"]) == kpi_family]
    breaches = [r for r in mine if r["status"] == "breach"]
    # Two agreements judge the same months: "2026-03 volume:lead" twice would not say whose.
    several = len({r.get("agreement") for r in results}) > 1
    severity = (dg.AssetCheckSeverity.ERROR if any(r["severity"] == "fail" for r in breaches)
                else dg.AssetCheckSeverity.WARN)
    # Each breach with its severity: an ERROR check listing a `warn` breach beside the `fail`
    # one did not say which of them made it an error.
    whose = [[r["agreement"]] if several else [] for r in breaches]
    return dg.AssetCheckResult(
        asset_key=asset,
        check_name=_check_name(kpi_family),
        passed=not breaches,
        severity=severity,
        metadata={
            "judged": len(mine),
            "breaches": ", ".join(f"{r['period']} {r['kpi']} ({', '.join([*w, r['severity']])})"
                                  for r, w in zip(breaches, whose)) or "none",
            **({"breached": _breach_table(breaches, several)} if breaches else {}),
            "at_risk": sum(r["status"] == "at_risk" for r in mine),
            "provisional": sum(r["status"] == "provisional" for r in mine),
        },
    )


def _breach_table(breaches: list[dict], several: bool) -> dg.TableMetadataValue:
    """The breaches with their figures, as the UI shows a table: the text names them only."""
    columns = ["month", "kpi", *(["agreement"] if several else []), "target", "actual", "severity"]
    kinds = {"target": "float", "actual": "float"}
    return dg.MetadataValue.table(
        records=[dg.TableRecord({c: r.get("period" if c == "month" else c) for c in columns}) for r in breaches],
        schema=dg.TableSchema(columns=[dg.TableColumn(c, kinds.get(c, "string")) for c in columns]))


def by_month(months: list[str], pairs: list[tuple[str, str]], kinds: tuple[str, ...]) -> dg.TableMetadataValue:
    """How many (month, kind) pairs each month has of each kind: KPIs by status, alerts by
    kind. Dagster records a run's metadata on every month it materialises: the 2026-10 of a
    run over 2026-08..2026-11 showed `breach: 35`, the breaches of the four months, and no
    figure of October's own."""
    counts = {month: Counter() for month in months}
    for month, kind in pairs:
        if month in counts:  # metadata of the run's months: never a KeyError that fails the step
            counts[month][kind] += 1
    return dg.MetadataValue.table(
        records=[dg.TableRecord({"month": m, **{k: counts[m][k] for k in kinds}}) for m in months],
        schema=dg.TableSchema(columns=[dg.TableColumn("month", "string"),
                                       *(dg.TableColumn(k, "int") for k in kinds)]))


def judgement_as_of(tags, con) -> datetime:
    """The run's as-of instant; without one (a run started in the UI), the instant the
    scorecard was built as of. A UI backfill builds the facts in one run and judges them in
    the next: judging them as of that later moment would mix two instants."""
    from pipelines.warehouse.judgements import scorecard_as_of

    tagged = tagged_as_of(tags)
    if tagged is not None:
        return tagged
    built = scorecard_as_of(con)
    return built.replace(tzinfo=UTC) if built else parse_as_of(None)


def run_months(context: dg.AssetExecutionContext) -> list[str]:
    """The months a run asks to judge: its partitions (backfill, schedule, CLI, a month or
    range picked in the UI).

    A run launched with none (the UI launchpad without a partition, `dagster job execute`)
    cannot judge: Dagster itself fails the `alerts` step of such a run, where it reads the
    partitions of its input `kpi_status`. Said here, naming what to do, instead of Dagster's
    "Cannot access partition_key for a non-partitioned run"."""
    if context.has_partition_key or context.has_partition_key_range:
        return list(context.partition_keys)
    raise InputError(Problem(
        "the run has no month to judge: launch it with a partition (a month) or a partition range, e.g. "
        "*Materialize* on the job's page with the months selected, or *Launch backfill* (one run for the "
        "range); `funnelpact run` judges the current and settling months (docs/operations.md)",
        field="partition"))


def build_judgement_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.asset(
        key=KPI_STATUS,
        deps=[SCORECARD],
        group_name=GROUP,
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        # The GX verdicts per KPI family, as checks on the judgement that holds them.
        check_specs=[dg.AssetCheckSpec(_check_name(f), asset=KPI_STATUS,
                                       description=f"Great Expectations: the agreed {f.replace('_', ' ')} targets are met")
                     for f in KPI_FAMILIES],
        description="The scorecard judged by the Great Expectations suites generated from sla/ "
        "(met, breach, provisional, at_risk, no_data), stored in judgements.kpi_status.",
    )
    def kpi_status(context: dg.AssetExecutionContext, funnelpact: FunnelpactResource):
        from pipelines.checks.validate import judge
        from pipelines.warehouse.judgements import last_build, write_judgements
        from pipelines.warehouse.summary import data_warnings

        agreements = load_agreements(funnelpact.settings().sla_dir)
        # A UI run may cover a gap between revisions, in part or only, or months not begun by
        # the instant judged (after `funnelpact run --as-of` in the past, a UI run judges as
        # of those facts): judge the others, say which not. Judged, such a month has no row,
        # and its earlier judgements were replaced by none. Failing would keep the alerts
        # step (retries of pending deliveries) from running.
        asked = run_months(context)
        covered = in_force(agreements, asked)
        months: list[str] = []
        rows: list[dict] = []
        as_of = None
        if covered:
            with funnelpact.connect() as con:
                as_of = judgement_as_of(context.run.tags, con)
                months = [m for m in covered if has_started(agreements, m, as_of)]
                if months:
                    rows = [{**r.to_dict(), "expectation": r.expectation_id}
                            for r in judge(con, agreements, months, as_of)]
                    for warnings in data_warnings(con, months).values():
                        for warning in warnings:
                            context.log.warning(warning)
                    # The build judged: this run's, or an earlier one's (a UI backfill judges in a later run).
                    write_judgements(con, rows, months, as_of, context.run.run_id, last_build(con))
        for note in not_judged(asked, covered, months):
            context.log.warning(note)
        left_out = [m for m in asked if m not in months]
        selected = {key.name for key in context.selected_asset_check_keys}
        return dg.MaterializeResult(
            metadata={**({"months": f"{months[0]}..{months[-1]}"} if months else {}),
                      **({"as_of": f"{as_of:%Y-%m-%d %H:%M} UTC"} if as_of else {}),
                      **Counter(r["status"] for r in rows),   # over all the run's months
                      **({"by_month": by_month(months, [(r["period"], r["status"]) for r in rows], STATUSES)}
                         if months else {}),
                      **({"not_judged": spans(left_out)} if left_out else {})},
            check_results=[family_check(f, rows, KPI_STATUS) for f in KPI_FAMILIES
                           if _check_name(f) in selected])

    @dg.asset(
        deps=[KPI_STATUS],
        group_name=GROUP,
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        description="Alerts to the owning teams on each new breach, risk or recovery (SPEC §6).",
    )
    def alerts(context: dg.AssetExecutionContext, funnelpact: FunnelpactResource) -> dg.MaterializeResult:
        from pipelines.alerts import dispatch
        from pipelines.warehouse.judgements import read_judgements

        settings = funnelpact.settings()
        months = list(context.partition_keys)
        with funnelpact.connect() as con:
            results = read_judgements(con, months)
        # `alerts` materialised alone for a month nobody judged announced nothing, under a
        # green step that did not say why.
        if unjudged := [m for m in months if m not in {r["period"] for r in results}]:
            context.log.warning(f"no judgement of {spans(unjudged)} in the warehouse: nothing to announce for it "
                                "(materialise kpi_status for the month first)")
        # The log channel's alerts and the failed deliveries, with dispatch's summary, in
        # the run's log: the UI shows them for a run the daemon launched too.
        with routed_to(RunLogHandler(context.log)):
            report = dispatch(results, load_agreements(settings.sla_dir), settings.alert_state)
        # Deliveries and retries are the run's, not a month's; the new alerts are each month's.
        return dg.MaterializeResult(metadata={"months": f"{months[0]}..{months[-1]}",
                                              "new_alerts": len(report.alerts), "sent": report.sent,
                                              "failed": report.failed, "pending": report.pending,
                                              "what_if": report.what_if, "held": sum(report.held.values()),
                                              "by_month": by_month(months, [(a.period, a.kind) for a in report.alerts],
                                                                   ALERT_KINDS),
                                              **({"not_judged": spans(unjudged)} if unjudged else {})})

    return [kpi_status, alerts]
