"""Salesforce exports (Lead, LeadHistory, Opportunity, Task) -> canonical tables.

The funnel's subject is the Lead: its Id is the canonical contact_id. Converted leads are
followed to their Contact (ConvertedContactId, for tasks logged on the contact) and their
Opportunity (ConvertedOpportunityId, for deals and the opportunity/customer stages).
Data Loader exports carry UTC times with a 'Z' (kept); report exports carry naive local times
(converted from --timezone). Date-only fields (ConvertedDate, CloseDate) are days of the
--timezone: their midnight there.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.data.importers.common import (Export, Imported, Job, progress, quote,
                                             seniority_from_title, text)
from pipelines.data.importers.output import Input
from pipelines.data.importers.times import options_times

# Lead Status values -> canonical stage. Statuses that are no stage change (the initial
# "Open - Not Contacted", sales "Working" a lead: tasks tell that) map to None and give no
# event; unlisted statuses are written lower-cased for the agreement's crm_values.
STATUS_STAGES: dict[str, str | None] = {
    "open - not contacted": None, "new": None, "open": None, "working - contacted": None,
    "working": None, "closed - converted": None,
    "mql": "mql", "marketing qualified": "mql", "marketing qualified lead": "mql",
    "sql": "sql", "sales qualified": "sql", "sales qualified lead": "sql",
    "sales accepted": "sql", "sal": "sql",
    "recycled": "recycled", "nurture": "recycled", "nurturing": "recycled",
    "closed - not converted": "disqualified", "disqualified": "disqualified",
    "unqualified": "disqualified", "junk": "disqualified",
}


def _status_stage(value_sql: str) -> str:
    """SQL: canonical stage of a status value, NULL when it is no stage change."""
    v = f"lower({text(value_sql)})"
    cases = " ".join(f"when {quote(k)} then {quote(s) if s else 'null'}"
                     for k, s in STATUS_STAGES.items())
    return f"(case {v} {cases} else {v} end)"


def import_salesforce(leads: Path, out: Path, lead_history: Path | None = None,
                      opportunities: Path | None = None, tasks: Path | None = None,
                      timezone: str | None = None, timestamp_format: str | None = None) -> Imported:
    """Convert the exports into canonical CSV files in `out`."""
    times = options_times(timezone, timestamp_format)
    given = {option: Input(path, option) for option, path in (
        ("--leads", leads), ("--lead-history", lead_history), ("--opportunities", opportunities),
        ("--tasks", tasks)) if path is not None}
    tables = ["contacts", "lifecycle_events"] + (["deals"] if opportunities else []) + (
        ["activities"] if tasks else [])
    with Job(out, tables, list(given.values())) as job, progress(
            [i.path for i in given.values()], "Salesforce export"):
        con = job.con
        lead = job.export(given["--leads"], "sf_leads", times)
        lid = text(lead.need("lead Id", "Id"))
        created = lead.time(lead.need("created date", "CreatedDate"))
        title = lead.find("Title")
        job.write("contacts", {
            "contact_id": lid, "created_at": created,
            "source": text(lead.find("LeadSource") or "null"),
            "persona": text(lead.find("Persona__c", "Persona") or "null"),
            "seniority": seniority_from_title(text(title)) if title else "null",
            "country": text(lead.find("Country", "CountryCode") or "null"),
        }, "sf_leads")
        converted = lead.flag(lead.need("converted flag", "IsConverted"))
        converted_date = lead.need("converted date", "ConvertedDate")
        opp_ref = lead.find("ConvertedOpportunityId")
        contact_ref = lead.find("ConvertedContactId")
        con.execute(f"""create temp table sf_lead_keys as select {lid} as lead_id,
            {text(opp_ref) if opp_ref else 'null'} as opportunity_id,
            {text(contact_ref) if contact_ref else 'null'} as contact_id from sf_leads""")

        events = [
            f"select {lid} as contact_id, 'lead' as stage, {created} as occurred_at, "
            f"null as reason from sf_leads",
            # Conversion is sales qualifying the lead; its date has no time of day.
            f"select {lid}, 'sql', {lead.time(converted_date)}, null from sf_leads "
            f"where {converted} and {text(converted_date)} is not null",
        ]
        if lead_history is not None:
            h = job.export(given["--lead-history"], "sf_history", times)
            stage = _status_stage(h.need("new value", "NewValue"))
            field = h.need("field", "Field")
            events.append(
                f"select {text(h.need('lead Id', 'LeadId'))}, {stage}, "
                f"{h.time(h.need('created date', 'CreatedDate'))}, null from sf_history "
                f"where lower({text(field)}) in ('status', 'leadstatus') and {stage} is not null")
        if opportunities is not None:
            _deals(job, job.export(given["--opportunities"], "sf_opps", times))
            events.append(
                "select k.lead_id, 'opportunity', d.created_at, null from sf_lead_keys k "
                "join _fp_deals d on d.deal_id = k.opportunity_id")
            events.append(
                "select k.lead_id, 'customer', d.closed_at, null from sf_lead_keys k "
                "join _fp_deals d on d.deal_id = k.opportunity_id where d.status = 'won'")
        else:
            events.append(
                f"select {lid}, 'opportunity', {lead.time(converted_date)}, null from sf_leads "
                f"where {converted} and {text(opp_ref) if opp_ref else 'null'} is not null")
        union = " union all ".join(events)
        job.write("lifecycle_events", {
            "contact_id": "contact_id", "stage": "stage", "occurred_at": "occurred_at",
            "reason": "reason"}, f"({union})")
        if tasks is not None:
            _activities(job, job.export(given["--tasks"], "sf_tasks", times))
    return job.result()


def _deals(job: Job, o: Export) -> None:
    won, closed = o.find("IsWon"), o.find("IsClosed")
    stage = text(o.find("StageName") or "null")
    if won and closed:
        status = (f"case when {o.flag(won)} then 'won' when {o.flag(closed)} then 'lost' "
                  f"else 'open' end")
    else:
        status = (f"case when lower({stage}) = 'closed won' then 'won' "
                  f"when lower({stage}) = 'closed lost' then 'lost' else 'open' end")
    close_date = o.time(o.need("close date", "CloseDate"))
    select = {
        "deal_id": text(o.need("opportunity Id", "Id")),
        "contact_id": "k.lead_id",
        "created_at": o.time(o.need("created date", "CreatedDate")),
        # An open opportunity's CloseDate is a forecast, not a close.
        "closed_at": f"case when ({status}) <> 'open' then {close_date} end",
        "status": status,
        "amount": text(o.need("amount", "Amount")),
        "currency": text(o.find("CurrencyIsoCode") or "null"),
    }
    from_sql = (f"sf_opps left join sf_lead_keys k on k.opportunity_id = "
                f"{text(o.need('opportunity Id', 'Id'))}")
    # The opportunity and customer events take their times from the deals as written.
    job.write("deals", select, from_sql, keep_as="_fp_deals")


def _activities(job: Job, t: Export) -> None:
    who = text(t.need("who Id", "WhoId"))
    completed = t.find("CompletedDateTime")
    created = t.need("created date", "CreatedDate")
    # A logged call is created when done; CompletedDateTime is the touch when present.
    at = t.time(completed, created) if completed else t.time(created)
    task_id = t.find("Id")
    # A task on the converted Contact belongs to the lead it came from.
    job.write("activities", {
        "activity_id": text(task_id) if task_id else "'task-' || row_number() over ()",
        "contact_id": f"coalesce(k.lead_id, {who})",
        "occurred_at": at,
        "team": "'sales'",
        "type": f"coalesce(lower({text(t.find('Type', 'TaskSubtype') or 'null')}), 'task')",
    }, f"sf_tasks left join sf_lead_keys k on k.contact_id = {who}")
