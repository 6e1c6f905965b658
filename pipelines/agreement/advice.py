"""Advice on valid agreements: values the rules accept that are most likely a slip.

`funnelpact validate` prints each piece of advice as a warning and still exits 0: the
agreement means what it says, and only its authors know whether they meant it.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from pipelines.agreement.currencies import THOUSANDTHS, WITHDRAWN
from pipelines.agreement.model import Agreement
from pipelines.agreement.months import add_months, current_zone_name, is_old_zone_name, month_index, month_range, spans
from pipelines.agreement.plan import month_weights
from pipelines.agreement.yaml_source import SourceDocument, dotted, load_yaml
from pipelines.errors import Problem

# A month weighing this much more than a month not named takes about half a year's goal or
# more: weights written as percentages (80 for 80 %) do that, a real season hardly ever.
PERCENT_LIKE = Decimal(10)


def advise(agreement: Agreement) -> list[Problem]:
    """The warnings for `agreement`, each at the line of the value it is about."""
    doc = _document(agreement)
    advice = [*_thousands_dot(agreement, doc.data if doc else {}), *_reversed_offset(agreement), *_old_zone_name(agreement),
              *_withdrawn_currency(agreement),
              *_percent_seasonality(agreement), *_repeated_channels(agreement),
              *_values_the_importers_rename(agreement), *_file_named_for_another_revision(agreement)]
    return _located(agreement, advice, doc)


def advise_revisions(agreements: list[Agreement]) -> list[Problem]:
    """The warnings about revisions of one agreement taken together: months between two
    windows that no revision is in force in. Those months are never judged (a run asked for
    them says no agreement is in force), so `from: 2026-08` after a revision ending 2026-06
    is most likely a slip for 2026-07; a paused agreement is a gap on purpose."""
    problems = []
    for before, after, months in revision_gaps(agreements):
        name, gap = after.name, spans(months)
        problems += _located(after, [(("spec", "effective"), (
            f"no revision of {name} is in force in {gap}: {before.revision} ends {before.spec.effective.to} "
            f"({before.source_file}) and {after.revision} starts {after.spec.effective.from_}, so {gap} is not "
            f"judged; if the gap is a slip, start {after.revision} in {months[0]}"))])
    return problems


def revision_gaps(agreements: list[Agreement]) -> list[tuple[Agreement, Agreement, list[str]]]:
    """(revision before, revision after, the months between) for each gap between two
    revisions of one agreement (validate warns of them, diff lists those a change opens)."""
    gaps = []
    for name in dict.fromkeys(a.name for a in agreements):
        revisions = sorted((a for a in agreements if a.name == name),
                           key=lambda a: month_index(a.spec.effective.from_))
        for before, after in zip(revisions, revisions[1:]):
            first, last = add_months(before.spec.effective.to, 1), add_months(after.spec.effective.from_, -1)
            if month_index(first) <= month_index(last):  # else adjacent, or overlapping (an error)
                gaps.append((before, after, month_range(first, last)))
    return gaps


def _document(agreement: Agreement) -> SourceDocument | None:
    """The agreement's file as written (numbers with the decimals they were written with)."""
    if agreement.source_file is None:
        return None
    return load_yaml(Path(agreement.source_file).read_text(encoding="utf-8"), agreement.source_file)


def _located(agreement: Agreement, advice: list[tuple[tuple, str]], doc: SourceDocument | None = None) -> list[Problem]:
    """Each piece of advice at the line of the value it is about, in the agreement's file."""
    doc = doc or (_document(agreement) if advice else None)
    if doc is None:
        return [Problem(message, field=dotted(path)) for path, message in advice]
    return [doc.problem(path, message) for path, message in advice]


def _thousands_dot(a: Agreement, data: dict):
    """A sum of money or an explicit target written with a dot and three digits after it, below
    1000: where the dot separates thousands (Germany, Spain, Brazil, …) `revenue_goal: 600.000`
    is 600 000 and `visit: 120.000` 120 000 visits; YAML reads 600 and 120, so targets fall a
    thousandfold. `data` is the file as written: the model keeps a target as a whole number."""
    spec = data.get("spec", {})
    written = [] if a.spec.currency in THOUSANDTHS else [
        (("spec", key), spec.get(key)) for key in ("revenue_goal", "average_deal_size")]
    written += [(("spec", "targets", month, stage), value)
                for month, volumes in (spec.get("targets") or {}).items()
                for stage, value in (volumes or {}).items()]
    for path, value in written:
        if isinstance(value, Decimal) and value.as_tuple().exponent == -3 and 0 < value < 1000:
            yield path, (f"{value} is read as {_number(value)}, the dot a decimal point: if it separates "
                         f"thousands, write {_number(value * 1000)}")


def _reversed_offset(a: Agreement):
    """`Etc/GMT+5` is five hours *behind* UTC (POSIX signs, the reverse of ISO 8601's): written
    for UTC+5, every month would start ten hours late, and no error could say so."""
    found = re.fullmatch(r"Etc/GMT([+-])(\d+)", a.spec.timezone)
    if found and int(found[2]):
        sign, hours = found.groups()
        offset = f"UTC{'-' if sign == '+' else '+'}{int(hours):02d}:00"
        yield ("spec", "timezone"), (f"{a.spec.timezone} is {offset}: in the Etc/GMT zones the sign is reversed "
                                     f"(POSIX); if you meant UTC{sign}{int(hours):02d}:00, write "
                                     f"Etc/GMT{'-' if sign == '+' else '+'}{hours}, or better the place's own "
                                     "zone (Asia/Karachi, Europe/Berlin), which keeps its daylight saving time")


def _old_zone_name(a: Agreement):
    """US/Eastern, Asia/Calcutta, GMT: names the tz database keeps only so that old files still
    work (its `backward` links). They mean the zone they link to, so nothing is wrong today;
    but they were renamed or folded into another zone, and may go in a later release."""
    tz = a.spec.timezone
    if not is_old_zone_name(tz):
        return
    # Every revision of an agreement shares one timezone name (validate.py): all of them change.
    every = f"in every revision of {a.name}, which share one timezone"
    if current := current_zone_name(tz):
        yield ("spec", "timezone"), (f"{tz} is an old name of {current}, kept by the tz database for compatibility: "
                                     f"write {current} ({every}); the months stay the same")
    else:
        yield ("spec", "timezone"), (f"{tz} is an old name the tz database keeps for compatibility, which names "
                                     f"no one place: write the place's own zone, Area/City (Europe/Berlin, "
                                     f"America/New_York), {every}")


def _withdrawn_currency(a: Agreement):
    """A revision in force after its currency was replaced (HRK, the kuna, by the euro in 2023):
    most likely a copy of an older revision whose currency no one updated. Older revisions
    in such a code are history, and right as they are."""
    successor, since = WITHDRAWN.get(a.spec.currency, (None, None))
    if successor and a.spec.effective.to >= since:
        yield ("spec", "currency"), (f"{a.spec.currency} was replaced by {successor} from {since}, and this revision is "
                                     f"in force until {a.spec.effective.to}: if its sums are in {successor}, write "
                                     f"currency: {successor}")


def _percent_seasonality(a: Agreement):
    """Weights that look like percentages next to months not named, which weigh 1: with
    `2026-01: 80`, January takes 80 times a plain month's share of the goal. When every
    month is named, percentages split the goal as intended (weights are relative)."""
    named = a.spec.seasonality
    unnamed = [m for m in a.months() if m not in named]
    large = [m for m in sorted(named) if named[m] >= PERCENT_LIKE]
    if not unnamed or not large:
        return
    weights = month_weights(a)
    first = large[0]
    share = float(weights[first] / sum(weights.values()))
    listed = ", ".join(f"{m} weighs {_number(named[m])}" for m in large)
    yield ("spec", "seasonality", first), (
        f"{listed}, while the {len(unnamed)} month(s) not named weigh 1: {first} takes {share:.0%} "
        f"of the window's goal. If the weights are percentages, write {_number(named[first] / 100)} "
        f"for {_number(named[first])}%, or name every month of the window")


def _repeated_channels(a: Agreement):
    """An alert channel listed twice (the same Slack variable, e-mail server and recipients, or
    `log`): a run delivers each alert to it once (the outbox keys deliveries by channel), so
    the second entry is most likely a copy meant to be edited."""
    from pipelines.alerts.channels import channel_key

    first: dict[str, int] = {}
    for i, alert in enumerate(a.spec.alerts):
        key = channel_key(alert.model_dump())
        if key in first:
            yield ("spec", "alerts", i), (f"the same channel as spec.alerts[{first[key]}] ({key}): each alert "
                                          "reaches it once; remove one, or point it at another channel")
        first.setdefault(key, i)


def _values_the_importers_rename(a: Agreement):
    """A CRM value the importers never write: they store HubSpot's and Salesforce's standard
    stages as funnelpact's ids (`marketingqualifiedlead` as `mql`, docs/data.md). A stage that
    lists the CRM's name without the id counts no imported event: the events are quarantined,
    or count for the stage of that id."""
    from pipelines.agreement.model import stage_value
    from pipelines.data.importers.hubspot import LABELS, STAGE_IDS
    from pipelines.data.importers.salesforce import STATUS_STAGES

    written = {**{value: ("HubSpot", i) for value, i in STAGE_IDS.items()},
               **{label: ("HubSpot", STAGE_IDS[value]) for label, value in LABELS.items() if value in STAGE_IDS},
               **{status: ("Salesforce", i) for status, i in STATUS_STAGES.items() if i}}
    means = a.stage_values()
    for i, stage in enumerate(a.spec.stages):
        for value in stage.crm_values:
            crm, as_id = written.get(stage_value(value), (None, None))
            if as_id is None or as_id == stage.id or means.get(as_id) == stage.id:
                continue
            importer = f"the {crm} importer writes {value!r} as {as_id!r}"
            if as_id in means:
                yield ("spec", "stages", i, "crm_values"), (
                    f"{importer}, which means {means[as_id]!r} here: imported events count for "
                    f"{means[as_id]!r}, not {stage.id!r} (docs/data.md, Importers)")
            else:
                yield ("spec", "stages", i, "crm_values"), (
                    f"{importer}, which this revision does not list: imported events of {stage.id!r} "
                    f"would be quarantined as unknown_stage; add {as_id!r} to its crm_values (docs/data.md, Importers)")


def _file_named_for_another_revision(a: Agreement):
    """A file named `<name>-<label>` whose label is not the revision it holds, but one of the
    same shape (`acme-2027-q1.yaml` holding `2027-q2`): a copy of another revision whose label
    no one updated, or a label mistyped. The label, not the file, names the revision's suites,
    alerts and diff, so reviewers reading the file name read another revision. Any other file
    name is the authors' to choose (`h2.yaml`, `acme-eu.yaml`): no advice."""
    if a.source_file is None:
        return
    stem = Path(a.source_file).name.rsplit(".", 1)[0].casefold()
    for separator in "-_":
        prefix = f"{a.name.casefold()}{separator}"
        label = stem.removeprefix(prefix)
        if stem.startswith(prefix) and label != a.revision.casefold() and _shape(label) == _shape(a.revision):
            yield ("metadata", "revision"), (
                f"the file is named for revision {label} of {a.name}, but holds revision {a.revision}: if the "
                f"label is a slip, write revision: {label}; else rename the file {prefix}{a.revision}"
                f"{Path(a.source_file).suffix} (the label names the revision's suites, alerts and diff)")
            return


def _shape(label: str) -> str:
    """`2027-q1` as `9999-a9`: labels of one scheme (years, halves, quarters) share a shape."""
    return re.sub(r"[^\W\d_]", "a", re.sub(r"\d", "9", label.casefold()))


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")
