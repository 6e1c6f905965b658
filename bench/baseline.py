"""The physical floor: one hand-written DuckDB query for the monthly volumes (SPEC §3),
straight over the canonical files, with none of the pipeline's machinery.

Entry into stage S = the earliest event at or after S in the funnel, up to as_of; Volume(S, P)
= contacts whose entry falls in local month P; visits = web sessions over P's dates. It does
the minimum the contract needs for the same figures on the same files: unparseable timestamps
and unknown stages are skipped, events of contacts not in `contacts` are ignored. It skips
what the pipeline adds on top (quarantine records, hand-offs, conversions, judging, alerts).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.agreement import load_agreements
from pipelines.data.sources import find_source


def _reader(data_dir: Path, table: str) -> str:
    source = find_source(data_dir, table)
    files = ", ".join(f"'{p.resolve()}'" for p in source.paths)
    if source.kind == "csv":
        return f"read_csv([{files}], all_varchar = true, header = true)"
    return f"read_parquet([{files}])"


def baseline_sql(data_dir: Path, sla_dir: Path, as_of: datetime) -> str:
    agreements = load_agreements(sla_dir)
    funnels = {(tuple(s.id for s in a.spec.stages), tuple(sorted(a.stage_values().items()))) for a in agreements}
    if len(funnels) != 1:
        raise ValueError("the baseline assumes one funnel order and one vocabulary for every revision")
    order, vocabulary = next(iter(funnels))
    stages = [s for s in order if s != "visit"]
    values = dict(vocabulary)
    position = {s: i for i, s in enumerate(stages)}
    mapping = ", ".join(f"('{v.lower()}', {position[s]})" for v, s in values.items() if s in position)
    timezone = agreements[0].spec.timezone
    cutoff = as_of.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    entries = ",\n            ".join(
        f"min(occurred_at) filter (where pos >= {i}) as e{i}" for i in range(len(stages)))
    unpivot = " union all ".join(
        f"select '{s}' as stage_id, e{i} as entered_at from entries" for i, s in enumerate(stages))
    return f"""
        with stage_map(value, pos) as (values {mapping}),
        contacts as (select distinct trim(contact_id) as contact_id from {_reader(data_dir, 'contacts')}),
        events as (
            select trim(e.contact_id) as contact_id, m.pos,
                   try_cast(trim(e.occurred_at) as timestamptz) as occurred_at
            from {_reader(data_dir, 'lifecycle_events')} e
            join stage_map m on m.value = lower(trim(e.stage))
        ),
        entries as (
            select contact_id,
            {entries}
            from events
            where occurred_at <= timestamptz '{cutoff}+00'
              and contact_id in (select contact_id from contacts)
            group by contact_id
        ),
        stage_entries as ({unpivot})
        select strftime(timezone('{timezone}', entered_at), '%Y-%m') as period, stage_id,
               count(*) as volume
        from stage_entries where entered_at is not null group by all
        union all
        select strftime(try_cast(trim("date") as date), '%Y-%m'), 'visit', sum(cast(sessions as bigint))
        from {_reader(data_dir, 'web_sessions')}
        where try_cast(trim("date") as date) <= cast(timezone('{timezone}', timestamptz '{cutoff}+00') as date)
        group by all
        order by 1, 2
    """


def run_baseline(data_dir: Path, sla_dir: Path, as_of: datetime) -> list[tuple[str, str, int]]:
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        return [(p, s, int(v)) for p, s, v in con.execute(baseline_sql(data_dir, sla_dir, as_of)).fetchall()]
