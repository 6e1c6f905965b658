"""The agreement file format, `apiVersion: funnelpact/v1`, as strict pydantic models.

This is the API model: what a RevOps analyst writes. Checks that need more than one
field (adjacent conversion pairs, months inside the window, overlapping revisions) live
in `validate.py`; the planner works on these models through `Agreement` helpers.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from pipelines.agreement.currencies import CURRENCIES, WITHDRAWN
from pipelines.agreement.months import MONTH_PATTERN, is_time_zone, month_range

API_VERSION = "funnelpact/v1"
KIND = "Agreement"

Team = Literal["marketing", "sales", "shared"]
Severity = Literal["warn", "fail"]
Month = Annotated[str, StringConstraints(pattern=MONTH_PATTERN)]
# Stage ids become SQL literals and column-like names downstream: keep them boring.
StageId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
# Something to match: a blank value (" ") maps onto the stage no event the loader keeps.
CrmValue = Annotated[str, StringConstraints(pattern=r"\S")]
# The agreement name and the revision label become folders of the compiled suites
# (expectations/gx/expectations/<name>/<revision>/): no '/', '\\' or leading dot, so no path
# leaves that folder; and no '.', because GX's file store turns each dot of a suite name
# (acme.2026-h1.volume) into a folder, so a dot in either would make two revisions share one.
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
REVISION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"


def _text_or_whole_number(pattern: str) -> WithJsonSchema:
    # YAML reads `revision: 2026` as a number, which the model reads as the text "2026": the
    # schema says so, or editors flag files that validate. (A number with a sign or a dot
    # never matches the pattern.)
    return WithJsonSchema({"anyOf": [{"type": "string", "pattern": pattern}, {"type": "integer", "minimum": 0}]})


Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN), _text_or_whole_number(NAME_PATTERN)]
Revision = Annotated[str, StringConstraints(pattern=REVISION_PATTERN), _text_or_whole_number(REVISION_PATTERN)]
EnvVarName = Annotated[str, StringConstraints(pattern=r"^[A-Z_][A-Z0-9_]*$")]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


def _iso_currency(value: str) -> str:
    # Three capitals are not enough: `USX`, a slip of USD, was carried into every report.
    if value not in CURRENCIES and value not in WITHDRAWN:
        raise PydanticCustomError("unknown_currency", "not an ISO 4217 currency code")
    return value


Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), AfterValidator(_iso_currency)]


def _a_number(value: object) -> object:
    # YAML 1.1 reads yes/no/on/off/true/false as booleans, and pydantic takes a boolean as
    # the whole number 1 or 0: `window_days: yes` was a one-day window.
    if isinstance(value, bool):
        raise PydanticCustomError("bool_for_number", "expected a number, got a boolean")
    # pydantic reads the text "0.30" as a number too, where the JSON Schema editors check
    # against says number: a file both accept means the same to both. Other text ("30%",
    # "0,35") goes on to the parse errors, which know what it was meant to be. An exponent
    # (1e-3) is a number to YAML 1.2 and editors, text only to YAML 1.1: read as a number.
    if isinstance(value, str) and not any(c in value for c in "eE"):
        try:
            quoted = Decimal(value.strip()).is_finite()
        except InvalidOperation:
            quoted = False
        if quoted:
            raise PydanticCustomError("quoted_number", "expected a number, got text")
    return value


# Last in an Annotated, after the bounds: before them, pydantic cannot carry the bounds into
# the JSON Schema (it wrote "gt"/"le", which editors ignore).
Number = BeforeValidator(_a_number)

Share = Annotated[Decimal, Field(gt=0, le=1), Number]
Positive = Annotated[Decimal, Field(gt=0), Number]
# Money and volumes stay below 10^15: the warehouse and the suites' bounds hold them as
# doubles, exact up to 2^53 (about 9 x 10^15), and plans print them (a goal of 1e400, a deal
# size of 1e-300 or rates of 1e-200 validated and then crashed the plan or compile).
LIMIT = 10**15
# Money in the agreement's currency, from 1 to below LIMIT, so customers = goal / deal size
# stays below it too; validate.py holds every derived volume target below it.
Money = Annotated[Decimal, Field(ge=1, lt=LIMIT), Number]

# Lifecycle values with a fixed meaning (SPEC §2) that no stage may take: every revision
# and the loader read them alike.
RESERVED_STAGE_VALUES = ("recycled", "disqualified")


def stage_value(value: str) -> str:
    """A CRM lifecycle value as it is compared: without surrounding blanks, in Unicode's
    composed form (NFC), lower-cased (the loader stores lifecycle_events.stage so)."""
    # NFC: an export from macOS may write "é" as "e" + a combining accent, which looks the
    # same and compared unequal. Lower-cased one character at a time, as DuckDB's lower()
    # does: str.lower() turns a final "Σ" into "ς" and "İ" into "i" + a combining dot, and
    # events of "ΠΕΛΑΤΗΣ" matched no agreement that listed it.
    text = unicodedata.normalize("NFC", value.strip())
    return "".join("i" if c == "\u0130" else c.lower() for c in text)


def parse_pair(key: str) -> tuple[str, str] | None:
    match = re.fullmatch(r"\s*([a-z][a-z0-9_]*)\s*->\s*([a-z][a-z0-9_]*)\s*", key)
    return (match.group(1), match.group(2)) if match else None


def canonical_pair(key: str) -> str:
    """`lead -> mql` as `lead->mql`, the key every lookup uses; a key that is no pair stays
    as written, for validation to refuse."""
    pair = parse_pair(key)
    return f"{pair[0]}->{pair[1]}" if pair else key


# Two keys spelling one pair collapse into one here; validate.py refuses them from the file.
PairKey = Annotated[str, AfterValidator(canonical_pair)]


class Strict(BaseModel):
    # `revision: 2` or `name: 2026` is text to the analyst who wrote it; YAML reads a number.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True, coerce_numbers_to_str=True)


class Person(Strict):
    name: str = Field(description="Who owns the agreement for this team.")
    email: Email | None = Field(None, description="Where alerts and the review pack go.")


class Owners(Strict):
    marketing: Person = Field(description="The marketing owner.")
    sales: Person = Field(description="The sales owner.")


class Metadata(Strict):
    name: Name = Field(description="Agreement id; every revision of one agreement shares it.")
    revision: Revision = Field(description="Revision label, e.g. 2026-h1; unique within the agreement.")
    owners: Owners = Field(description="The marketing and sales owners.")
    description: str | None = Field(None, description="Free text shown in the report.")


class Effective(Strict):
    from_: Month = Field(alias="from", description="First month in force, YYYY-MM.")
    to: Month = Field(description="Last month in force, YYYY-MM (included).")


class Stage(Strict):
    id: StageId = Field(description="Stage id: lowercase ASCII letters (a-z), digits and _, starting with a letter.")
    label: str = Field(description="Human label shown in reports.")
    owner: Team = Field(description="Owning team: marketing, sales or shared.")
    crm_values: list[CrmValue] = Field(
        default_factory=list, description="CRM lifecycle values that map onto this stage."
    )
    definition: str | None = Field(None, description="The agreed criteria of the stage, as text.")


DEFAULT_STAGES = (
    Stage(id="visit", label="Visits", owner="marketing"),
    Stage(id="lead", label="Leads", owner="marketing"),
    Stage(id="mql", label="Marketing qualified leads", owner="shared"),
    Stage(id="sql", label="Sales qualified leads", owner="shared"),
    Stage(id="opportunity", label="Opportunities", owner="sales"),
    Stage(id="customer", label="Customers", owner="sales"),
)


class Conversion(Strict):
    rate: Share = Field(description="Agreed conversion rate, in (0, 1].")
    method: Literal["period", "cohort"] = Field(
        "period", description="period: volume ratio within a month; cohort: share converting within window_days."
    )
    window_days: Annotated[int, Field(gt=0, le=3660), Number] | None = Field(
        None, description="Cohort window in days, at most 3660 (method cohort only)."
    )
    owner: Team | None = Field(None, description="Owning team of this KPI (default: the owner of the from stage).")


class FirstTouch(Strict):
    within_hours: Annotated[Decimal, Field(gt=0, le=87840), Number] = Field(
        description="Sales touches a new MQL within this many hours (at most 87840, ten years).")
    attainment: Share = Field(description="Share of MQLs that must be touched in time.")


class Decision(Strict):
    within_days: Annotated[Decimal, Field(gt=0, le=3660), Number] = Field(
        description="Sales accepts (next stage) or rejects (recycled/disqualified) within this many days (at most 3660).")
    attainment: Share = Field(description="Share of MQLs that must be decided in time.")


class Handoff(Strict):
    first_touch: FirstTouch | None = Field(None, description="First-touch rule.")
    decision: Decision | None = Field(None, description="Accept-or-reject rule.")


class Recycling(Strict):
    max_rate: Share | None = Field(None, description="Highest acceptable recycle rate; without it the rate is only reported.")
    reasons: list[str] = Field(default_factory=list, description="Agreed recycle reasons, shown in the report.")


# A lead-value weight: the warehouse keeps weights, and sums them, as decimals with 6 places,
# so a weighted volume is exact (in floats 50 weights of 2.3 summed to 114.99999999999999,
# a breach of a target of 115).
# Below 10^6, so weight x weight x contacts fits the decimal sum.
Weight = Annotated[Decimal, Field(gt=0, lt=10**6, decimal_places=6), Number]


class LeadValue(Strict):
    seniority: dict[str, Weight] = Field(default_factory=dict, description="Weight by contact seniority (default 1; below 10^6, at most 6 decimal places).")
    persona: dict[str, Weight] = Field(default_factory=dict, description="Weight by contact persona (default 1; below 10^6, at most 6 decimal places).")


class KpiPolicy(Strict):
    tolerance: Annotated[Decimal, Field(ge=0, lt=1), Number] | None = Field(
        None, description="How far below target (share of the target) still counts as met."
    )
    severity: Severity | None = Field(None, description="warn: reported only; fail: fails the run.")
    at_risk_after_days: Annotated[int, Field(ge=0, le=28), Number] | None = Field(
        None, description="Announce an at_risk (a pace forecast) only once this many days of the month have "
        "elapsed; the scorecard shows it from the start. 0: at once. At most 28, so every month reaches it.")


class DataQuality(Strict):
    max_quarantine_rate: Annotated[Decimal, Field(ge=0, le=1), Number] = Field(
        Decimal("0.02"), description="Highest acceptable share of quarantined input rows."
    )


class Review(Strict):
    cadence: Literal["weekly", "monthly", "quarterly"] = Field("monthly", description="How often both teams review.")
    audience: list[str] = Field(default_factory=list, description="Who reads the review pack.")


class SlackAlert(Strict):
    channel: Literal["slack"]
    webhook_url_env: EnvVarName = Field(description="Environment variable holding the Slack incoming-webhook URL.")


class EmailAlert(Strict):
    channel: Literal["email"]
    to: Annotated[list[Email], Field(min_length=1)] = Field(description="Recipients.")
    smtp_url_env: EnvVarName = Field(
        description="Environment variable holding smtp://user:password@host:port (smtps:// for TLS)."
    )
    sender: Email | None = Field(None, description="From address (default funnelpact@<smtp host>).")


class WebhookAlert(Strict):
    channel: Literal["webhook"]
    url_env: EnvVarName = Field(description="Environment variable holding the URL that receives a JSON POST.")


class LogAlert(Strict):
    channel: Literal["log"]


Alert = Annotated[
    Union[SlackAlert, EmailAlert, WebhookAlert, LogAlert], Field(discriminator="channel")
]


class Spec(Strict):
    effective: Effective = Field(description="Whole calendar months in force.")
    timezone: str = Field(description="IANA timezone; months are calendar months in it.")
    # Listed in the JSON Schema too, so that an editor flags `USX` as `validate` does.
    currency: Currency = Field(description="ISO 4217 code.", json_schema_extra={"enum": sorted(CURRENCIES | WITHDRAWN.keys())})
    revenue_goal: Money = Field(description="Revenue goal for the whole window (1 to below 10^15).")
    average_deal_size: Money = Field(description="Average deal size; goal / deal size = customers needed.")
    seasonality: dict[Month, Positive] = Field(
        default_factory=dict, description="Monthly weights splitting the goal; months not named weigh 1."
    )
    stages: list[Stage] = Field(
        default_factory=lambda: list(DEFAULT_STAGES), description="Funnel stages, in order.", min_length=2
    )
    ignored_crm_values: list[CrmValue] = Field(
        default_factory=list,
        description="Lifecycle values that are no stage of this funnel (HubSpot's evangelist, other): their "
                    "events are loaded and count for no stage, instead of being quarantined as unknown_stage.",
    )
    conversion: dict[PairKey, Conversion] = Field(description="Agreed rate for every adjacent pair, keyed 'from->to'.")
    targets: dict[Month, dict[str, Annotated[int, Field(ge=0, lt=LIMIT), Number]]] = Field(
        default_factory=dict, description="Explicit monthly volumes that replace derived targets."
    )
    handoff: Handoff | None = Field(None, description="Hand-off rules from marketing to sales.")
    recycling: Recycling = Field(default_factory=Recycling, description="Recycled-lead policy.")
    lead_value: LeadValue = Field(default_factory=LeadValue, description="Lead-value weights.")
    kpis: dict[str, KpiPolicy] = Field(default_factory=dict, description="Tolerance and severity per KPI id, family or 'default'.")
    data_quality: DataQuality = Field(default_factory=DataQuality, description="Data-quality limits.")
    review: Review = Field(default_factory=Review, description="The review ritual.")
    alerts: list[Alert] = Field(default_factory=list, description="Where breaches are announced.")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        if not is_time_zone(value):
            raise ValueError(f"unknown timezone {value!r}: expected an IANA name like Europe/Berlin")
        return value


class Agreement(Strict):
    api_version: Literal["funnelpact/v1"] = Field(alias="apiVersion", description="Always funnelpact/v1.")
    kind: Literal["Agreement"] = Field(description="Always Agreement.")
    metadata: Metadata
    spec: Spec

    # Where it was loaded from; not part of the file format.
    source_file: str | None = Field(None, exclude=True, json_schema_extra={"hidden": True})

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def revision(self) -> str:
        return self.metadata.revision

    def months(self) -> list[str]:
        return month_range(self.spec.effective.from_, self.spec.effective.to)

    def stage_ids(self) -> list[str]:
        return [s.id for s in self.spec.stages]

    def stage(self, stage_id: str) -> Stage:
        return next(s for s in self.spec.stages if s.id == stage_id)

    def stage_values(self) -> dict[str, str]:
        """This revision's vocabulary: each lifecycle value (a stage id, or a `crm_values`
        entry, normalised by `stage_value`) -> the id of the stage it means here. Another
        revision may give a value another meaning, or none."""
        out = {stage.id: stage.id for stage in self.spec.stages}
        for stage in self.spec.stages:
            for value in stage.crm_values:
                out.setdefault(stage_value(value), stage.id)
        return out

    def ignored_values(self) -> frozenset[str]:
        """The lifecycle values this revision knows to be no stage of its funnel (normalised)."""
        return frozenset(stage_value(v) for v in self.spec.ignored_crm_values)

    def adjacent_pairs(self) -> list[tuple[str, str]]:
        ids = self.stage_ids()
        return list(zip(ids, ids[1:]))

    def conversion_for(self, from_stage: str, to_stage: str) -> Conversion:
        return self.spec.conversion[f"{from_stage}->{to_stage}"]

