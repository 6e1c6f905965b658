"""The synthetic company's funnel, simulated for one chunk of contacts with vectorised numpy.

Times are int64 seconds since the epoch, UTC. The rates default to the acme agreement in
`sla/` (it is not imported: the generator must not depend on the agreement model) and drift
month by month, so a run shows some months meeting a target and others missing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DAY, HOUR = 86_400, 3_600
# Acme sells from Mexico City, which has kept UTC-6 all year since 2022 (no DST).
LOCAL_UTC_OFFSET = -6 * HOUR

WEEKDAY_WEIGHT = np.array([1.0, 1.08, 1.05, 1.0, 0.85, 0.3, 0.25])  # Monday first
MONTH_WEIGHT = np.array([0.85, 0.95, 1.15, 1.0, 1.0, 1.05, 0.85, 0.7, 1.05, 1.15, 1.2, 0.8])
HOUR_WEIGHT = np.array([1, 1, 1, 1, 1, 2, 4, 8, 14, 18, 18, 16, 12, 14, 16, 15, 12, 9, 7, 6, 5, 4,
                        2, 1], dtype=float)  # local hour of day, office hours peak
HOUR_WEIGHT /= HOUR_WEIGHT.sum()

SOURCES = (["organic", "paid_search", "paid_social", "webinar", "referral", "events"],
           [0.35, 0.25, 0.15, 0.1, 0.1, 0.05])
PERSONAS = (["economic_buyer", "champion", "end_user", "technical_evaluator"],
            [0.2, 0.3, 0.35, 0.15])
# Senior contacts qualify more often; weights average 1.0 over the mix.
SENIORITY = (["c_level", "vp", "director", "manager", "individual"],
             [0.05, 0.1, 0.2, 0.35, 0.3], np.array([1.4, 1.2, 1.1, 1.0, 0.8]))
COUNTRIES = (["MX", "US", "BR", "CO", "ES", "CA", "AR", "CL"],
             [0.3, 0.25, 0.12, 0.1, 0.08, 0.07, 0.05, 0.03])

# CRM values as a HubSpot-fed warehouse holds them: the agreement maps them onto stage ids.
STAGE_VALUES = ["lead", "subscriber", "Lead", "mql", "marketingqualifiedlead", "sql",
                "salesqualifiedlead", "opportunity", "customer", "recycled", "disqualified"]
(LEAD, SUBSCRIBER, LEAD_CAPS, MQL, MQL_CRM, SQL, SQL_CRM, OPP, CUSTOMER, RECYCLED,
 DISQUALIFIED) = range(len(STAGE_VALUES))
# Recycle reasons are the example agreement's `recycling.reasons`, so the report can match them.
REASONS = [None, "no_budget", "wrong_persona", "not_ready",
           "no_response", "already uses a competitor", "student, not a buyer",
           "outside our territory", "spam sign-up"]
RECYCLE_REASONS, DISQUALIFY_REASONS = np.arange(1, 5), np.arange(5, 9)
ACTIVITY_TYPES = ["call", "email", "meeting", "email_click", "webinar_attended"]
CHANNELS = (["organic", "paid_search", "paid_social", "direct", "referral"],
            np.array([0.42, 0.25, 0.15, 0.12, 0.06]))


@dataclass(frozen=True)
class Funnel:
    """Rates and behaviour of the synthetic company (defaults: roughly the acme agreement)."""

    visit_to_lead: float = 0.02
    lead_to_mql: float = 0.30
    mql_to_sql: float = 0.45
    sql_to_opportunity: float = 0.50
    opportunity_to_customer: float = 0.33
    average_deal_size: float = 12_000.0
    recycled_share: float = 0.38  # of MQLs: sales sends them back to nurturing
    disqualified_share: float = 0.10
    requalified_share: float = 0.20  # of recycled leads: qualify again later
    never_touched_share: float = 0.04  # MQLs sales never calls
    response_median_hours: float = 1.0  # sales' first touch of an MQL
    decision_median_days: float = 0.9
    month_drift: float = 0.2  # each month's rates move by up to +-20 %


@dataclass(frozen=True)
class Calendar:
    start: int  # first instant, UTC seconds (start date 00:00 local)
    end: int  # first instant after the window
    n_days: int
    day_p: np.ndarray  # probability that a contact is created on each local day
    day_month: np.ndarray  # index into `drift` of each local day
    first_day: date

    @classmethod
    def build(cls, start: date, end: date) -> Calendar:
        n_days = (end - start).days + 1
        days = np.arange(n_days)
        ordinals = start.toordinal() + days
        weekday = (ordinals - 1) % 7  # date.fromordinal(1) is a Monday
        months = np.array([date.fromordinal(int(o)).month for o in ordinals])
        years = np.array([date.fromordinal(int(o)).year for o in ordinals])
        weights = WEEKDAY_WEIGHT[weekday] * MONTH_WEIGHT[months - 1]
        month_index = (years - start.year) * 12 + months - start.month
        epoch = int(datetime(start.year, start.month, start.day, tzinfo=timezone.utc).timestamp())
        return cls(start=epoch - LOCAL_UTC_OFFSET, end=epoch - LOCAL_UTC_OFFSET + n_days * DAY,
                   n_days=n_days, day_p=weights / weights.sum(), day_month=month_index,
                   first_day=start)

    @property
    def n_months(self) -> int:
        return int(self.day_month.max()) + 1


def drift_table(seed: int, n_months: int, funnel: Funnel) -> np.ndarray:
    """Per month factors around 1 for: mql, response, sql, decision, opp, win, visits."""
    rng = np.random.default_rng([seed, 1_000_003])
    d = funnel.month_drift
    return rng.uniform(1 - d, 1 + d, size=(n_months, 7))


def _lognormal(rng, median: np.ndarray | float, sigma: float, n: int) -> np.ndarray:
    return (median * np.exp(sigma * rng.standard_normal(n))).astype(np.int64)


def _pick(rng, n: int, p) -> np.ndarray:
    return rng.choice(len(p), size=n, p=np.asarray(p) / np.sum(p)).astype(np.int8)


class _Events:
    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, who, stage, at, reason=None) -> None:
        n = len(who)
        stage = np.full(n, stage, np.int8) if np.isscalar(stage) else stage.astype(np.int8)
        reason = np.zeros(n, np.int8) if reason is None else reason.astype(np.int8)
        self.parts.append((who, stage, at, reason))

    def arrays(self):
        return [np.concatenate(x) for x in zip(*self.parts)]


def simulate_chunk(rng: np.random.Generator, first: int, n: int, cal: Calendar,
                   funnel: Funnel, drift: np.ndarray) -> tuple[dict[str, pa.Table], np.ndarray]:
    """Contacts first..first+n-1 and everything they did; plus leads per local day."""
    f = funnel
    day = rng.choice(cal.n_days, size=n, p=cal.day_p)
    month = cal.day_month[day]
    created = (cal.start + day * DAY + rng.choice(24, size=n, p=HOUR_WEIGHT) * HOUR
               + rng.integers(0, HOUR, n))
    seniority = _pick(rng, n, SENIORITY[1])
    who = np.arange(n)
    events, acts = _Events(), _Events()

    events.add(who, _pick(rng, n, [0.8, 0.15, 0.05]), created)  # lead / subscriber / Lead

    p_mql = f.lead_to_mql * drift[month, 0] * SENIORITY[2][seniority]
    m = np.nonzero(rng.random(n) < p_mql)[0]
    fast = rng.random(len(m)) < 0.4
    mql_delay = np.where(fast, rng.exponential(6 * HOUR, len(m)).astype(np.int64),
                         _lognormal(rng, 5 * DAY, 1.0, len(m)))
    mql_t = created[m] + mql_delay
    mm = month[m]

    # Sales' first touch: most within hours, a tail of late ones, some never.
    touched = rng.random(len(m)) >= f.never_touched_share * drift[mm, 1]
    response = _lognormal(rng, f.response_median_hours * HOUR * drift[mm, 1] ** 4, 0.9, len(m))
    t = touched
    acts.add(m[t], _pick(rng, int(t.sum()), [0.55, 0.45]), mql_t[t] + response[t])
    follow = t & (rng.random(len(m)) < 0.5)
    acts.add(m[follow], _pick(rng, int(follow.sum()), [0.4, 0.3, 0.3]),
             mql_t[follow] + response[follow] + _lognormal(rng, 2 * DAY, 0.6, int(follow.sum())))
    # A little prospecting before the MQL: it must not count as the first touch.
    early = rng.random(len(m)) < 0.03
    acts.add(m[early], 0, created[m[early]] + (mql_delay[early] // 3))
    nurture = np.nonzero(rng.random(n) < 0.4)[0]
    acts.add(nurture, _pick(rng, len(nurture), [0, 0, 0, 0.7, 0.3]),
             created[nurture] + rng.integers(HOUR, 30 * DAY, len(nurture)))

    # Sales' decision on the MQL: accept (SQL), recycle, disqualify, or nothing yet.
    u = rng.random(len(m))
    p_sql = np.minimum(f.mql_to_sql * drift[mm, 2], 0.9)
    is_sql = u < p_sql
    is_rec = (u >= p_sql) & (u < p_sql + f.recycled_share)
    is_dis = (u >= p_sql + f.recycled_share) & (u < p_sql + f.recycled_share
                                                  + f.disqualified_share)
    decided_t = mql_t + _lognormal(rng, f.decision_median_days * DAY * drift[mm, 3] ** 3, 0.7,
                                   len(m))
    # A few SQLs skip the MQL stage in the CRM: entries are implied by later stages.
    skip_mql = is_sql & (rng.random(len(m)) < 0.03)
    events.add(m[~skip_mql], np.where(rng.random(int((~skip_mql).sum())) < 0.75, MQL, MQL_CRM),
               mql_t[~skip_mql])
    rec = np.nonzero(is_rec)[0]
    events.add(m[rec], RECYCLED, decided_t[rec], rng.choice(RECYCLE_REASONS, len(rec)))
    dis = np.nonzero(is_dis)[0]
    events.add(m[dis], DISQUALIFIED, decided_t[dis], rng.choice(DISQUALIFY_REASONS, len(dis)))
    # Recycled leads that come back: a second MQL, sometimes accepted this time.
    again = rec[rng.random(len(rec)) < f.requalified_share]
    again_t = decided_t[again] + rng.integers(20 * DAY, 90 * DAY, len(again))
    events.add(m[again], MQL, again_t)
    accepted = rng.random(len(again)) < 0.4
    events.add(m[again[accepted]], SQL, again_t[accepted] + _lognormal(rng, 2 * DAY, 0.5,
                                                                        int(accepted.sum())))

    s = np.nonzero(is_sql)[0]
    sql_t, sm = decided_t[s], mm[s]
    p_opp = np.minimum(f.sql_to_opportunity * drift[sm, 4], 0.95)
    is_opp = rng.random(len(s)) < p_opp
    skip_sql = is_opp & (rng.random(len(s)) < 0.04)
    events.add(m[s[~skip_sql]], np.where(rng.random(int((~skip_sql).sum())) < 0.8, SQL, SQL_CRM),
               sql_t[~skip_sql])
    o = np.nonzero(is_opp)[0]
    opp_who, om = m[s[o]], sm[o]
    opp_t = sql_t[o] + _lognormal(rng, 5 * DAY, 0.8, len(o))
    events.add(opp_who, OPP, opp_t)

    # Deals: one per opportunity, won at roughly the agreed rate, lost or still open otherwise.
    won = rng.random(len(o)) < np.minimum(f.opportunity_to_customer * drift[om, 5], 0.95)
    lost = ~won & (rng.random(len(o)) < 0.6)
    close_t = opp_t + _lognormal(rng, 35 * DAY, 0.6, len(o))
    events.add(opp_who[won], CUSTOMER, close_t[won])
    sigma = 0.5
    amount = np.round(np.exp(np.log(f.average_deal_size) - sigma**2 / 2
                             + sigma * rng.standard_normal(len(o))), 2)
    status = np.where(won, 1, np.where(lost, 2, 0)).astype(np.int8)
    closed_in_window = (status > 0) & (close_t < cal.end)
    status = np.where(closed_in_window, status, 0).astype(np.int8)

    ids = _ids("C", first + np.arange(n))
    tables = {
        "contacts": pa.table({
            "contact_id": ids,
            "created_at": _ts(created),
            "source": _labels(_pick(rng, n, SOURCES[1]), SOURCES[0]),
            "persona": _labels(_pick(rng, n, PERSONAS[1]), PERSONAS[0]),
            "seniority": _labels(seniority, SENIORITY[0]),
            "country": _labels(_pick(rng, n, COUNTRIES[1]), COUNTRIES[0]),
        }),
        "lifecycle_events": _events_table(events, ids, cal.end),
        "activities": _activities_table(acts, ids, cal.end, first),
        "deals": _deals_table(opp_who, ids, opp_t, close_t, status, amount, cal.end, first),
    }
    leads_per_day = np.bincount(day, minlength=cal.n_days)
    return tables, leads_per_day


def _ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    digits = pc.utf8_lpad(pa.array(numbers, pa.int64()).cast(pa.string()), 7, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _ts(seconds: np.ndarray) -> pa.Array:
    """Canonical text: ISO 8601 without offset, which the contract reads as UTC."""
    return pa.array(seconds, pa.timestamp("s")).cast(pa.string())


def _labels(codes: np.ndarray, labels: list) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int8()),
                                          pa.array(labels, pa.string())).cast(pa.string())


def _events_table(events: _Events, ids: pa.Array, end: int) -> pa.Table:
    who, stage, at, reason = events.arrays()
    keep = at < end  # the export is taken at the end of the window
    who, stage, at, reason = who[keep], stage[keep], at[keep], reason[keep]
    return pa.table({
        "contact_id": ids.take(pa.array(who)),
        "stage": _labels(stage, STAGE_VALUES),
        "occurred_at": _ts(at),
        "reason": _labels(reason, REASONS),
    })


def _activities_table(acts: _Events, ids: pa.Array, end: int, first: int) -> pa.Table:
    who, kind, at, _ = acts.arrays()
    keep = at < end
    who, kind, at = who[keep], kind[keep], at[keep]
    team = (kind >= 3).astype(np.int8)  # email_click and webinar_attended are marketing's
    return pa.table({
        "activity_id": _ids(f"A{first:07d}-", np.arange(len(who))),
        "contact_id": ids.take(pa.array(who)),
        "occurred_at": _ts(at),
        "team": _labels(team, ["sales", "marketing"]),
        "type": _labels(kind, ACTIVITY_TYPES),
    })


def _deals_table(who, ids, created, closed, status, amount, end: int, first: int) -> pa.Table:
    keep = created < end
    who, created, closed, status, amount = (who[keep], created[keep], closed[keep], status[keep],
                                            amount[keep])
    closed_text = _ts(closed)
    return pa.table({
        "deal_id": _ids("D", first + who),
        "contact_id": ids.take(pa.array(who)),
        "created_at": _ts(created),
        "closed_at": pc.if_else(pa.array(status > 0), closed_text, pa.nulls(len(who), pa.string())),
        "status": _labels(status, ["open", "won", "lost"]),
        "amount": pa.array(amount, pa.float64()),
        "currency": pa.array(["USD"] * len(who), pa.string()),
    })


def web_sessions(leads_per_day: np.ndarray, cal: Calendar, funnel: Funnel, drift: np.ndarray,
                 seed: int) -> pa.Table:
    """Sessions per local day and channel, so that visit->lead lands near the agreed rate."""
    rng = np.random.default_rng([seed, 2_000_003])
    per_day = leads_per_day / funnel.visit_to_lead / drift[cal.day_month, 6]
    noise = np.exp(0.08 * rng.standard_normal((cal.n_days, len(CHANNELS[0]))))
    sessions = np.rint(per_day[:, None] * CHANNELS[1][None, :] * noise).astype(np.int64)
    days = np.arange(cal.n_days) + cal.first_day.toordinal()
    dates = [date.fromordinal(int(d)).isoformat() for d in days]
    return pa.table({
        "date": pa.array(np.repeat(dates, len(CHANNELS[0])), pa.string()),
        "channel": pa.array(CHANNELS[0] * cal.n_days, pa.string()),
        "sessions": pa.array(sessions.ravel(), pa.int64()),
    })
