"""Slack and e-mail take the alerts of one dispatch as one message (a digest); the webhook
and the log keep one per alert. Real loopback servers, real outbox."""

from __future__ import annotations

import html
import json
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipelines.alerts import dispatch
from pipelines.alerts.channels.slack import DIGEST_SIZE, SECTION_LIMIT, digest_payload, slack_payload
from pipelines.alerts.deliver import make_event
from pipelines.alerts.state import AlertStore

from .loopback import EMAIL, FAST, LOG, SLACK, WEBHOOK, HttpRecorder, SmtpRecorder, agreement, free_port, kpi

STAGES = ("visit", "lead", "mql", "sql", "opportunity", "customer")
MONTHS = ("2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06")


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / ".funnelpact" / "alerts.sqlite"


def breaches(n: int) -> list:
    """n breaches of distinct KPI-months, each with its own target and actual."""
    pairs = [(month, stage) for month in MONTHS for stage in STAGES][:n]
    return [kpi("breach", 100 + i, kpi=f"volume:{stage}", period=month, target=1000 + i)
            for i, (month, stage) in enumerate(pairs)]


def listed(payload: dict) -> list[tuple[str, str, str, str]]:
    """(month, kpi, target, actual) of each alert a Slack digest lists, from its blocks."""
    out, month = [], None
    for block in payload["blocks"]:
        text = block.get("text", {}).get("text", "") if block["type"] == "section" else \
            block.get("elements", [{}])[0].get("text", "")
        if block["type"] == "context" and (heading := re.search(r"· (\d{4}-\d{2}) ·", text)):
            month = heading.group(1)
        elif block["type"] == "section":
            kpi_id = re.search(r"`([^`]+)`", text).group(1)
            target = re.search(r"\*Target\* ([^ ]+)", text).group(1)
            actual = re.search(r"\*Actual\* ([^ ]+)", text).group(1)
            out.append((month, html.unescape(kpi_id), target, actual))
    return out


def expected(results: list) -> set[tuple[str, str, str, str]]:
    return {(r.period, r.kpi, f"{r.target:,.0f}", f"{r.actual:,.0f}") for r in results}


def test_five_alerts_reach_slack_as_one_message_listing_each(state: Path, http: HttpRecorder) -> None:
    results = breaches(5)
    report = dispatch(results, [agreement([SLACK])], state, {"TEST_SLACK_WEBHOOK": http.url()}, retry=FAST)

    [post] = http.posts
    payload = post.json()
    assert sorted(listed(payload)) == sorted(expected(results))
    assert payload["blocks"][0]["text"]["text"] == "funnelpact: 5 alerts (5 breaches) — acme 2026-h1"
    # The notification names each alert too.
    assert payload["text"].splitlines()[1:] == [html.escape(a.title(), quote=False) for a in report.alerts]
    channel = report.channels["slack:TEST_SLACK_WEBHOOK"]
    assert (channel.sent, channel.messages, channel.failed, channel.pending) == (5, 1, 0, 0)
    assert "slack:TEST_SLACK_WEBHOOK: 5 sent in 1 message," in report.summary()
    with AlertStore.open(state) as store:
        assert [(r["state"], r["attempts"]) for r in store.outbox()] == [("sent", 1)] * 5


def test_one_alert_is_today_s_single_message(state: Path, http: HttpRecorder) -> None:
    report = dispatch(breaches(1), [agreement([SLACK])], state, {"TEST_SLACK_WEBHOOK": http.url()}, retry=FAST)
    [post] = http.posts
    assert post.json() == slack_payload(report.alerts[0])


def test_more_alerts_than_a_message_holds_go_in_several_covering_each_once(state: Path, http: HttpRecorder) -> None:
    results = breaches(2 * DIGEST_SIZE + 3)
    report = dispatch(results, [agreement([SLACK])], state, {"TEST_SLACK_WEBHOOK": http.url()}, retry=FAST)

    payloads = [post.json() for post in http.posts]
    assert [len(listed(p)) for p in payloads] == [DIGEST_SIZE, DIGEST_SIZE, 3]
    every = [alert for p in payloads for alert in listed(p)]
    assert len(every) == len(set(every)) and set(every) == expected(results)
    # In digest order: the months run on from one message to the next.
    assert [alert[0] for alert in every] == sorted(alert[0] for alert in every)
    for payload in payloads:
        assert len(payload["blocks"]) <= 50
    assert (report.sent, report.channels["slack:TEST_SLACK_WEBHOOK"].messages) == (len(results), 3)
    # Each says it is one of three: they belong together.
    assert [p["blocks"][0]["text"]["text"] for p in payloads] == [
        f"funnelpact: {n} alerts ({i} of 3) ({n} breaches) — acme 2026-h1" for i, n in ((1, 10), (2, 10), (3, 3))]


def test_a_slack_500_then_success_delivers_every_alert_once(state: Path, http: HttpRecorder) -> None:
    http.status = 500

    def sleep(seconds: float) -> None:  # Slack is back after the first wait
        http.status = 200

    results = breaches(5)
    report = dispatch(results, [agreement([SLACK])], state, {"TEST_SLACK_WEBHOOK": http.url()}, retry=FAST,
                      sleep=sleep)
    assert len(http.posts) == 2 and http.posts[0].body == http.posts[1].body
    assert (report.sent, report.failed, report.pending, report.failures) == (5, 0, 0, [])
    with AlertStore.open(state) as store:
        # Two tries of one message: each alert's attempts count the message's, not one per alert.
        assert [(r["state"], r["attempts"]) for r in store.outbox()] == [("sent", 2)] * 5
    assert dispatch([], [agreement([SLACK])], state, {"TEST_SLACK_WEBHOOK": http.url()}, retry=FAST).sent == 0
    assert len(http.posts) == 2


def test_a_dead_slack_keeps_every_alert_with_the_reason_and_the_next_run_sends_one_digest(state: Path) -> None:
    port = free_port()
    env = {"TEST_SLACK_WEBHOOK": f"http://127.0.0.1:{port}/slack"}
    results = breaches(5)
    delays: list[float] = []
    down = dispatch(results, [agreement([SLACK])], state, env, retry=FAST, sleep=delays.append)

    assert delays == [0.01, 0.02]  # one message's retries, not five alerts' each
    assert (down.sent, down.failed, down.pending) == (0, 5, 5)
    assert sorted(f.alert_id for f in down.failures) == sorted(a.alert_id for a in down.alerts)
    with AlertStore.open(state) as store:
        rows = store.outbox()
    assert [(r["state"], r["attempts"]) for r in rows] == [("pending", 3)] * 5
    assert all(r["last_error"].startswith(f"cannot reach http://127.0.0.1:{port}") for r in rows)

    http = HttpRecorder(port)
    try:
        up = dispatch(results, [agreement([SLACK])], state, env, retry=FAST)
    finally:
        http.stop()
    [post] = http.posts
    assert sorted(listed(post.json())) == sorted(expected(results))
    assert (up.alerts, up.sent, up.pending) == ([], 5, 0)


def test_a_refused_digest_leaves_the_channel_s_other_messages_untried(state: Path, http: HttpRecorder) -> None:
    http.status = 404  # a revoked webhook: not retried, and the next message would meet the same
    report = dispatch(breaches(DIGEST_SIZE + 2), [agreement([SLACK])], state, {"TEST_SLACK_WEBHOOK": http.url()},
                      retry=FAST)
    assert len(http.posts) == 1
    assert (report.failed, report.pending) == (DIGEST_SIZE, DIGEST_SIZE + 2)
    with AlertStore.open(state) as store:
        reasons = [r["last_error"] for r in store.outbox()]
    assert sum(r.startswith("HTTP 404 from") for r in reasons) == DIGEST_SIZE
    assert sum(r.startswith("not attempted: the channel failed earlier in this run (HTTP 404") for r in reasons) == 2


def test_a_digest_holds_only_the_alerts_no_concurrent_run_has_claimed(state: Path, http: HttpRecorder) -> None:
    env = {"TEST_SLACK_WEBHOOK": f"http://127.0.0.1:{free_port()}/slack"}
    now = datetime(2026, 3, 10, 6, tzinfo=UTC)
    dispatch(breaches(3), [agreement([SLACK])], state, env, retry=FAST, now=now)  # Slack down: 3 kept
    with AlertStore.open(state) as other:
        assert len(other.claim(now, timedelta(minutes=15))) == 3  # another run is sending them
    fresh = [kpi("breach", 5, kpi="volume:lead", period="2026-06", target=9),
             kpi("breach", 6, kpi="volume:sql", period="2026-06", target=9)]
    report = dispatch(fresh, [agreement([SLACK])], state, {"TEST_SLACK_WEBHOOK": http.url()}, retry=FAST, now=now)
    [post] = http.posts
    assert sorted(listed(post.json())) == sorted(expected(fresh))
    assert (report.sent, report.pending) == (2, 3)


def test_e_mail_sends_one_message_to_every_recipient_with_the_count_in_its_subject(
        state: Path, smtp: SmtpRecorder) -> None:
    channel = {**EMAIL, "to": ["revops@acme.example", "sales-ops@acme.example"]}
    # Raised in this order; read by month, then owning team.
    results = [kpi("breach", 10, kpi="volume:mql", period="2026-04", owner="marketing"),
               kpi("breach", 11, kpi="volume:sql", period="2026-03", owner="sales"),
               kpi("at_risk", 12, kpi="volume:lead", period="2026-03", owner="marketing", forecast=130)]
    report = dispatch(results, [agreement([channel])], state, {"TEST_SMTP_URL": smtp.url()}, retry=FAST)

    [mail] = smtp.mails
    assert sorted(mail.recipients) == ["revops@acme.example", "sales-ops@acme.example"]
    assert mail.message["Subject"] == "[funnelpact] 3 alerts (2 breaches, 1 at risk) — acme 2026-h1"
    assert mail.message["Auto-Submitted"] == "auto-generated"
    plain = mail.part("plain").replace("\r\n", "\n")
    for alert in report.alerts:  # each as its own e-mail says it
        assert alert.text() in plain, alert.title()
    titles = [line for line in plain.splitlines() if line.startswith(("Breach:", "At risk:"))]
    assert titles == ["At risk: volume:lead in 2026-03 (acme 2026-h1)", "Breach: volume:sql in 2026-03 (acme 2026-h1)",
                      "Breach: volume:mql in 2026-04 (acme 2026-h1)"]
    assert "acme 2026-h1 · 2026-03 · 2 alerts\n=" in plain
    rich = mail.part("html")
    assert "<h3>acme 2026-h1 · 2026-04 · 1 alert</h3>" in rich
    assert "<td>marketing (Marta Ruiz &lt;marta@acme.example&gt;)</td>" in rich  # escaped as in a single e-mail
    assert (report.sent, report.channels[f"email:TEST_SMTP_URL:{','.join(sorted(channel['to']))}"].messages) == (3, 1)


def test_the_webhook_and_the_log_keep_one_per_alert(state: Path, http: HttpRecorder,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pipelines.alerts")
    results = breaches(3)
    report = dispatch(results, [agreement([WEBHOOK, LOG])], state, {"TEST_ALERT_WEBHOOK": http.url()}, retry=FAST)

    assert [p.json()["kpi"] for p in http.posts] == [r.kpi for r in results]
    assert [p.headers["Idempotency-Key"] for p in http.posts] == [a.alert_id for a in report.alerts]
    assert len([r for r in caplog.records if r.getMessage().startswith("funnelpact alert breach:")]) == 3
    assert report.channels["webhook:TEST_ALERT_WEBHOOK"].messages == 3


def test_a_digest_of_alerts_with_very_long_names_stays_within_slack_s_limits() -> None:
    data = agreement([]).model_dump(by_alias=True)
    data["metadata"]["owners"]["marketing"]["name"] = "M" * 5000
    from pipelines.agreement.model import Agreement

    acme = Agreement.model_validate(data)
    now = datetime(2026, 3, 10, tzinfo=UTC)
    events = [make_event(r, "breach", None, acme, now) for r in breaches(DIGEST_SIZE)]
    payload = digest_payload(events)
    sections = [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section"]
    assert len(sections) == DIGEST_SIZE and all(len(text) <= SECTION_LIMIT for text in sections)
    assert len(payload["blocks"]) <= 50 and len(payload["blocks"][0]["text"]["text"]) <= 150
    assert len(json.dumps(payload, ensure_ascii=False)) <= 40_000


def test_the_docs_state_the_digest_s_limit() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "alerts.md").read_text(encoding="utf-8")
    assert f"a digest holds **at most {DIGEST_SIZE} alerts**" in doc


def test_a_digest_whose_second_message_fails_keeps_the_first_s_alerts_sent(state: Path, http: HttpRecorder) -> None:
    """Slack takes the first of two messages, then fails: its alerts are sent, never again;
    only the second message's are kept, and the next run sends those alone."""

    class FromTheSecondPost(list):  # the receiver answers 503 from its second request on
        def append(self, post) -> None:
            super().append(post)
            http.status = 200 if len(self) == 1 else 503

    http.posts = FromTheSecondPost()
    results = breaches(DIGEST_SIZE + 3)
    first = dispatch(results, [agreement([SLACK])], state, {"TEST_SLACK_WEBHOOK": http.url()}, retry=FAST,
                     sleep=lambda seconds: None)
    delivered = listed(http.posts[0].json())
    assert len(delivered) == DIGEST_SIZE and len(http.posts) == 1 + FAST.attempts
    channel = first.channels["slack:TEST_SLACK_WEBHOOK"]
    assert (channel.sent, channel.messages, channel.failed, channel.pending) == (DIGEST_SIZE, 1, 3, 3)

    http.posts, http.status = [], 200
    again = dispatch(results, [agreement([SLACK])], state, {"TEST_SLACK_WEBHOOK": http.url()}, retry=FAST)
    [post] = http.posts
    assert set(listed(post.json())) == expected(results) - set(delivered)
    assert (again.sent, again.pending) == (3, 0)
    with AlertStore.open(state) as store:
        assert [r["state"] for r in store.outbox()] == ["sent"] * (DIGEST_SIZE + 3)


def test_e_mail_alerts_of_revisions_with_their_own_sender_keep_their_from(state: Path, smtp: SmtpRecorder) -> None:
    """Two revisions mail the same recipients through the same server, each From its own
    address (`sender`, which the channel's key leaves out): a digest From the first's carried
    the second's alerts under the wrong From."""
    h1 = agreement([{**EMAIL, "sender": "sla-h1@acme.example"}])
    h2 = agreement([{**EMAIL, "sender": "sla-h2@acme.example"}], revision="2026-h2", months=("2026-07", "2026-12"))
    results = [kpi("breach", 10, kpi="volume:mql", period="2026-03"),
               kpi("breach", 11, kpi="volume:sql", period="2026-03"),
               kpi("breach", 12, kpi="volume:mql", period="2026-08", revision="2026-h2")]
    report = dispatch(results, [h1, h2], state, {"TEST_SMTP_URL": smtp.url()}, retry=FAST)

    sent = {mail.sender: mail.message["Subject"] for mail in smtp.mails}
    assert sent == {"sla-h1@acme.example": "[funnelpact] 2 alerts (2 breaches) — acme 2026-h1",
                    "sla-h2@acme.example": "[funnelpact] Breach: volume:mql in 2026-08 (acme 2026-h2)"}
    assert report.sent == 3 and report.channels["email:TEST_SMTP_URL:revops@acme.example"].messages == 2


def test_a_digest_says_the_as_of_instant_once_when_its_alerts_share_it() -> None:
    """Every alert of a run is judged as of one instant: each section repeated it."""
    now = datetime(2026, 4, 2, 6, 0, tzinfo=UTC)

    def events(*instants: datetime) -> list:
        return [make_event(kpi("breach", kpi=f"volume:{stage}", as_of=at.replace(tzinfo=None)), "breach", None,
                           agreement([SLACK]), now) for stage, at in zip(STAGES, instants)]

    def texts(payload: dict) -> tuple[list[str], list[str]]:
        return ([b["elements"][0]["text"] for b in payload["blocks"] if b["type"] == "context"],
                [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section"])

    context, sections = texts(digest_payload(events(now, now, now)))
    assert context[0] == "detected 2026-04-02 06:00:00 UTC · as of 2026-04-02 06:00:00 UTC", context
    assert len(sections) == 3 and not [s for s in sections if "*As of*" in s], sections
    # An alert retried from an earlier run's outbox was judged as of another instant: each says its own.
    context, sections = texts(digest_payload(events(now, now - timedelta(days=1))))
    assert "as of" not in context[0], context
    assert [re.search(r"\*As of\* ([^·]+)$", s).group(1) for s in sections] == [
        "2026-04-02 06:00:00 UTC", "2026-04-01 06:00:00 UTC"], sections


def test_the_docs_slack_digest_example_is_what_slack_shows_for_those_alerts() -> None:
    """docs/alerts.md's digest of acme 2026-h1 named its measures by the default stage labels
    ("Marketing qualified leads") and cut the owners' addresses to `<…>`: not what acme's is."""
    from pipelines.agreement import load_agreements
    from pipelines.alerts.channels.slack import ICONS
    from pipelines.alerts.events import KpiStatus

    root = Path(__file__).resolve().parents[2]
    doc = (root / "docs" / "alerts.md").read_text(encoding="utf-8")
    example = doc.split("each alert's title. The message, as Slack shows it:\n\n```\n", 1)[1]
    example = example.split("```", 1)[0]
    h1 = next(a for a in load_agreements(root / "sla") if a.metadata.revision == "2026-h1")
    at = datetime(2026, 3, 10, 6, 0)
    alerts = [("recovered", "breach", KpiStatus("acme", "2026-h1", "2026-03", "conversion:lead->mql", "marketing",
                                                0.30, 0.31, "met", "fail", as_of=at)),
              ("breach", None, KpiStatus("acme", "2026-h1", "2026-03", "revenue", "sales", 100000, 80000, "breach",
                                         "fail", as_of=at)),
              ("breach", None, KpiStatus("acme", "2026-h1", "2026-04", "volume:mql", "shared", 150, 120, "breach",
                                         "fail", as_of=at))]
    payload = digest_payload([make_event(r, kind, previous, h1, at.replace(tzinfo=UTC))
                              for kind, previous, r in alerts])

    emoji = {ICONS["recovered"]: "🟢", ICONS["breach"]: "🔴"}

    def shown(mrkdwn: str) -> str:  # as Slack shows it: no bold marks, entities read, icons drawn
        for code, drawn in emoji.items():
            mrkdwn = mrkdwn.replace(code, drawn)
        return html.unescape(mrkdwn.replace("*", ""))

    lines = []
    for block in payload["blocks"]:
        if block["type"] == "header":
            lines.append(block["text"]["text"])
        elif block["type"] == "context":
            lines.append(shown(block["elements"][0]["text"]))
        else:
            lines += [f"  {line}" for line in shown(block["text"]["text"]).splitlines()]
    assert example.splitlines() == lines
