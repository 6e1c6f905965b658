"""The Python assets that feed the dbt models: the CRM data and the agreements into raw.*
(the judgement and alerts after the models are in judgement.py).

No `from __future__ import annotations` here: Dagster inspects the context annotation.
"""


from collections.abc import Mapping

import dagster as dg

from pipelines.agreement import known_stage_values, load_agreements
from pipelines.defs.resources import FunnelpactResource

GROUP_INPUTS = "inputs"
# The load of the CRM data: its step key, and the name of its multi-asset.
LOAD_STEP = "raw_crm"


def build_input_assets(crm_tables: Mapping[dg.AssetKey, str],
                       sla_tables: Mapping[dg.AssetKey, str]) -> list[dg.AssetsDefinition]:
    """The writers of the dbt sources: one multi-asset per source, one asset per table, each
    described by its table (`source_tables`): with only the writer's sentence, the UI said
    the same of raw.quarantine as of raw.contacts.

    Not partitioned: each run loads the whole data directory and writes every agreement.
    """
    @dg.multi_asset(
        name=LOAD_STEP,
        description="The CRM data directory loaded into raw.* with quarantine (SPEC §2).",
        specs=[dg.AssetSpec(key, group_name=GROUP_INPUTS, description=f"{table}\n\nLoaded from the CRM data "
                            "directory (FUNNELPACT_DATA_DIR), with quarantine: docs/data.md.")
               for key, table in crm_tables.items()],
    )
    def raw_crm(context: dg.AssetExecutionContext, funnelpact: FunnelpactResource):
        from pipelines.data.load import load_data_dir
        from pipelines.warehouse.judgements import mark_build

        settings = funnelpact.settings()
        agreements = load_agreements(settings.sla_dir)
        with funnelpact.connect() as con:
            report = load_data_dir(settings.data_dir, con, known_stage_values(agreements))
            # The report's data-quality section reads this load: a load alone (from the UI)
            # makes it another build than the judged one.
            mark_build(con, context.run.run_id)
        how = {"full": f"reloaded in full ({report.why_full})",
               "incremental": f"appended {report.new_files} new file(s)",
               "unchanged": "no new or changed file: left as it was"}[report.mode]
        context.log.info(
            f"loaded {settings.data_dir}, {how}: {report.quarantined_rows} rows quarantined, "
            f"{report.duplicate_rows} duplicates removed"
        )
        for key in crm_tables:
            table = report.tables.get(key.path[-1])
            metadata = {"data_dir": str(settings.data_dir), "load": how}
            if table is not None:
                metadata |= {"present": table.present, "rows_read": table.rows_read, "rows_loaded": table.rows_loaded,
                             "duplicate_rows": table.duplicate_rows, "quarantined_rows": table.quarantined_rows}
            yield dg.MaterializeResult(asset_key=key, metadata=metadata)

    @dg.multi_asset(
        name="agreement_tables",
        description="The agreements of sla/ written into raw.agreement_* (plan, months, rules).",
        specs=[dg.AssetSpec(key, group_name=GROUP_INPUTS, description=f"{table}\n\nWritten from the agreements "
                            "of sla/ (FUNNELPACT_SLA_DIR): docs/agreement.md.")
               for key, table in sla_tables.items()],
    )
    def agreement_tables(context: dg.AssetExecutionContext, funnelpact: FunnelpactResource):
        from pipelines.warehouse.agreement_tables import write_agreement_tables

        agreements = load_agreements(funnelpact.settings().sla_dir)
        with funnelpact.connect() as con:
            write_agreement_tables(con, agreements)
        revisions = ", ".join(f"{a.name} {a.revision}" for a in agreements)
        for key in sla_tables:
            yield dg.MaterializeResult(asset_key=key, metadata={"revisions": revisions})

    return [raw_crm, agreement_tables]
