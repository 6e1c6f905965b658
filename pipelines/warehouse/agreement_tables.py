"""Write the agreements into the warehouse as `raw.agreement_*` tables (docs/architecture.md).

The dbt models read the plan from here rather than re-deriving it: the planner's exact
arithmetic stays in one place, and each month and local date carries its UTC start so SQL
never does time-zone conversion.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pyarrow as pa

from pipelines.agreement.kpis import kpi_targets
from pipelines.agreement.model import Agreement, stage_value
from pipelines.agreement.months import day_start_utc, days_in_month, first_day, month_bounds_utc

if TYPE_CHECKING:
    import duckdb


def agreement_rows(agreements: list[Agreement]) -> dict[str, list[dict]]:
    """The rows of every agreement table, keyed by table name."""
    tables: dict[str, list[dict]] = {name: [] for name in _SCHEMAS}
    for a in agreements:
        key = {"agreement": a.name, "revision": a.revision}
        handoff = a.spec.handoff
        first_touch = handoff.first_touch if handoff else None
        decision = handoff.decision if handoff else None
        tables["agreement_revisions"].append({
            **key,
            "timezone": a.spec.timezone,
            "currency": a.spec.currency,
            "first_touch_hours": float(first_touch.within_hours) if first_touch else None,
            "first_touch_attainment": float(first_touch.attainment) if first_touch else None,
            "decision_days": float(decision.within_days) if decision else None,
            "decision_attainment": float(decision.attainment) if decision else None,
            "marketing_owner": a.metadata.owners.marketing.name,
            "sales_owner": a.metadata.owners.sales.name,
        })
        for month in a.months():
            start, end = month_bounds_utc(month, a.spec.timezone)
            days, first = days_in_month(month), first_day(month)
            tables["agreement_months"].append({
                **key,
                "period": month,
                "month_start_utc": start,
                "month_end_utc": end,
                "days_in_month": days,
            })
            for offset in range(days):
                day = first + timedelta(days=offset)
                tables["agreement_days"].append({
                    **key, "period": month, "local_date": day,
                    "day_start_utc": day_start_utc(day, a.spec.timezone),
                })
        for position, stage in enumerate(a.spec.stages):
            tables["agreement_stages"].append({
                **key, "stage_id": stage.id, "position": position, "label": stage.label,
                "owner": stage.owner, "definition": stage.definition,
            })
        for value, stage_id in sorted(a.stage_values().items()):
            tables["agreement_stage_values"].append({**key, "value": value, "stage_id": stage_id})
        for value in sorted(a.ignored_values()):
            tables["agreement_ignored_values"].append({**key, "value": value})
        for upper, lower in a.adjacent_pairs():
            rule = a.conversion_for(upper, lower)
            tables["agreement_conversions"].append({
                **key, "from_stage": upper, "to_stage": lower, "rate": float(rule.rate),
                "method": rule.method, "window_days": rule.window_days,
            })
        for dimension in ("seniority", "persona"):
            for value, weight in getattr(a.spec.lead_value, dimension).items():
                # As contact values are compared (stage_value): a key "vp" written with a
                # no-break space after it matched no contact, as SQL's trim() left it.
                tables["agreement_lead_weights"].append({
                    **key, "dimension": dimension, "value": stage_value(value), "weight": weight,
                })
        for t in kpi_targets(a):
            tables["agreement_targets"].append({
                **key, "period": t.period, "kpi": t.kpi,
                "target": float(t.target) if t.target is not None else None,
                "direction": t.direction, "owner": t.owner,
                "tolerance": float(t.tolerance), "severity": t.severity,
            })
    return tables


_SCHEMAS = {
    "agreement_revisions": pa.schema([
        ("agreement", pa.string()), ("revision", pa.string()), ("timezone", pa.string()),
        ("currency", pa.string()), ("first_touch_hours", pa.float64()),
        ("first_touch_attainment", pa.float64()), ("decision_days", pa.float64()),
        ("decision_attainment", pa.float64()), ("marketing_owner", pa.string()),
        ("sales_owner", pa.string()),
    ]),
    "agreement_months": pa.schema([
        ("agreement", pa.string()), ("revision", pa.string()), ("period", pa.string()),
        ("month_start_utc", pa.timestamp("us")), ("month_end_utc", pa.timestamp("us")),
        ("days_in_month", pa.int32()),
    ]),
    "agreement_days": pa.schema([
        ("agreement", pa.string()), ("revision", pa.string()), ("period", pa.string()),
        ("local_date", pa.date32()), ("day_start_utc", pa.timestamp("us")),
    ]),
    "agreement_stages": pa.schema([
        ("agreement", pa.string()), ("revision", pa.string()), ("stage_id", pa.string()),
        ("position", pa.int32()), ("label", pa.string()), ("owner", pa.string()),
        ("definition", pa.string()),
    ]),
    "agreement_stage_values": pa.schema([
        ("agreement", pa.string()), ("revision", pa.string()), ("value", pa.string()),
        ("stage_id", pa.string()),
    ]),
    "agreement_ignored_values": pa.schema([
        ("agreement", pa.string()), ("revision", pa.string()), ("value", pa.string()),
    ]),
    "agreement_conversions": pa.schema([
        ("agreement", pa.string()), ("revision", pa.string()), ("from_stage", pa.string()),
        ("to_stage", pa.string()), ("rate", pa.float64()), ("method", pa.string()),
        ("window_days", pa.int32()),
    ]),
    "agreement_lead_weights": pa.schema([
        ("agreement", pa.string()), ("revision", pa.string()), ("dimension", pa.string()),
        ("value", pa.string()), ("weight", pa.decimal128(28, 6)),
    ]),
    "agreement_targets": pa.schema([
        ("agreement", pa.string()), ("revision", pa.string()), ("period", pa.string()),
        ("kpi", pa.string()), ("target", pa.float64()), ("direction", pa.string()),
        ("owner", pa.string()), ("tolerance", pa.float64()), ("severity", pa.string()),
    ]),
}


def write_agreement_tables(con: duckdb.DuckDBPyConnection, agreements: list[Agreement]) -> None:
    """Replace the `raw.agreement_*` tables with the given agreements."""
    con.execute("create schema if not exists raw")
    for name, rows in agreement_rows(agreements).items():
        con.register("_agreement_rows", pa.Table.from_pylist(rows, schema=_SCHEMAS[name]))
        con.execute(f"create or replace table raw.{name} as select * from _agreement_rows")
        con.unregister("_agreement_rows")
