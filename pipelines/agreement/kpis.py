"""KPI ids (SPEC §5), who owns each, and each month's target, tolerance and severity."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Literal

from pipelines.wording import counted

if TYPE_CHECKING:
    from pipelines.agreement.model import Agreement

Direction = Literal["at_least", "at_most"]

# The KPI families: the part of a KPI id before ":" (SPEC §5), in catalogue order.
KPI_FAMILIES = ("volume", "weighted_volume", "conversion", "handoff", "recycle_rate", "revenue", "data_quality")
# KPIs whose values are shares (0..1): shown as percentages, gaps in percentage points.
SHARE_PREFIXES = ("conversion:", "handoff:", "recycle_rate", "data_quality:")
# What a judged KPI can be (docs/checks.md).
STATUSES = ("met", "breach", "provisional", "at_risk", "no_data")

# Without a `kpis.default`, a KPI is met only at or above its target and a miss fails.
BUILTIN_TOLERANCE = Decimal(0)
BUILTIN_SEVERITY = "fail"
# SPEC §6 announces every status change, at_risk too, from the month's first run.
BUILTIN_AT_RISK_AFTER_DAYS = 0


@dataclass(frozen=True)
class KpiTarget:
    agreement: str
    revision: str
    period: str
    kpi: str
    target: Fraction | None  # None: reported, not judged
    direction: Direction
    owner: str
    tolerance: Decimal
    severity: str


def family(kpi: str) -> str:
    return kpi.split(":", 1)[0]


def is_share(kpi: str) -> bool:
    return kpi.startswith(SHARE_PREFIXES)


def known_kpi_ids(agreement: Agreement) -> list[str]:
    return [kpi for kpi, _owner, _direction in _kpi_catalogue(agreement)]


def _kpi_catalogue(a: Agreement) -> list[tuple[str, str, Direction]]:
    ids = a.stage_ids()
    out: list[tuple[str, str, Direction]] = [(f"volume:{s.id}", s.owner, "at_least") for s in a.spec.stages]
    if "mql" in ids:
        out.append(("weighted_volume:mql", a.stage("mql").owner, "at_least"))
    for upper, lower in a.adjacent_pairs():
        owner = a.conversion_for(upper, lower).owner if f"{upper}->{lower}" in a.spec.conversion else None
        out.append((f"conversion:{upper}->{lower}", owner or a.stage(upper).owner, "at_least"))
    if "mql" in ids:
        out += [
            ("handoff:first_touch", "sales", "at_least"),
            ("handoff:decision", "sales", "at_least"),
            ("recycle_rate", "marketing", "at_most"),
        ]
    out += [("revenue", "sales", "at_least"), ("data_quality:quarantine_rate", "shared", "at_most")]
    return out


def policy(agreement: Agreement, kpi: str) -> tuple[Decimal, str]:
    """Tolerance and severity: the KPI's own entry, else its family's, else `default`."""
    return (_lookup(agreement, kpi, "tolerance", BUILTIN_TOLERANCE),
            _lookup(agreement, kpi, "severity", BUILTIN_SEVERITY))


def at_risk_after_days(agreement: Agreement, kpi: str) -> int:
    """Days of the month that must have elapsed before an at_risk of this KPI is announced."""
    return _lookup(agreement, kpi, "at_risk_after_days", BUILTIN_AT_RISK_AFTER_DAYS)


def _lookup(agreement: Agreement, kpi: str, field: str, builtin):
    """`kpis.default`, then the KPI's family, then its id: each later entry overrides only
    the fields it sets, so every field is looked up on its own."""
    value = builtin
    for key in ("default", family(kpi), kpi):
        entry = agreement.spec.kpis.get(key)
        if entry is not None and getattr(entry, field) is not None:
            value = getattr(entry, field)
    return value


def month_targets(agreement: Agreement, month) -> dict[str, Fraction | None]:
    """Each KPI's target for one month of the plan (`plan.MonthPlan`)."""
    return {kpi: _target(agreement, month, kpi) for kpi, _, _ in _kpi_catalogue(agreement)}


def kpi_targets(agreement: Agreement) -> list[KpiTarget]:
    from pipelines.agreement.plan import plan_agreement

    catalogue = [(kpi, owner, direction, *policy(agreement, kpi))
                 for kpi, owner, direction in _kpi_catalogue(agreement)]
    return [KpiTarget(agreement.name, agreement.revision, month.period, kpi, _target(agreement, month, kpi),
                      direction, owner, tolerance, severity)
            for month in plan_agreement(agreement)
            for kpi, owner, direction, tolerance, severity in catalogue]


def _target(a: Agreement, month, kpi: str) -> Fraction | None:
    kind, _, rest = kpi.partition(":")
    handoff = a.spec.handoff
    if kind == "volume":
        return Fraction(month.targets[rest])
    if kind == "weighted_volume":
        return Fraction(month.targets["mql"])
    if kind == "conversion":
        upper, lower = rest.split("->")
        return Fraction(a.conversion_for(upper, lower).rate)
    if kpi == "handoff:first_touch":
        return Fraction(handoff.first_touch.attainment) if handoff and handoff.first_touch else None
    if kpi == "handoff:decision":
        return Fraction(handoff.decision.attainment) if handoff and handoff.decision else None
    if kpi == "recycle_rate":
        rate = a.spec.recycling.max_rate
        return Fraction(rate) if rate is not None else None
    if kpi == "revenue":
        return month.revenue
    if kpi == "data_quality:quarantine_rate":
        return Fraction(a.spec.data_quality.max_quarantine_rate)
    raise ValueError(f"unknown KPI {kpi}")


def stage_label(agreement: Agreement, stage_id: str) -> str:
    try:
        return agreement.stage(stage_id).label
    except StopIteration:
        return stage_id


def kpi_label(agreement: Agreement, kpi: str) -> str:
    """A sentence-case name for people (the review pack, the alerts); the KPI id is shown next
    to it for machines."""
    kind, _, rest = kpi.partition(":")
    handoff = agreement.spec.handoff
    if kind == "volume":
        return f"{stage_label(agreement, rest)}: volume"
    if kind == "weighted_volume":
        return f"{stage_label(agreement, rest)}: weighted by lead value"
    if kind == "conversion":
        upper, _, lower = rest.partition("->")
        return f"{stage_label(agreement, upper)} → {stage_label(agreement, lower)}"
    if kpi == "handoff:first_touch":
        hours = handoff.first_touch.within_hours if handoff and handoff.first_touch else None
        return f"First touch within {hours:g} h" if hours is not None else "First touch"
    if kpi == "handoff:decision":
        days = handoff.decision.within_days if handoff and handoff.decision else None
        return f"Accept or reject within {counted(days, 'day')}" if days is not None else "Accept or reject"
    if kpi == "recycle_rate":
        return "Recycle rate (lower is better)"
    if kpi == "revenue":
        return "Revenue won"
    if kpi == "data_quality:quarantine_rate":
        return "Quarantined input rows (lower is better)"
    return kpi
