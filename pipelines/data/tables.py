"""The five canonical CRM tables (SPEC §2), declared once.

The loader, the importers, `docs/data.md` and the dbt sources are all derived from `TABLES`,
so a column is added here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    """One column: its warehouse type (DuckDB SQL) and the rules a value must keep."""

    name: str
    type: str
    required: bool = False
    description: str = ""
    allowed: tuple[str, ...] = ()
    non_negative: bool = False
    # The value is a lifecycle value: known to some revision (else quarantined), which each
    # revision maps onto its own stage ids.
    is_stage: bool = False
    # The value must be a contact_id that `contacts` holds (when set).
    references_contact: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    # Absent optional tables are loaded empty; their KPIs become `no_data`.
    optional: bool = False
    unique_key: str | None = None
    grain: str = ""
    _index: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {c.name: c for c in self.columns})

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return self._index[name]


def _col(name: str, type_: str, description: str, **kw) -> Column:
    return Column(name=name, type=type_, description=description, **kw)


# Money keeps 6 decimal places: every ISO 4217 minor unit (2 for most currencies, 3 for KWD
# and BHD, 4 for CLF) with room to spare, summed as exact decimals; a 7th place is rounded.
# 20 digits before the point (a larger amount is a bad number), so that staging's
# decimal(38,6) sums a trillion of them without overflowing.
TEXT, TS, DATE, MONEY, INT = "varchar", "timestamp", "date", "decimal(26,6)", "bigint"

CONTACTS = Table(
    name="contacts",
    description="Every person in the CRM, one row each.",
    grain="one row per contact",
    unique_key="contact_id",
    columns=(
        _col("contact_id", TEXT, "The CRM's id of the contact.", required=True),
        _col("created_at", TS, "When the contact was created in the CRM (UTC).", required=True),
        _col("source", TEXT, "Original source or channel, e.g. organic, paid_search, webinar."),
        _col("persona", TEXT, "Buyer persona, a lead-value dimension."),
        _col("seniority", TEXT, "Seniority such as c_level, vp, director; a lead-value dimension."),
        _col("country", TEXT, "Country or region, as the CRM holds it."),
    ),
)

LIFECYCLE_EVENTS = Table(
    name="lifecycle_events",
    description="Each time a contact entered a funnel stage or was recycled or disqualified.",
    grain="one row per stage change",
    columns=(
        _col("contact_id", TEXT, "The contact that changed stage.", required=True,
             references_contact=True),
        _col("stage", TEXT, "The lifecycle value, stored trimmed and lower-cased: a stage id or CRM "
             "value, which each revision maps onto its own stages, or recycled / disqualified.",
             required=True, is_stage=True),
        _col("occurred_at", TS, "When the contact entered the stage (UTC).", required=True),
        _col("reason", TEXT, "Why, for recycled and disqualified rows (free text)."),
    ),
)

ACTIVITIES = Table(
    name="activities",
    description="Touches of a contact by sales or marketing (calls, e-mails, meetings).",
    grain="one row per activity",
    optional=True,
    unique_key="activity_id",
    columns=(
        _col("activity_id", TEXT, "The CRM's id of the activity.", required=True),
        _col("contact_id", TEXT, "The contact touched.", required=True, references_contact=True),
        _col("occurred_at", TS, "When the touch happened (UTC).", required=True),
        _col("team", TEXT, "Who touched: sales or marketing.", required=True,
             allowed=("sales", "marketing")),
        _col("type", TEXT, "Kind of touch, e.g. call, email, meeting."),
    ),
)

DEALS = Table(
    name="deals",
    description="Deals (opportunities) with their outcome and amount.",
    grain="one row per deal",
    optional=True,
    unique_key="deal_id",
    columns=(
        _col("deal_id", TEXT, "The CRM's id of the deal.", required=True),
        # Not checked against contacts (SPEC §2 quarantines only events and activities of
        # unknown contacts): a won deal is revenue whatever its contact.
        _col("contact_id", TEXT, "The contact the deal came from, when known; kept as given, "
             "also when contacts does not hold it."),
        _col("created_at", TS, "When the deal was created (UTC).", required=True),
        # Optional (SPEC §2): a won deal without it is loaded and counts in no month's revenue.
        _col("closed_at", TS, "When the deal was won or lost (UTC); empty while open. A won deal "
             "without it counts in no month's revenue."),
        _col("status", TEXT, "open, won or lost.", required=True,
             allowed=("open", "won", "lost")),
        _col("amount", MONEY, "Deal value in its currency, at least 0; kept to 6 decimal places "
             "(a 7th is rounded).", required=True,
             non_negative=True),
        _col("currency", TEXT, "ISO 4217 currency code of amount."),
    ),
)

WEB_SESSIONS = Table(
    name="web_sessions",
    description="Website sessions per local calendar day (and channel): the visit stage.",
    grain="one row per date and channel",
    optional=True,
    columns=(
        _col("date", DATE, "The local calendar date of the sessions.", required=True),
        _col("channel", TEXT, "Traffic channel, e.g. organic, paid, social."),
        _col("sessions", INT, "Number of sessions, an integer of at least 0.", required=True,
             non_negative=True),
    ),
)

# Load order matters: contacts first, the others are checked against it.
TABLES: dict[str, Table] = {
    t.name: t for t in (CONTACTS, LIFECYCLE_EVENTS, ACTIVITIES, DEALS, WEB_SESSIONS)
}
