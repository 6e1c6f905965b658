"""Which stage's shortfall explains most of the revenue gap.

The plan is the reverse funnel (SPEC §4): customers_plan = goal_m / deal size, and each stage
S needs customers_plan / M(S), where M(S) is the product of the agreed rates from S down to
the last stage. Walking the funnel top-down with the month's volumes V:

    top stage T:   lost(T)   = (customers_plan / M(T) − V(T)) · M(T)
    step A → B:    lost(A→B) = (V(A) · rate(A→B) − V(B)) · M(B)

lost(A→B) is the customers missing because B got fewer contacts than the agreed rate
promises from what A actually delivered, carried down the rest of the funnel at the agreed
rates. rate(A→B) · M(B) = M(A), so the terms telescope:

    Σ lost = customers_plan − V(last stage)                      (exact)

and in money, with deal size D and revenue target G_m = customers_plan · D:

    G_m − revenue = Σ lost · D  +  (V(last) · D − revenue)

the last term being deal size and timing: customers who entered the last stage versus the
amounts actually won in the month. The bottleneck is the step with the largest lost revenue.
Stage volumes of one month are not one cohort (an MQL of March may become a customer in
May), so this is the period view of the funnel, as the planner's targets are.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class StageLoss:
    stage_id: str               # the stage whose volume falls short
    from_stage: str | None      # None for the top of the funnel (volume vs plan)
    expected: float             # plan (top) or V(from) · agreed rate
    actual: float
    customers_lost: float       # negative: the step delivered more than agreed
    revenue_lost: Fraction      # exact: money is rounded once, as text (report.format.money)


@dataclass(frozen=True)
class Bottleneck:
    revenue_target: Fraction
    revenue_actual: Fraction | None
    customers_plan: float
    customers_actual: float
    deal_size: Fraction
    losses: list[StageLoss]
    deal_size_and_timing: Fraction | None   # V(last) · D − revenue
    worst: StageLoss | None                 # largest positive revenue_lost; None when nothing is lost

    @property
    def revenue_gap(self) -> Fraction | None:
        return None if self.revenue_actual is None else self.revenue_target - self.revenue_actual


def attribute(
    stages: list[str],
    rates: dict[tuple[str, str], Fraction],
    volumes: dict[str, float | None],
    customers_plan: Fraction,
    deal_size: Fraction,
    revenue_actual: float | None,
) -> Bottleneck | None:
    """The decomposition above; None when a stage below the first measured one has no volume."""
    measured = [s for s in stages if volumes.get(s) is not None]
    if not measured:
        return None
    top = measured[0]
    chain = stages[stages.index(top):]
    if any(volumes.get(s) is None for s in chain):
        return None
    multiplier = {chain[-1]: Fraction(1)}
    for upper, lower in reversed(list(zip(chain, chain[1:]))):
        multiplier[upper] = multiplier[lower] * rates[(upper, lower)]
    volume = {s: Fraction(volumes[s]).limit_denominator(10**9) for s in chain}
    deal = Fraction(deal_size)
    losses = []
    expected_top = Fraction(customers_plan) / multiplier[top]
    steps = [(None, top, expected_top)] + [
        (upper, lower, volume[upper] * rates[(upper, lower)]) for upper, lower in zip(chain, chain[1:])
    ]
    for upper, stage, expected in steps:
        lost = (expected - volume[stage]) * multiplier[stage]
        losses.append(StageLoss(stage, upper, float(expected), float(volume[stage]), float(lost), lost * deal))
    last = volume[chain[-1]]
    revenue = None if revenue_actual is None else Fraction(revenue_actual)
    worst = max(losses, key=lambda loss: loss.revenue_lost)
    return Bottleneck(
        revenue_target=Fraction(customers_plan) * deal,
        revenue_actual=revenue,
        customers_plan=float(customers_plan),
        customers_actual=float(last),
        deal_size=deal,
        losses=losses,
        deal_size_and_timing=None if revenue is None else last * deal - revenue,
        worst=worst if worst.revenue_lost > 0 else None,
    )
