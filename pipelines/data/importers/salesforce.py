"""Salesforce exports (Lead, LeadHistory, Opportunity, Task, Event) -> canonical tables.

The funnel's subject is the Lead: its Id is the canonical contact_id. Converted leads are
followed to their Contact (ConvertedContactId, for tasks and events logged on the contact) and
their Opportunity (ConvertedOpportunityId, for deals, the opportunity/customer stages, and the
tasks and events logged on it).
Data Loader exports carry UTC times with a 'Z' (kept); report exports carry naive local times
(converted from --timezone). Date-only fields (ConvertedDate, CloseDate) are days of the
--timezone: their midnight there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from pipelines.data.importers.common import (Export, Imported, Job, its, name_key, progress, quote,
                                             seniority_from_title, text)
from pipelines.data.importers.encoding import Encoding, check_encoding
from pipelines.data.importers.output import Input
from pipelines.data.importers.times import ISO_Z, Times, as_text, options_times
from pipelines.errors import InputError, Problem
from pipelines.wording import counted

# Lead Status values -> canonical stage. Statuses that are no stage change (the initial
# "Open - Not Contacted", sales "Working" a lead: tasks tell that) map to None and give no
# event; unlisted statuses are written lower-cased for the agreement's crm_values.
STATUS_STAGES: dict[str, str | None] = {
    "open - not contacted": None, "new": None, "open": None, "working - contacted": None,
    "working": None, "closed - converted": None,
    # The converted status of the newer list (New, Working, Nurturing, Qualified, Unqualified):
    # written as `qualified`, each converted lead gave a quarantined event.
    "qualified": None,
    "mql": "mql", "marketing qualified": "mql", "marketing qualified lead": "mql",
    "sql": "sql", "sales qualified": "sql", "sales qualified lead": "sql",
    "sales accepted": "sql", "sal": "sql",
    "recycled": "recycled", "nurture": "recycled", "nurturing": "recycled",
    "closed - not converted": "disqualified", "disqualified": "disqualified",
    "unqualified": "disqualified", "junk": "disqualified",
}


# Each field's label in Salesforce's Field Reference, which exports made with labels (a
# report's "Details Only" CSV, tools set to show labels) name their columns by. Reports also
# write "Create Date" for a lead's Created Date, and a Lead History report names the changed
# field "Field / Event" and the change's time "Edit Date".
LEAD_LABELS = {
    "Id": ("Lead ID",), "CreatedDate": ("Created Date", "Create Date"), "IsConverted": ("Converted",),
    "ConvertedDate": ("Converted Date",), "ConvertedContactId": ("Converted Contact ID",),
    "ConvertedOpportunityId": ("Converted Opportunity ID",), "LeadSource": ("Lead Source",),
    "CountryCode": ("Country Code",), "IsDeleted": ("Deleted",)}
HISTORY_LABELS = {
    "LeadId": ("Lead ID",), "CreatedDate": ("Created Date", "Edit Date"),
    "Field": ("Changed Field", "Field / Event"),
    "NewValue": ("New Value",), "IsDeleted": ("Deleted",)}
OPPORTUNITY_LABELS = {
    "Id": ("Opportunity ID",), "CreatedDate": ("Created Date",), "CloseDate": ("Close Date",),
    "StageName": ("Stage",), "IsClosed": ("Closed",), "IsWon": ("Won",),
    "CurrencyIsoCode": ("Opportunity Currency",), "IsDeleted": ("Deleted",)}
TASK_LABELS = {
    "Id": ("Activity ID",), "WhoId": ("Name ID",), "WhatId": ("Related To ID",), "CreatedDate": ("Created Date",),
    "CompletedDateTime": ("Completed Date/Time",), "IsClosed": ("Closed",),
    "TaskSubtype": ("Task Subtype",), "IsDeleted": ("Deleted",)}
EVENT_LABELS = {
    "Id": ("Activity ID",), "WhoId": ("Name ID",), "WhatId": ("Related To ID",),
    "ActivityDateTime": ("Due Date Time",), "StartDateTime": ("Start Date Time",), "ActivityDate": ("Due Date Only",),
    "EventSubtype": ("Event Subtype",), "IsAllDayEvent": ("All-Day Event",), "IsDeleted": ("Deleted",)}
# The fields the import looks up in each export (with their labels above): Export reads no
# other columns, of which an org's exports hold dozens.
LEAD_COLUMNS = ("Id", "CreatedDate", "Title", "LeadSource", "Persona__c", "Persona", "Country", "CountryCode",
                "ConvertedDate", "IsConverted", "ConvertedOpportunityId", "ConvertedContactId", "IsDeleted")
HISTORY_COLUMNS = ("LeadId", "CreatedDate", "Field", "NewValue", "IsDeleted")
# SQL, given the text of a history row's Field: whether it is a lead's conversion (see _conversions).
CONVERTED_FIELD = "lower({}) = 'leadconverted'"
OPPORTUNITY_COLUMNS = ("Id", "CreatedDate", "CloseDate", "StageName", "IsClosed", "IsWon", "Amount",
                       "CurrencyIsoCode", "IsDeleted")
TASK_COLUMNS = ("Id", "WhoId", "WhatId", "CreatedDate", "CompletedDateTime", "IsClosed", "Status", "Type", "TaskSubtype",
                "IsDeleted")
EVENT_COLUMNS = ("Id", "WhoId", "WhatId", "ActivityDateTime", "StartDateTime", "ActivityDate", "Type", "EventSubtype",
                 "IsAllDayEvent", "IsDeleted")


# A record's Id is 15 characters, case-sensitive, in reports ("Lead ID" of a lead report) and
# 18 in Data Loader and the API: the 15 plus 3 characters that encode which of them are upper
# case. Exports of both kinds name the same records, so every Id is written in its 18-character
# form: compared as exported, a lead report's 15-character ConvertedOpportunityId matched no
# Data Loader opportunity (a deal without its lead, no opportunity or customer event, without a
# word) and Data Loader tasks' WhoIds matched no lead (every touch quarantined).
_ID18 = ("create or replace temp macro sf_id18(v) as case when regexp_full_match(v, '[0-9A-Za-z]{15}') "
         "then v || " + " || ".join(
             "substr('ABCDEFGHIJKLMNOPQRSTUVWXYZ012345', 1 + " + " + ".join(
                 f"(case when regexp_full_match(v[{5 * chunk + bit + 1}], '[A-Z]') then {1 << bit} else 0 end)"
                 for bit in range(5)) + ", 1)"
             for chunk in range(3)) + " else v end")


# The first three characters of a record's Id name its object: a WhoId is a Lead's (00Q) or a
# Contact's, a WhatId an Account's, an Opportunity's or another object's.
LEAD_PREFIX = "00Q"


class TouchObject(NamedTuple):
    """A Salesforce object whose records are touches (Task, Event), as its export is told
    from the other's: by its Ids, or without them by the fields only it has."""

    prefix: str  # the first characters of its records' Ids
    option: str  # the import's option that takes its export
    called: str  # as a sentence names it: "a Task"
    own_fields: tuple[str, ...]  # fields the other object has not, by API name and report label


def _with_labels(names: tuple[str, ...], labels: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(m for n in names for m in (n, *labels[n]))


# A Task's Id starts 00T, an Event's 00U, and each export has its option. Given with the other
# option, an Event export was read as done tasks at their creation, not their start, and a
# Task export with its due date (ActivityDate) as all-day events on it, without a word.
# Without Ids (a report without its Activity ID), the fields only the object has tell it.
TOUCH_OBJECTS = {
    "task": TouchObject("00T", "--tasks", "a Task", _with_labels(("CompletedDateTime", "TaskSubtype"), TASK_LABELS)),
    "event": TouchObject("00U", "--events", "an Event", _with_labels(
        ("ActivityDateTime", "StartDateTime", "IsAllDayEvent", "EventSubtype"), EVENT_LABELS)),
}


def _id(ref: str) -> str:
    """SQL: the record Id in column `ref`, in its 18-character form (_ID18)."""
    return f"sf_id18({text(ref)})"


def _status_stage(value_sql: str) -> str:
    """SQL: canonical stage of a status value, NULL when it is no stage change."""
    v = f"lower({text(value_sql)})"
    cases = " ".join(f"when {quote(k)} then {quote(s) if s else 'null'}"
                     for k, s in STATUS_STAGES.items())
    return f"(case {v} {cases} else {v} end)"


def import_salesforce(leads: Path, out: Path, lead_history: Path | None = None,
                      opportunities: Path | None = None, tasks: Path | None = None, events: Path | None = None,
                      timezone: str | None = None, timestamp_format: str | None = None,
                      encoding: str = "utf-8") -> Imported:
    """Convert the exports into canonical CSV files in `out`; every export is text in `encoding`."""
    times = options_times(timezone, timestamp_format)
    text_in = check_encoding(encoding)
    given = {option: Input(path, option) for option, path in (
        ("--leads", leads), ("--lead-history", lead_history), ("--opportunities", opportunities),
        ("--tasks", tasks), ("--events", events)) if path is not None}
    tables = ["contacts", "lifecycle_events"] + (["deals"] if opportunities else []) + (
        ["activities"] if tasks or events else [])
    with Job(out, tables, list(given.values())) as job, progress(
            [i.path for i in given.values()], "Salesforce export"):
        job.con.execute(_ID18)
        lead = _read(job, given["--leads"], "sf_leads", times, LEAD_COLUMNS, LEAD_LABELS, text_in)
        lid = _id(lead.need("lead Id", "Id"))
        # Without these, a touch logged on a converted lead's Contact or Opportunity finds no lead.
        unlinked = [c for c in ("ConvertedContactId", "ConvertedOpportunityId") if lead.find(c) is None]
        title = lead.find("Title")
        job.write("contacts", {
            "contact_id": lid, "created_at": lead.time(lead.need("created date", "CreatedDate")),
            "source": text(lead.find("LeadSource") or "null"),
            "persona": text(lead.find("Persona__c", "Persona") or "null"),
            "seniority": seniority_from_title(text(title)) if title else "null",
            "country": text(lead.find("Country", "CountryCode") or "null"),
        }, "sf_leads")
        history = (_read(job, given["--lead-history"], "sf_history", times, HISTORY_COLUMNS, HISTORY_LABELS,
                         text_in) if lead_history else None)
        _stage_changes(job, lead, lid, history)
        _conversions(job, lead, lid, history)
        _check_opportunity_link(lead, with_opportunities=opportunities is not None)
        # Each table is dropped once no later step reads it: all held to the end, 1M leads with
        # their history and tasks peaked at 1.6 GB.
        job.drop("sf_leads", "sf_history")
        if opportunities is not None:
            _deals(job, _read(job, given["--opportunities"], "sf_opps", times, OPPORTUNITY_COLUMNS,
                              OPPORTUNITY_LABELS, text_in))
            job.drop("sf_opps")
        job.write("lifecycle_events", {
            "contact_id": "contact_id", "stage": "stage", "occurred_at": "occurred_at"},
            _events(times, with_deals=opportunities is not None))
        job.drop("sf_changes", "sf_conversions", "_fp_deals", "sf_opp_days")  # sf_lead_keys: for the touches
        leads_given = given["--leads"]
        touches = ([_tasks(job, _read(job, given["--tasks"], "sf_tasks", times, TASK_COLUMNS, TASK_LABELS, text_in),
                           leads_given, unlinked)] if tasks is not None else [])
        touches += ([_calendar_events(job, _read(job, given["--events"], "sf_events", times, EVENT_COLUMNS,
                                                 EVENT_LABELS, text_in), leads_given, unlinked)]
                    if events is not None else [])
        if touches:
            _activities(job, touches)
    return job.result()


def _read(job: Job, given: Input, name: str, times: Times, columns: tuple[str, ...],
          labels: dict[str, tuple[str, ...]], encoding: Encoding) -> Export:
    """One of the exports, read for `columns`, as Data Loader or a report writes it: a
    report's footer and the deleted records left out."""
    return _without_deleted(job.export(given, name, times, columns, labels=labels, report_footer=True,
                                       encoding=encoding))


def _without_deleted(e: Export) -> Export:
    """Leave out the rows of deleted records. Data Loader's Export All (extract_all, queryAll)
    includes the Recycle Bin: deleted leads, the leads merged into another (IsDeleted, with
    MasterRecordId), deleted opportunities and tasks. Kept, a merged-away duplicate was a lead
    of its own, a deleted opportunity won revenue again and a deleted task was a touch."""
    deleted = e.find("IsDeleted")
    if deleted is None:
        return e
    flag = e.flag(deleted)
    count, total = e.con.execute(f"select count(*) filter (where {flag}), count(*) from {e.name}").fetchone()
    if count:
        e.con.execute(f"delete from {e.name} where {flag}")
        e.notes.append(f"note: {e.path.name}: {count:,} of {counted(total, 'record')} left out as deleted "
                       "(IsDeleted true: in the Recycle Bin, or merged into another record)")
    return e


def _check_opportunity_link(lead: Export, with_opportunities: bool) -> None:
    """ConvertedOpportunityId links a converted lead to its Opportunity. Without it every deal
    of --opportunities was written without its lead, and no lead had an opportunity or customer
    stage (without --opportunities, none the opportunity stage), without a word."""
    if lead.find("ConvertedOpportunityId") is not None:
        return
    flag = lead.flag(lead.need("converted flag", "IsConverted"))
    converted = lead.con.execute(f"select count(*) filter (where {flag}) from {lead.name}").fetchone()[0]
    if not converted:  # no lead to link: no stage is lost
        return
    if with_opportunities:
        lead.need("converted opportunity Id", "ConvertedOpportunityId",
                  why=", which links each Opportunity of --opportunities to the lead converted into it")
    lead.notes.append(
        f"note: {lead.path.name}: has no ConvertedOpportunityId, which says which converted leads have an "
        f"opportunity: the {counted(converted, 'converted lead')} {'is' if converted == 1 else 'are'} written "
        "without an opportunity stage; export it")


def _stage_changes(job: Job, lead: Export, lid: str, history: Export | None) -> None:
    """sf_changes (lead_id, stage, instant, raw): creation, and the Status changes of the
    history. `instant` is NULL when unreadable, `raw` the value as exported; `stage` is NULL
    for a status that is no stage change, kept because a change to the converted status
    (`Closed - Converted`, `Qualified`) dates a conversion the lead only gives a day for."""
    created = lead.need("created date", "CreatedDate")
    sql = (f"select {lid} as lead_id, 'lead' as stage, {lead.instant(created)} as instant, "
           f"{text(created)} as raw from sf_leads")
    if history is not None:
        stage = _status_stage(history.need("new value", "NewValue"))
        field = history.need("field", "Field")
        at = history.need("created date", "CreatedDate")
        status = f"lower({text(field)}) in ('status', 'leadstatus', 'lead status')"
        # Its times are read for the status changes and the conversions (_conversions) only:
        # an owner change's is in no warning on the export's times.
        sql += (f" union all select {_id(history.need('lead Id', 'LeadId'))}, {stage}, "
                f"{history.instant(at, read=f'{status} or {CONVERTED_FIELD.format(text(field))}')}, "
                f"{text(at)} from sf_history where {status}")
    job.con.execute(f"create temp table sf_changes as {sql}")


def _conversions(job: Job, lead: Export, lid: str, history: Export | None) -> None:
    """sf_conversions (lead_id, instant, raw): when each converted lead was converted, and
    sf_lead_keys: each lead's opportunity, contact and conversion instant.

    The history's leadConverted row is the exact time. Else ConvertedDate, a date: its midnight
    would put the conversion (sql) before a same-day MQL, move the MQL entry (SPEC §3: the
    earliest event at or after the stage) to midnight and make in-time touches breaches. So
    it is no earlier than the lead's latest creation or status change on that local day.
    """
    times = lead.times
    date = lead.need("converted date", "ConvertedDate")
    logged = "select null as lead_id, null::timestamp as instant where false"
    if history is not None:
        at, field = history.need("created date", "CreatedDate"), history.need("field", "Field")
        # The API name only: what a Lead History report writes for the conversion is not
        # confirmed, and a guessed label that missed would pass unnoticed. Such a report's
        # conversions fall back to ConvertedDate.
        logged = (f"select {_id(history.need('lead Id', 'LeadId'))} as lead_id, "
                  f"min({history.instant(at)}) as instant from sf_history "
                  f"where {CONVERTED_FIELD.format(text(field))} group by all")
    is_converted = lead.flag(lead.need("converted flag", "IsConverted"))
    # A conversion the history logs is not read from ConvertedDate.
    by_date = f"{is_converted} and {lid} not in (select lead_id from ({logged}) where lead_id is not null)"
    job.con.execute(f"""create temp table sf_conversions as
        with converted as (
            select {lid} as lead_id, {text(date)} as raw, {lead.instant(date, read=by_date)} as day_or_time,
                {times.date_only(text(date))} as date_only
            from sf_leads where {is_converted} and {text(date)} is not null),
        logged as ({logged}),
        same_day as (
            select c.lead_id, max(e.instant) as latest from converted c join sf_changes e
                on e.lead_id = c.lead_id and {times.local_day('e.instant')} = {times.local_day('c.day_or_time')}
            where c.date_only group by all)
        select c.lead_id, c.raw, coalesce(l.instant, case when c.date_only
            then greatest(c.day_or_time, d.latest) else c.day_or_time end) as instant
        from converted c left join logged l using (lead_id) left join same_day d using (lead_id)""")
    opp, contact = lead.find("ConvertedOpportunityId"), lead.find("ConvertedContactId")
    job.con.execute(f"""create temp table sf_lead_keys as select {lid} as lead_id,
        {_id(opp) if opp else 'null'} as opportunity_id,
        {_id(contact) if contact else 'null'} as contact_id, c.instant as converted_at
        from sf_leads left join sf_conversions c on c.lead_id = {lid}""")


def _one_lead_per(key: str) -> str:
    """SQL: (key, lead_id) with one lead per converted Opportunity or Contact: several leads
    merged into one gave one deal row per lead (a repeated deal_id, quarantined with its
    revenue) and one touch per lead. The lead converted first, then the smallest Id."""
    return (f"(select {key}, lead_id from sf_lead_keys where {key} is not null qualify "
            f"row_number() over (partition by {key} order by converted_at nulls last, lead_id) = 1)")


def _events(times: Times, with_deals: bool) -> str:
    """SQL: the lifecycle events, from the temp tables the steps above made."""
    events = [f"select lead_id as contact_id, stage, {as_text('instant', 'raw')} as occurred_at "
              "from sf_changes where stage is not null",
              # Conversion is sales qualifying the lead.
              f"select lead_id, 'sql', {as_text('instant', 'raw')} from sf_conversions"]
    if with_deals:
        # One event per (lead, opportunity): every lead merged into a deal entered its stages.
        # A date without a time (CloseDate always; CreatedDate in a report) is no earlier than
        # the lead's latest event that local day, as ConvertedDate is (_conversions): at
        # midnight, an opportunity created the day its lead became an MQL moved the MQL entry
        # (the earliest event at or after it) to midnight and made an in-time touch a breach.
        # The won deal's customer event is no earlier than its opportunity's creation that day.
        pairs = "(select distinct lead_id, opportunity_id from sf_lead_keys)"
        day = times.local_day
        latest = (f"(select lead_id, {day('instant')} as day, max(instant) as latest from (select lead_id, "
                  "instant from sf_changes union all select lead_id, instant from sf_conversions) "
                  "where instant is not null group by all)")
        opened, closed = f"try_strptime(d.created_at, '{ISO_Z}')", f"try_strptime(d.closed_at, '{ISO_Z}')"
        joined = (f"from {pairs} k join _fp_deals d on d.deal_id = k.opportunity_id "
                  "join sf_opp_days p on p.deal_id = d.deal_id ")
        opportunity = f"case when p.created_day then greatest({opened}, l.latest) else {opened} end"
        customer = (f"case when p.closed_day then greatest({closed}, l.latest, case when {day(opened)} = "
                    f"{day(closed)} then {opportunity} end) else {closed} end")
        events += [f"select k.lead_id, 'opportunity', {as_text(opportunity, 'd.created_at')} {joined}"
                   f"left join {latest} l on l.lead_id = k.lead_id and l.day = {day(opened)}",
                   f"select k.lead_id, 'customer', {as_text(customer, 'd.closed_at')} {joined}"
                   f"left join {latest} l on l.lead_id = k.lead_id and l.day = {day(closed)} "
                   "where d.status = 'won'"]
    else:
        events.append(f"select c.lead_id, 'opportunity', {as_text('c.instant', 'c.raw')} "
                      "from sf_conversions c join sf_lead_keys k using (lead_id) "
                      "where k.opportunity_id is not null")
    return f"(select * from ({' union all '.join(events)}) order by contact_id, occurred_at, stage)"


def _deals(job: Job, o: Export) -> None:
    won, closed = o.find("IsWon"), o.find("IsClosed")
    stage = text(o.find("StageName") or "null")
    by_stage = (f"case when lower({stage}) = 'closed won' then 'won' "
                f"when lower({stage}) = 'closed lost' then 'lost' else 'open' end")
    status = o.deal_status(won, closed, by_stage, not_closed="'open'", stage=stage, flags="IsWon and IsClosed")
    # An open opportunity's CloseDate is a forecast, not a close: not written, nor counted in
    # the warnings on the export's times.
    not_open = f"({status}) <> 'open'"
    close_date = o.time(o.need("close date", "CloseDate"), read=not_open)
    oid = _id(o.need("opportunity Id", "Id"))
    select = {
        "deal_id": oid,
        "contact_id": "k.lead_id",
        "created_at": o.time(o.need("created date", "CreatedDate")),
        "closed_at": f"case when {not_open} then {close_date} end",
        "status": status,
        "amount": o.deal_amount(o.need("amount", "Amount"), status),
        "currency": text(o.find("CurrencyIsoCode") or "null"),
    }
    # In the export's order: DuckDB's parallel join returns a large export's rows in another
    # order each time, so the same export made another file on each import.
    from_sql = (f"sf_opps left join {_one_lead_per('opportunity_id')} k on k.opportunity_id = {oid} "
                "order by sf_opps.rowid")
    # The opportunity and customer events take their times from the deals as written, and
    # whether each was a date without a time (_events).
    job.write("deals", select, from_sql, keep_as="_fp_deals")
    times, created = o.times, o.need("created date", "CreatedDate")
    job.con.execute(f"""create temp table sf_opp_days as select {oid} as deal_id,
        bool_or({times.date_only(text(created))}) as created_day,
        bool_or({times.date_only(text(o.need("close date", "CloseDate")))}) as closed_day
        from sf_opps group by all""")


def _lead_of(who: str, what: str | None) -> tuple[str, str]:
    """SQL: the lead a task or event on WhoId `who` and WhatId `what` touches (NULL when none),
    and the joins it reads. A touch is logged on the lead, or after its conversion on the Contact
    (WhoId) or the Opportunity (WhatId) it was converted to: the lead's touch. A WhoId that is
    a lead's Id missing from the leads export is kept, for the loader to quarantine as a touch
    of an unknown contact; any other record (an account, a contact no lead was converted to)
    is no lead's, and such a task or event no touch."""
    joins = (f"left join (select distinct lead_id from sf_lead_keys) l on l.lead_id = {who} "
             f"left join {_one_lead_per('contact_id')} c on c.contact_id = {who} ")
    by_what = "null"
    if what is not None:
        joins += f"left join {_one_lead_per('opportunity_id')} o on o.opportunity_id = {what} "
        by_what = "o.lead_id"
    return (f"coalesce(l.lead_id, c.lead_id, {by_what}, "
            f"case when starts_with({who}, {quote(LEAD_PREFIX)}) then {who} end)"), joins


@dataclass(frozen=True)
class Touches:
    """One export of touches (Task, Event) as the activities read it: SQL over its table."""

    export: Export  # narrowed to its touches (_touch_rows)
    noun: str  # one of its rows: task, event
    at: str  # the touch's time
    type: str
    rows: str  # the temp table of its touches: each row's rowid (_fp_row) and lead (_fp_lead)


def _refuse_other_object(e: Export, noun: str) -> None:
    """Stop at the first row whose Id is a record of the other touch object: the export was
    given with the other's option (or is a report of tasks and events both)."""
    this = TOUCH_OBJECTS[noun]
    that = next(o for name, o in TOUCH_OBJECTS.items() if name != noun)
    advice = (f"expected {this.called} export; give {that.called} export with {that.option}, each object in its "
              "own export")
    ref = e.find("Id")
    if ref is not None:
        e.refuse(ref, f"starts_with({text(ref)}, {quote(that.prefix)})", lambda found: (
            f"{found.strip()!r} is {that.called}'s Id ({that.prefix}…), not {this.called}'s ({this.prefix}…): {advice}"))
        return
    theirs = {name_key(f) for f in that.own_fields}
    if found := next((n for n in e.names if name_key(n) in theirs), None):
        raise InputError(Problem(f"a field of {that.called}, which {this.called} has not: {advice}",
                                 file=str(e.path), field=found))


def _tasks(job: Job, t: Export, leads: Input, unlinked: list[str]) -> Touches:
    _refuse_other_object(t, "task")
    completed = t.find("CompletedDateTime")
    created = t.need("created date", "CreatedDate")
    t, rows = _touch_rows(job, t, "task", leads, unlinked, *_done(t))
    # A logged call is created when done; CompletedDateTime is the touch when present.
    return Touches(t, "task", t.time(completed, created) if completed else t.time(created),
                   f"coalesce(lower({text(t.find('Type', 'TaskSubtype') or 'null')}), 'task')", rows)


def _calendar_events(job: Job, e: Export, leads: Input, unlinked: list[str]) -> Touches:
    """A call or meeting logged as an Event: a touch at its start. ActivityDateTime is the start
    of a timed event (StartDateTime the same), ActivityDate the day of an all-day one."""
    _refuse_other_object(e, "event")
    starts = [ref for name in ("ActivityDateTime", "StartDateTime", "ActivityDate") if (ref := e.find(name))]
    if not starts:
        e.need("start", "ActivityDateTime", "StartDateTime", "ActivityDate")
    e, rows = _touch_rows(job, e, "event", leads, unlinked)
    all_day, day = e.find("IsAllDayEvent"), e.find("ActivityDate")
    if not (all_day and day):
        at = e.time(*starts)
    else:
        # Salesforce gives an all-day event a StartDateTime at midnight UTC of its day: read
        # first, a trade fair on 1 March in Mexico City was a touch at 18:00 on 28 February.
        on_its_day = f"{e.flag(all_day)} and {text(day)} is not null"
        # ActivityDate, checked first, is read for an all-day event and for a timed one
        # without the other start columns: every timed event has one, and was counted.
        untimed = " and ".join(f"{text(r)} is null" for r in starts if r != day) or "true"
        e.check_times(day, f"({on_its_day}) or ({untimed})")
        at = f"case when {on_its_day} then {e.time(day)} else {e.time(*starts, read=f'not ({on_its_day})')} end"
    return Touches(e, "event", at, f"coalesce(lower({text(e.find('Type', 'EventSubtype') or 'null')}), 'event')",
                   rows)


def _activities(job: Job, exports: list[Touches]) -> None:
    """The activities: the touches of a lead of each export, in the exports' order."""
    parts = [_touches(t, number) for number, t in enumerate(exports)]
    job.write("activities", {
        "activity_id": "activity_id", "contact_id": "contact_id", "occurred_at": "occurred_at", "team": "'sales'",
        "type": "type"}, f"({' union all '.join(parts)}) order by _export, _row")  # as the deals
    job.drop(*(t.rows for t in exports))


def _touch_rows(job: Job, t: Export, noun: str, leads: Input, unlinked: list[str], done: str = "true",
                not_done: str = "") -> tuple[Export, str]:
    """The export `t` narrowed (Export.keeping) to its touches: its rows `done` (`not_done` says
    in words what that leaves out) and on a lead, kept in a temp table with their lead; its
    notes say which rows it leaves out. Narrowed before its times and flags are read: an open
    task or an account's task, not imported, with a day-first date refused the whole import,
    and each was counted in the warnings on the export's times."""
    who = _id(t.need("who Id", "WhoId"))
    what = t.find("WhatId")
    lead, joins = _lead_of(who, _id(what) if what else None)
    rows = f"{t.name}_touches"
    job.con.execute(f"create temp table {rows} as select {t.name}.rowid as _fp_row, {lead} as _fp_lead "
                    f"from {t.name} {joins} where ({done}) and ({lead}) is not null")
    total, left_open, touches = job.con.execute(
        f"select count(*), count(*) filter (where not ({done})), (select count(*) from {rows}) "
        f"from {t.name}").fetchone()
    no_lead = total - left_open - touches
    if left_open:
        job.notes.append(f"note: {t.path.name}: {left_open:,} of {counted(total, noun)} left out as not "
                         f"done ({not_done}): an open or not-started {noun} is no touch")
    if no_lead:
        fields = "WhoId and WhatId name" if what else "WhoId names"
        missing = (f"; {leads.path.name} has no {' or '.join(unlinked)}: export {'them' if len(unlinked) > 1 else 'it'}, "
                   f"or the {noun}s on the records leads were converted to are among them") if unlinked else ""
        # Of the done ones: "1 of 7 tasks left out as on no lead" of an export holding two tasks
        # on an account, one of them open (left out as not done), read as one missed.
        of = f"the {counted(total - left_open, 'done ' + noun)}" if left_open else counted(total, noun)
        job.notes.append(
            f"note: {t.path.name}: {no_lead:,} of {of} left out as on no lead: {its(no_lead)} "
            f"{fields} no lead of {leads.path.name}, nor a contact or opportunity one was converted to (an account, a "
            f"contact never converted from a lead): a touch of no lead{missing}")
    return t.keeping(f"{t.name}.rowid in (select _fp_row from {rows})"), rows


def _touches(touches: Touches, number: int) -> str:
    """SQL: the rows of the activities one export gives (with its `number` and each row's, for
    their order)."""
    t = touches.export
    row_id = t.find("Id")
    # Numbered in the export's order: the same task or event keeps its id when imported again.
    activity_id = _id(row_id) if row_id else f"{quote(touches.noun + '-')} || row_number() over (order by {t.name}.rowid)"
    return (f"select {activity_id} as activity_id, k._fp_lead as contact_id, {touches.at} as occurred_at, "
            f"{touches.type} as type, {number} as _export, {t.name}.rowid as _row "
            f"from {t.name} join {touches.rows} k on k._fp_row = {t.name}.rowid")


def _done(t: Export) -> tuple[str, str]:
    """SQL: whether a task is done, and in words what is left out. An auto-created "Call new
    MQL" task is open the instant the lead qualifies: counted, it was an in-time first touch."""
    closed, status = t.find("IsClosed"), t.find("Status")
    tests = [t.flag(closed)] if closed else []
    tests += [f"coalesce(lower({text(status)}) = 'completed', false)"] if status else []
    words = (["IsClosed not true"] if closed else []) + (["Status not Completed"] if status else [])
    return " or ".join(tests) or "true", " and ".join(words)
