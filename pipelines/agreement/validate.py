"""Validation of meaning: the rules a schema cannot express.

Each rule returns problems pointing at the offending field, so one run lists them all.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from pipelines.agreement.kpis import known_kpi_ids
from pipelines.agreement.model import (LIMIT, RESERVED_STAGE_VALUES, Agreement, canonical_pair, parse_pair,
                                       stage_value)
from pipelines.agreement.months import month_index
from pipelines.agreement.plan import PLAN_OWN_COLUMNS, plan_window
from pipelines.agreement.yaml_source import SourceDocument
from pipelines.errors import Problem

# The stage counted from web_sessions, not from lifecycle events (SPEC section 3).
VISIT = "visit"


def check_agreement(agreement: Agreement, doc: SourceDocument) -> list[Problem]:
    rules = (_window, _stages, _conversions, _months_inside, _targets, _kpis, _handoff, _lead_value)
    spelt = _pair_spellings(doc)

    def as_written(path: tuple) -> tuple:
        # The model keys rates by `lead->mql`; point at the key the way the file writes it.
        if path[:2] == ("spec", "conversion") and len(path) > 2 and path[2] in spelt:
            return (*path[:2], spelt[path[2]][0], *path[3:])
        return path

    problems = [doc.problem(as_written(path), message) for rule in rules for path, message in rule(agreement)]
    problems += [
        doc.problem(("spec", "conversion", key), f"{key!r} and {keys[0]!r} are the same pair {pair}: expected one rate per pair")
        for pair, keys in spelt.items() for key in keys[1:]
    ]
    if not problems:  # the planner needs a sound funnel: unique stages, a rate for every pair
        problems = [doc.problem(as_written(path), message) for path, message in _target_sizes(agreement)]
    return problems


def _pair_spellings(doc: SourceDocument) -> dict[str, list]:
    """Each conversion key of the file by the pair it names: `lead->mql` and `lead -> mql`
    are one pair, and the model keeps only one of their rates."""
    spelt: dict[str, list] = {}
    for key in doc.data["spec"]["conversion"]:
        spelt.setdefault(canonical_pair(str(key)), []).append(key)
    return spelt


def _window(a: Agreement) -> Iterator[tuple[tuple, str]]:
    eff = a.spec.effective
    if month_index(eff.from_) > month_index(eff.to):
        yield ("spec", "effective", "to"), f"the window ends ({eff.to}) before it starts ({eff.from_}): expected from <= to"


def _stages(a: Agreement) -> Iterator[tuple[tuple, str]]:
    """Within this revision, one meaning per lifecycle value. Across revisions and agreements a
    value may mean different stages (a renamed stage listing its old id): each revision judges
    its months with its own vocabulary (`Agreement.stage_values`)."""
    seen: dict[str, int] = {}
    crm_owner: dict[str, str] = {}
    ids = {s.id for s in a.spec.stages}
    rates_order = _funnel_of_the_rates(a) or []
    for i, stage in enumerate(a.spec.stages):
        if stage.id in seen:
            yield ("spec", "stages", i, "id"), f"stage id {stage.id!r} is used twice (also stages[{seen[stage.id]}]): stage ids must be unique"
        seen.setdefault(stage.id, i)
        if stage.id in RESERVED_STAGE_VALUES:
            yield ("spec", "stages", i, "id"), f"{stage.id!r} is reserved for rejected leads and cannot be a funnel stage"
        if stage.id in PLAN_OWN_COLUMNS:
            yield ("spec", "stages", i, "id"), (
                f"{stage.id!r} is a column of the plan beside the stages' targets "
                f"({', '.join(PLAN_OWN_COLUMNS)}) "
                "and cannot be a stage id: expected another id (the label may say anything)")
        # Volume(visit) sums web_sessions wherever the stage stands (SPEC section 3), and no
        # contact enters it: after another stage it compared sessions with contacts, and
        # events mapped onto it were loaded and then counted for no stage, silently.
        if stage.id == VISIT and i > 0 and rates_order[:1] != [VISIT]:  # rates starting at visit: out of order (_conversions)
            yield ("spec", "stages", i, "id"), (
                f"{VISIT!r} counts web sessions, which no contact enters: it can only be the funnel's first stage")
        if stage.id == VISIT and stage.crm_values:
            yield ("spec", "stages", i, "crm_values"), (
                f"{VISIT!r} counts web sessions, not lifecycle events: the events of "
                f"{', '.join(repr(v) for v in stage.crm_values)} would count for no stage")
        for value in stage.crm_values:
            key = stage_value(value)
            other = crm_owner.get(key)
            if other and other != stage.id:
                yield ("spec", "stages", i, "crm_values"), f"CRM value {value!r} maps onto both {other!r} and {stage.id!r}: expected each value once"
            elif key != stage.id and key in ids:
                # The id itself always maps onto its stage (Agreement.stage_values): this would be ignored.
                yield ("spec", "stages", i, "crm_values"), (
                    f"CRM value {value!r} is the id of stage {key!r}, which it always maps onto, so it "
                    f"cannot also mean {stage.id!r}: expected each value once")
            elif key in RESERVED_STAGE_VALUES:
                yield ("spec", "stages", i, "crm_values"), (
                    f"CRM value {value!r} is reserved for rejected leads, so it cannot mean {stage.id!r}")
            crm_owner.setdefault(key, stage.id)
    means = a.stage_values()
    listed: dict[str, str] = {}
    for i, value in enumerate(a.spec.ignored_crm_values):
        key = stage_value(value)
        path = ("spec", "ignored_crm_values", i)
        if key in means:
            yield path, f"CRM value {value!r} means stage {means[key]!r} in this revision, so it cannot be ignored: expected each value once"
        elif key in RESERVED_STAGE_VALUES:
            yield path, f"CRM value {value!r} is reserved for rejected leads (they recycle or leave the funnel), so it cannot be ignored"
        elif key in listed:
            yield path, f"CRM value {value!r} and {listed[key]!r} are the same value (compared without case and surrounding blanks): expected each once"
        listed.setdefault(key, value)


def _conversions(a: Agreement) -> Iterator[tuple[tuple, str]]:
    ids = a.stage_ids()
    if len(set(ids)) != len(ids):
        return  # the funnel itself is ambiguous (reported by _stages); pairs would only add noise
    chained = _funnel_of_the_rates(a)
    if chained is not None and chained != ids:
        # Two stages swapped in the list break every pair around them: the rates' own chain
        # says which order was meant, and one problem at the stage names the slip.
        at = next(i for i, (listed, meant) in enumerate(zip(ids, chained)) if listed != meant)
        stages, chain = " -> ".join(ids), " -> ".join(chained)
        if "stages" in a.spec.model_fields_set:
            yield ("spec", "stages", at, "id"), (
                f"stage {ids[at]!r} is out of funnel order: the stages are listed {stages}, while spec.conversion "
                f"chains them {chain}: expected stages[{at}] to be {chained[at]!r} (stages in funnel order), or "
                "rates for the order listed")
        else:  # no list to point at: the default funnel, which the rates chain otherwise
            yield ("spec", "conversion"), (
                f"spec.conversion chains the stages {chain}, while without spec.stages they are the default "
                f"{stages}: expected rates for the default order, or spec.stages listing yours")
        return
    pairs = {f"{x}->{y}" for x, y in a.adjacent_pairs()}
    given: set[str] = set()
    for key, rule in a.spec.conversion.items():
        path = ("spec", "conversion", key)
        pair = parse_pair(key)
        if pair is None:
            yield path, f"{key!r} is not a stage pair: expected 'from->to', e.g. 'lead->mql'"
            continue
        canonical = f"{pair[0]}->{pair[1]}"
        unknown = [s for s in pair if s not in ids]
        if unknown:
            yield path, f"unknown stage {unknown[0]!r}: expected one of {', '.join(ids)}"
            continue
        if canonical not in pairs:
            yield path, f"{canonical} is not an adjacent pair of the funnel: expected one of {', '.join(sorted(pairs, key=_order(ids)))}"
            continue
        given.add(canonical)
        if rule.method == "cohort" and rule.window_days is None:
            yield (*path, "method"), "method cohort needs window_days: how many days after entering the first stage a conversion counts"
        if rule.method == "period" and rule.window_days is not None:
            yield (*path, "window_days"), "window_days only applies to method cohort"
        # Visits are web sessions, counted per day: no contact enters `visit`, so no cohort
        # starts there (SPEC section 3; marts/conversions.sql measures it by period). A
        # funnel starting at another stage has contacts in its first pair like any other.
        if pair[0] == VISIT and rule.method == "cohort":
            yield (*path, "method"), (f"{canonical} is always measured by period: visits are web sessions, "
                                      "not contacts, so no cohort enters the visit stage")
    for missing in sorted(pairs - given, key=_order(ids)):
        yield ("spec", "conversion"), f"missing a rate for {missing}: every adjacent pair of stages needs one"


def _funnel_of_the_rates(a: Agreement) -> list[str] | None:
    """The funnel order the conversion keys spell, when they chain every stage once, from one
    first stage to one last (`visit->lead`, `lead->mql`, …); None when they spell no such chain."""
    pairs = [parse_pair(key) for key in a.spec.conversion]
    ids = a.stage_ids()
    if None in pairs or len(pairs) != len(ids) - 1:
        return None
    following = dict(pairs)
    if len(following) != len(pairs) or len(set(following.values())) != len(pairs):
        return None  # a stage with two rates out, or two in: no single chain
    if set(following) | set(following.values()) != set(ids):
        return None
    firsts = set(following) - set(following.values())
    if len(firsts) != 1:
        return None
    chain = [firsts.pop()]
    while chain[-1] in following and len(chain) < len(ids):
        chain.append(following[chain[-1]])
    return chain if len(chain) == len(ids) else None


def _target_sizes(a: Agreement) -> Iterator[tuple[tuple, str]]:
    """Derived targets below LIMIT. The window's are the largest (its goal is the sum of the
    months', and a month's explicit targets are bounded by the model), and the top stage's
    the largest of those (every rate is at most 1): one check, blaming the smallest rate."""
    window = plan_window(a)
    stage, target = max(window.targets.items(), key=lambda item: item[1])
    if target >= LIMIT:
        pair = min(a.spec.conversion, key=lambda key: a.spec.conversion[key].rate)
        yield ("spec", "conversion", pair, "rate"), (
            f"with this rate the {stage} target of the window {window.first}..{window.last} is "
            f"{Decimal(target):.1e}: expected rates that keep every target below 10^15 (is a rate written too small?)")


def _order(ids: list[str]):
    return lambda key: ids.index(key.split("->")[0])


def _months_inside(a: Agreement) -> Iterator[tuple[tuple, str]]:
    first, last = month_index(a.spec.effective.from_), month_index(a.spec.effective.to)
    if first > last:
        return  # the window itself is wrong (_window): every month would be "outside" it
    for section in ("seasonality", "targets"):
        for month in getattr(a.spec, section):
            if not first <= month_index(month) <= last:
                yield ("spec", section, month), (
                    f"{month} is outside the agreement's window "
                    f"{a.spec.effective.from_}..{a.spec.effective.to}"
                )


def _targets(a: Agreement) -> Iterator[tuple[tuple, str]]:
    ids = a.stage_ids()
    for month, volumes in a.spec.targets.items():
        for stage in volumes:
            if stage not in ids:
                yield ("spec", "targets", month, stage), f"unknown stage {stage!r}: expected one of {', '.join(ids)}"


def _kpis(a: Agreement) -> Iterator[tuple[tuple, str]]:
    known = known_kpi_ids(a)
    families = sorted({k.split(":")[0] for k in known})
    for key in a.spec.kpis:
        if key == "default" or key in known or key in families:
            continue
        import difflib

        hint = difflib.get_close_matches(key, [*known, *families, "default"], n=1)
        extra = f"; did you mean {hint[0]!r}?" if hint else ""
        yield ("spec", "kpis", key), f"unknown KPI {key!r}{extra} (expected 'default', a family such as 'volume', or a KPI id such as 'volume:mql')"


def _handoff(a: Agreement) -> Iterator[tuple[tuple, str]]:
    """The rules about MQLs need a stage with id mql. The recycle limit and lead-value weights
    were accepted without one and then judged nothing (no recycle_rate, no weighted volume):
    a revision that renamed `mql` lost them without a word."""
    if "mql" in a.stage_ids():
        return
    if a.spec.handoff:
        yield ("spec", "handoff"), "hand-off rules apply to MQLs, but the funnel has no stage with id 'mql'"
    if a.spec.recycling.max_rate is not None:
        yield ("spec", "recycling", "max_rate"), (
            "the recycle rate is a share of MQLs, but the funnel has no stage with id 'mql': this limit would judge nothing")
    for dimension in ("seniority", "persona"):
        if getattr(a.spec.lead_value, dimension):
            yield ("spec", "lead_value", dimension), (
                "lead-value weights weigh MQLs (weighted_volume:mql), but the funnel has no stage with id 'mql': "
                "they would weigh nothing")


def _lead_value(a: Agreement) -> Iterator[tuple[tuple, str]]:
    # Weights match the contacts' values whatever their case and Unicode form (as lifecycle
    # values are compared, stage_value): two keys differing only so would both match a
    # contact, and count it twice.
    for dimension in ("seniority", "persona"):
        seen: dict[str, str] = {}
        for value in getattr(a.spec.lead_value, dimension):
            other = seen.setdefault(stage_value(value), value)
            if other != value:
                yield ("spec", "lead_value", dimension, value), (
                    f"{value!r} and {other!r} are the same {dimension}: weights match CRM values "
                    "regardless of case, spaces and Unicode form; expected each value once")


def check_revisions(agreements: list[Agreement], docs: dict[str, SourceDocument]) -> list[Problem]:
    """Revisions of one agreement: unique labels, windows that do not overlap, one timezone
    (months of revisions in two zones would overlap, or leave hours in no month, where one
    revision hands over to the next).

    Labels are compared regardless of case: a revision's suites go to the folder
    <name>/<revision>/, and 2026-h1 and 2026-H1 are one folder on case-insensitive file
    systems (macOS, Windows), where one revision's suites would overwrite the other's."""
    problems = []
    by_name: dict[str, list[Agreement]] = {}
    for a in agreements:
        by_name.setdefault(a.name, []).append(a)
    for revisions in by_name.values():
        revisions.sort(key=lambda r: month_index(r.spec.effective.from_))
        first = revisions[0]
        for i, a in enumerate(revisions):
            doc = docs[a.source_file]
            if a.spec.timezone != first.spec.timezone:
                problems.append(doc.problem(
                    ("spec", "timezone"),
                    f"{a.name} {a.revision} is in {a.spec.timezone} but {first.revision} ({first.source_file}) in "
                    f"{first.spec.timezone}: expected one timezone for every revision of an agreement"))
            for b in revisions[:i]:
                if a.revision.casefold() == b.revision.casefold():
                    spelt = "" if a.revision == b.revision else f" as {b.revision!r}"
                    problems.append(doc.problem(("metadata", "revision"), (
                        f"revision {a.revision!r} of {a.name!r} is also defined in {b.source_file}{spelt}: "
                        "expected unique revisions (labels that differ only in case share a folder of suites)")))
                elif month_index(a.spec.effective.from_) <= month_index(b.spec.effective.to):
                    problems.append(doc.problem(
                        ("spec", "effective"),
                        f"window {a.spec.effective.from_}..{a.spec.effective.to} of {a.name} {a.revision} overlaps "
                        f"{b.revision} ({b.spec.effective.from_}..{b.spec.effective.to}, {b.source_file}): "
                        "expected one revision in force per month",
                    ))
    return problems

