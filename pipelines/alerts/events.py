"""What the alerts consume (a judged KPI) and what they announce (a status change, or a
failed run: `RunFailure`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from pipelines.agreement.kpis import STATUSES, is_share
from pipelines.agreement.months import naive_utc, spans
from pipelines.agreement import figure_text
from pipelines.agreement.plan import exact_value

Status = Literal["met", "breach", "provisional", "at_risk", "no_data"]
ALERTING = ("breach", "at_risk")


@dataclass(frozen=True)
class KpiStatus:
    """One judged KPI of one month: a row of `funnelpact run --format json` `results`."""

    agreement: str
    revision: str
    period: str  # YYYY-MM
    kpi: str  # e.g. volume:mql, conversion:lead->mql
    owner: str  # owning team: marketing, sales or shared
    target: float | None
    actual: float | None
    status: Status
    severity: str  # warn or fail
    # The instant it was judged as of (naive UTC); None when the row does not say.
    as_of: datetime | None = None
    # An open month's pace forecast (what at_risk is judged on), when there is one.
    forecast: float | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}: expected one of {', '.join(STATUSES)}")
        # Decimal targets from the planner would not survive json.dumps into the outbox.
        object.__setattr__(self, "target", _number(self.target))
        object.__setattr__(self, "actual", _number(self.actual))
        object.__setattr__(self, "forecast", _number(self.forecast))
        object.__setattr__(self, "as_of", instant(self.as_of))

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> KpiStatus:
        """Build from a results row; extra keys are ignored, numbers may be str/Decimal."""
        return cls(
            agreement=str(row["agreement"]),
            revision=str(row["revision"]),
            period=str(row["period"]),
            kpi=str(row["kpi"]),
            owner=str(row["owner"]),
            # Numbers and the as-of instant are normalised by __post_init__.
            target=row.get("target"),
            actual=row.get("actual"),
            status=row["status"],
            severity=str(row.get("severity") or "fail"),
            as_of=row.get("as_of"),
            forecast=row.get("forecast"),
        )

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.agreement, self.period, self.kpi)


@dataclass(frozen=True)
class Person:
    team: str
    name: str
    email: str | None = None

    def label(self) -> str:
        return f"{self.name} <{self.email}>" if self.email else self.name


@dataclass(frozen=True)
class AlertEvent:
    """A status change worth announcing. `kind` is breach, at_risk or recovered."""

    alert_id: str  # stable per change; sent as Idempotency-Key by the webhook channel
    kind: str
    agreement: str
    revision: str
    period: str
    kpi: str
    owner: str
    owners: tuple[Person, ...]
    target: float | None
    actual: float | None
    previous_status: str | None
    status: str
    severity: str
    currency: str | None = None
    detected_at: str = ""  # ISO 8601 UTC
    as_of: str = ""  # the instant the KPI was judged as of, ISO 8601 UTC ("" when unknown)
    forecast: float | None = None  # the pace forecast of an open month
    # The month's local days elapsed at as_of, and its length: what the forecast stands on
    # (at 06:00 on the 1st, a quarter of a day of mostly night-time figures).
    days_elapsed: float | None = None
    days_in_month: int | None = None
    # The KPI's name for people, as the review pack names it ("First touch within 4 h",
    # "Recycle rate (lower is better)"): `handoff:first_touch` means nothing to a sales lead,
    # and a recycle rate over its target breaches, which only "lower is better" explains.
    label: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def gap(self) -> float | None:
        exact = self._exact_gap()
        return None if exact is None else float(exact)

    def _exact_gap(self) -> Fraction | None:
        """actual - target between the figures the doubles stand for (their shortest
        decimals): in doubles, revenue of 100.005 against 100 was 0.0049999999999954525 and
        read USD 0.00."""
        if self.target is None or self.actual is None:
            return None
        return exact_value(self.actual) - exact_value(self.target)

    @property
    def gap_pct(self) -> float | None:
        gap = self.gap
        if gap is None or not self.target:
            return None
        return gap / self.target * 100

    @property
    def is_share(self) -> bool:
        return is_share(self.kpi)

    def what(self) -> str:
        """The kind as people say it: Breach, At risk, Recovered."""
        return {"breach": "Breach", "at_risk": "At risk", "recovered": "Recovered", "test": "Test alert"}.get(
            self.kind, self.kind
        )

    def title(self) -> str:
        return f"{self.what()}: {self.kpi} in {self.period} ({self.agreement} {self.revision})"

    def fmt_target(self) -> str:
        return self._fmt(self.target)

    def fmt_actual(self) -> str:
        return self._fmt(self.actual)

    def fmt_gap(self) -> str:
        gap = self._exact_gap()
        if gap is None:
            return "n/a"
        text = figure_text.gap_figure(self.kpi, gap, self._places(), self.currency)
        if not self.target:
            return text
        return f"{text} ({figure_text.points(gap / exact_value(self.target))}%)"

    def fmt_forecast(self) -> str:
        # The pace alone, with its kind's decimals, as the run's table and the pack show it.
        if self.forecast is None:
            return "n/a"
        text = f"{figure_text.kpi_figure(self.kpi, self.forecast, currency=self.currency)} at the month's pace"
        if self.days_elapsed is None or self.days_in_month is None:
            return text
        return f"{text} ({round(self.days_elapsed, 2):g} of {self.days_in_month} days elapsed)"

    def owner_label(self) -> str:
        people = ", ".join(p.label() for p in self.owners)
        return f"{self.owner} ({people})" if people else self.owner

    def facts(self) -> list[tuple[str, str]]:
        """The labelled lines every channel shows, in order."""
        return [
            ("KPI", self.kpi),
            *([("Measure", self.label)] if self.label and self.label != self.kpi else []),
            ("Month", self.period),
            ("Target", self.fmt_target()),
            ("Actual", self.fmt_actual()),
            *([("Forecast", self.fmt_forecast())] if self.forecast is not None else []),
            ("Gap", self.fmt_gap()),
            ("Owner", self.owner_label()),
            ("Severity", self.severity),
            ("Status", f"{self.previous_status or 'new'} -> {self.status}"),
            ("Agreement", f"{self.agreement}, revision {self.revision}"),
            *([("As of", readable(self.as_of))] if self.as_of else []),
        ]

    def text(self) -> str:
        return self.title() + "\n" + "\n".join(f"{k}: {v}" for k, v in self.facts())

    def to_dict(self) -> dict[str, Any]:
        """Every field, raw and formatted: the generic webhook's JSON body."""
        data = asdict(self)
        data["owners"] = [asdict(p) for p in self.owners]
        data.pop("extra")
        data.update(
            gap=self.gap,
            gap_pct=self.gap_pct,
            title=self.title(),
            text=self.text(),
            formatted={"target": self.fmt_target(), "actual": self.fmt_actual(), "gap": self.fmt_gap()},
            **self.extra,
        )
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AlertEvent:
        names = {f for f in cls.__dataclass_fields__}
        kwargs = {k: v for k, v in data.items() if k in names}
        kwargs["owners"] = tuple(Person(**p) for p in data.get("owners", ()))
        return cls(**kwargs)

    def _fmt(self, value: float | None) -> str:
        return "n/a" if value is None else figure_text.kpi_figure(self.kpi, value, self._places(), self.currency)

    def _places(self) -> int:
        """The target's, actual's and gap's decimals: "Target 90.0%, Actual 90.0%, Gap -0.0 pp"
        was a breach, and "Target 100, Actual 91, Gap -10" did not add up."""
        return figure_text.gap_places(self.kpi, self.target, self.actual)


RUN_FAILURE = "run_failure"


# How a failed run's error begins when the sensor could not read its failure (a bug in it):
# the step is not known either, and the message says so rather than "outside its steps".
UNREAD = "the failure could not be read: "


# A run of `funnelpact run` that failed outside its steps (Dagster's home on a full disk) raised
# past the job without the run's id: its message says so where the id would be.
OUTSIDE_STEPS = "it failed outside its steps"
NO_RUN_ID = f"not known: {OUTSIDE_STEPS}"


def run_named(run_id: str, job: str) -> str:
    """A failed run as a sentence names it: by its id, or for want of one by its job."""
    return f"run {run_id}" if run_id else f"a run of {job} (no run id: {OUTSIDE_STEPS})"


@dataclass(frozen=True)
class RunFailure:
    """A run of the job that failed: the months it was to judge were not judged, and their
    alerts wait for the next run that succeeds. Told once to the channels of the revisions
    in force in those months, by the failure sensor (pipelines/defs/sensors.py) or the CLI
    command that ran it (pipelines/defs/execute.py, tell_failure; docs/alerts.md, *When a run
    fails*).
    The channels read what they read of an `AlertEvent`: `alert_id`, `kind`, `detected_at`,
    `title()`, `text()`, `facts()`, `to_dict()`."""

    run_id: str  # "" for a CLI run that failed outside its steps, whose id the command never got
    job: str
    step: str | None  # the first step that failed; None outside its steps, or when not known (unread)
    error: str  # the first line of that failure's error
    months: tuple[str, ...]  # the months it was to judge; () when the run does not say
    revisions: tuple[tuple[str, str], ...]  # (agreement, revision) whose channels are told
    detected_at: str = ""  # ISO 8601 UTC
    as_of: str = ""  # the instant the run was to judge as of, ISO 8601 UTC ("" when its tags do not say)
    kind: str = RUN_FAILURE

    @property
    def alert_id(self) -> str:
        # Without a run id, the job and the instant: a receiver that drops a repeated
        # Idempotency-Key must not take the next such failure for this one.
        return f"{RUN_FAILURE}/{self.run_id or f'{self.job}/{self.detected_at}'}"

    def what(self) -> str:
        return "Run failed"

    def named(self) -> str:
        """The run as the lines about its telling name it."""
        return run_named(self.run_id, self.job)

    def title(self) -> str:
        months = spans(list(self.months)) if self.months else "its months"
        step = self.step or ("an unknown step" if self.unread else "no step")
        run = f"run {self.run_id[:8]}" if self.run_id else "no run id"
        return f"{self.what()} in {step}: {months} not judged ({run})"

    @property
    def unread(self) -> bool:
        return self.step is None and self.error.startswith(UNREAD)

    def facts(self) -> list[tuple[str, str]]:
        """The labelled lines every channel shows, in order."""
        return [
            ("Run", self.run_id or NO_RUN_ID),
            ("Job", self.job),
            ("Step", self.step or ("not known: the failure could not be read" if self.unread
                                   else "none: the run failed outside its steps")),
            ("Error", self.error),
            ("Months", spans(list(self.months)) if self.months else "not known: the run named none"),
            ("Not judged", "the KPIs of these months; their alerts come with the next run that succeeds"),
            ("Agreement", ", ".join(f"{a} {r}" for a, r in self.revisions) or "none in force"),
            *([("As of", readable(self.as_of))] if self.as_of else []),
        ]

    def text(self) -> str:
        return self.title() + "\n" + "\n".join(f"{k}: {v}" for k, v in self.facts())

    def to_dict(self) -> dict[str, Any]:
        """The webhook's JSON body: the names of a KPI alert's where they mean the same."""
        data = asdict(self)
        data.pop("revisions")
        data.update(alert_id=self.alert_id, run_id=self.run_id or None, months=list(self.months),
                    agreements=[{"agreement": a, "revision": r} for a, r in self.revisions],
                    title=self.title(), text=self.text())
        return data


# What a channel delivers: a KPI's status change, or a failed run.
Notice = AlertEvent | RunFailure


def readable(iso_utc: str) -> str:
    """An ISO 8601 UTC instant as people read it: 2026-04-01 06:00:00 UTC."""
    return f"{datetime.fromisoformat(iso_utc):%Y-%m-%d %H:%M:%S} UTC"


def instant(value: Any) -> datetime | None:
    """An as-of instant (datetime or ISO text) as naive UTC; None when there is none."""
    return None if value is None or value == "" else naive_utc(value if isinstance(value, datetime) else str(value))


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    number = float(Decimal(str(value))) if not isinstance(value, (int, float)) else float(value)
    return None if math.isnan(number) else number
