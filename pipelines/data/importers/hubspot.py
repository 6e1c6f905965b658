"""HubSpot contacts and deals exports -> canonical contacts, lifecycle_events, deals.

Both naming styles are accepted: the export labels of the UI ("Record ID", "Create Date",
"Became a Marketing Qualified Lead Date", 'Date entered "Lead (Lifecycle Stage Pipeline)"')
and the internal names (hs_object_id, createdate, hs_lifecyclestage_<stage>_date,
hs_v2_date_entered_<stage>). Each filled lifecycle date column of a row becomes one lifecycle
event of that row.
"""

from __future__ import annotations

import re
from pathlib import Path

from pipelines.agreement.model import stage_value
from pipelines.data.importers.common import (Export, Imported, Job, progress, quote,
                                             seniority_from_title, text)
from pipelines.data.importers.encoding import check_encoding
from pipelines.data.importers.output import Input
from pipelines.data.importers.times import as_text, options_times
from pipelines.errors import InputError, Problem
from pipelines.wording import counted

# HubSpot's standard lifecycle stages -> canonical stage ids. Anything else (evangelist, other,
# custom stages) is written as it is: the agreement's crm_values map it, or the loader
# quarantines it as unknown_stage.
STAGE_IDS = {"subscriber": "lead", "lead": "lead", "marketingqualifiedlead": "mql",
             "salesqualifiedlead": "sql", "opportunity": "opportunity", "customer": "customer"}
# UI labels of the stages, as in "Became a <label> Date". The `other` stage's date column is
# labelled "Became an Other Lifecycle Date": read as a stage 'other lifecycle', its events were
# quarantined as unknown_stage though the agreement ignores `other` as the docs say.
LABELS = {"subscriber": "subscriber", "lead": "lead",
          "marketing qualified lead": "marketingqualifiedlead",
          "sales qualified lead": "salesqualifiedlead", "opportunity": "opportunity",
          "customer": "customer", "evangelist": "evangelist", "other": "other",
          "other lifecycle": "other"}

_DATE_COLUMNS = [
    re.compile(r"^became an? (?P<label>.+) date$", re.I),
    re.compile(r"^hs_lifecyclestage_(?P<value>.+)_date$", re.I),
    # The v2 property and its older twin hs_date_entered_<stage>, labelled in single quotes
    # (Date entered '<Stage> (Lifecycle Stage Pipeline)'), which exports still hold: unread, an
    # export of only those was refused as having no stage dates, and a stage given only by one
    # was left out without a word. Not "Date entered current stage": it repeats the date of the
    # contact's current stage, and read as a stage 'current_stage' it gave every contact an event
    # no agreement knows (a quarantined row each, a failed quarantine rate).
    re.compile(r"^hs_(?:v2_)?date_entered_(?!current_stage$)(?P<value>.+)$", re.I),
    re.compile(r"""^date entered (?P<quote>["'])(?P<label>.+) \(lifecycle stage pipeline\)(?P=quote)$""", re.I),
]

# The columns the import looks up, in either naming style (Export reads no others: a portal's
# export holds hundreds of properties), besides the contacts' lifecycle dates (stage_of_column).
CONTACT_COLUMNS = ("Record ID", "hs_object_id", "Contact ID", "vid", "Create Date", "createdate",
                   "Job Title", "jobtitle", "Seniority", "hs_seniority", "Original Source",
                   "Original Traffic Source", "hs_analytics_source", "Persona", "hs_persona",
                   "Country/Region", "Country", "country")
DEAL_COLUMNS = ("Deal Stage", "dealstage", "Is Closed Won", "hs_is_closed_won", "Is Closed", "hs_is_closed",
                "Associated Contact IDs", "Associated Contact ID", "associated_contact_ids",
                "associatedcontactid", "Contact ID", "contact_id", "Close Date", "closedate", "Record ID",
                "hs_object_id", "Deal ID", "Create Date", "createdate", "Amount", "amount",
                "Amount in company currency", "amount_in_home_currency", "Currency", "Deal currency code",
                "deal_currency_code")


def stage_of_column(column: str) -> str | None:
    """The canonical stage (or the CRM value as is) a lifecycle date column stands for."""
    for pattern in _DATE_COLUMNS:
        match = pattern.match(column.strip())
        if match:
            # Lower-cased as the agreement's crm_values are (stage_value): str.lower() wrote a
            # custom stage 'ΠΕΛΑΤΗΣ' as 'πελατης', which no agreement listing it matched.
            if "label" in match.groupdict():
                label = stage_value(match["label"])
                value = LABELS.get(label, label)
            else:
                value = stage_value(match["value"])
            return STAGE_IDS.get(value, value)
    return None


def import_hubspot(contacts: Path, out: Path, deals: Path | None = None,
                   timezone: str | None = None, timestamp_format: str | None = None,
                   encoding: str = "utf-8") -> Imported:
    """Convert the exports into canonical CSV files in `out`; both exports are text in `encoding`."""
    times = options_times(timezone, timestamp_format)
    text_in = check_encoding(encoding)
    inputs = [Input(contacts, "--contacts")] + ([Input(deals, "--deals")] if deals else [])
    tables = ["contacts", "lifecycle_events"] + (["deals"] if deals else [])
    with Job(out, tables, inputs) as job, progress([i.path for i in inputs], "HubSpot export"):
        c = job.export(inputs[0], "hs_contacts", times, CONTACT_COLUMNS,
                       lambda column: stage_of_column(column) is not None, encoding=text_in)
        cid = c.need("contact id", "Record ID", "hs_object_id", "Contact ID", "vid")
        title = c.find("Job Title", "jobtitle")
        seniority = c.find("Seniority", "hs_seniority")
        job.write("contacts", {
            "contact_id": text(cid),
            "created_at": c.time(c.need("create date", "Create Date", "createdate")),
            "source": text(c.find("Original Source", "Original Traffic Source",
                                  "hs_analytics_source") or "null"),
            "persona": text(c.find("Persona", "hs_persona") or "null"),
            "seniority": (text(seniority) if seniority
                          else seniority_from_title(text(title)) if title else "null"),
            "country": text(c.find("Country/Region", "Country", "country") or "null"),
        }, "hs_contacts")
        _events(job, c, cid)
        if deals is not None:
            _deals(job, job.export(inputs[1], "hs_deals", times, DEAL_COLUMNS, encoding=text_in))
    return job.result()


def _events(job: Job, c: Export, cid: str) -> None:
    by_stage: dict[str, list[str]] = {}
    for original in c.columns.values():
        stage = stage_of_column(original)
        if stage is not None:
            by_stage.setdefault(stage, []).append(original)
    if not by_stage:
        raise InputError(Problem(
            "no lifecycle stage date columns; expected e.g. 'Became a Lead Date', "
            "'hs_lifecyclestage_lead_date' or 'hs_v2_date_entered_lead'",
            file=str(c.path), field="lifecycle dates"))
    parts = []
    for stage, columns in sorted(by_stage.items()):
        for column in sorted(columns):
            ref = c.read(column)
            value = text(ref)
            parts.append(f"select rowid as _row, {text(cid)} as contact_id, {quote(stage)} as stage, "
                         f"{c.instant(ref)} as instant, {value} as raw "
                         f"from hs_contacts where {value} is not null")
    # A row has both an old-style and a v2 date for the same stage: one event each would be a
    # conflicting pair; the earliest is the entry. Earliest as instants: as text, an unreadable
    # '1.5.2026' beat a good '2026-01-05 10:00', which is kept only when no date of the stage
    # reads. Per row, not per Record ID: grouped over the file, two rows of one id gave one
    # event and every row without an id one event between them; the loader must see each row
    # to quarantine or count it.
    union = " union all ".join(parts)
    from_sql = (f"(select contact_id, stage, {as_text('min(instant)', 'min(raw)')} as occurred_at "
                f"from ({union}) group by _row, contact_id, stage "
                f"order by _row, min(instant) nulls last, stage)")
    job.write("lifecycle_events", {
        "contact_id": "contact_id", "stage": "stage", "occurred_at": "occurred_at"}, from_sql)


def _deals(job: Job, d: Export) -> None:
    stage = text(d.find("Deal Stage", "dealstage") or "null")
    won_flag = d.find("Is Closed Won", "hs_is_closed_won")
    closed_flag = d.find("Is Closed", "hs_is_closed")
    by_stage = (f"case when lower(replace({stage}, ' ', '')) = 'closedwon' then 'won' "
                f"when lower(replace({stage}, ' ', '')) = 'closedlost' then 'lost' else 'open' end")
    status = d.deal_status(won_flag, closed_flag, by_stage, not_closed=by_stage, stage=stage,
                           flags="'Is Closed Won' and 'Is Closed'")
    contact = d.find("Associated Contact IDs", "Associated Contact ID", "associated_contact_ids",
                     "associatedcontactid", "Contact ID", "contact_id")
    # An association column lists ids separated by ';' (or ','): the first is the deal's contact.
    contact_sql = (text(f"string_split(replace({text(contact)}, ',', ';'), ';')[1]")
                   if contact else "null")
    # For an open deal HubSpot's close date is the expected one, not a close: not written, nor
    # counted in the warnings on the export's times.
    not_open = f"({status}) <> 'open'"
    closed_at = d.time(d.need("close date", "Close Date", "closedate"), read=not_open)
    job.write("deals", {
        "deal_id": text(d.need("deal id", "Record ID", "hs_object_id", "Deal ID")),
        "contact_id": contact_sql,
        "created_at": d.time(d.need("create date", "Create Date", "createdate")),
        "closed_at": f"case when {not_open} then {closed_at} end",
        "status": status,
        **_amount(d, status),
    }, "hs_deals")


def _amount(d: Export, status: str) -> dict[str, str]:
    """SQL of the deal's amount and currency. A multi-currency portal exports `Amount` in each
    deal's own currency and `Amount in company currency` converted to the portal's: that one is
    read, without a currency (the agreement's, docs/metrics.md), as the deal's currency is not
    its. With `Amount` alone, deals in several currencies are refused: summed, 100 EUR and
    100 MXN made 200 of neither."""
    currency = d.find("Currency", "Deal currency code", "deal_currency_code")
    home = d.find("Amount in company currency", "amount_in_home_currency")
    if home is not None:
        _note_won_without_home_amount(d, home, d.find("Amount", "amount"), status)
        return {"amount": d.deal_amount(home, status), "currency": "null"}
    amount = d.need("amount", "Amount", "amount")
    if currency is not None:
        code = f"upper({text(currency)})"
        seen = d.con.execute(f"select {code}, count(*) from {d.name} where {code} is not null "
                             "group by all order by min(rowid)").fetchall()
        if len(seen) > 1:
            listed = ", ".join(f"{c} {n:,}" for c, n in seen)
            d.refuse(currency, f"{code} <> {quote(seen[0][0])}", lambda found: (
                f"{found.strip()!r} is another currency than the first deals' {seen[0][0]}: the deals are in "
                f"{len(seen)} currencies ({listed}), and '{d.column_name(amount)}' is each deal's amount in its own "
                "currency, which summed would mix them; expected 'Amount in company currency' "
                "(amount_in_home_currency) in the export, or deals in one currency"))
    return {"amount": d.deal_amount(amount, status), "currency": text(currency or "null")}


def _note_won_without_home_amount(d: Export, home: str, amount: str | None, status: str) -> None:
    """Say how many won deals have an `Amount` but no `Amount in company currency`. They are
    quarantined without an amount, as every won deal without one is: `Amount` is in the deal's
    own currency, and the import does not know the portal's company currency to tell whether it
    is that one. Unsaid, the quarantine of deals the export shows an amount for was a surprise."""
    if amount is None:
        return
    where = f"({status}) = 'won' and {text(home)} is null and {text(amount)} is not null"
    count = d.con.execute(f"select count(*) filter (where {where}) from {d.name}").fetchone()[0]
    if count:
        d.notes.append(
            f"note: {d.path.name}: {counted(count, 'won deal')} with an '{d.column_name(amount)}' but no "
            f"'{d.column_name(home)}' written without an amount (quarantined as missing_required:amount); "
            f"'{d.column_name(amount)}' is in the deal's own currency and was not used: fix the "
            f"{'deal' if count == 1 else 'deals'} in HubSpot and export again")
