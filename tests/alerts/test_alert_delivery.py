"""dispatch() against real loopback servers: content, dedup, recovery, outbox, retries."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipelines.alerts import dispatch
from pipelines.alerts.state import AlertStore

from .loopback import EMAIL, FAST, LOG, SLACK, WEBHOOK, HttpRecorder, SmtpRecorder, agreement, free_port, kpi


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / ".funnelpact" / "alerts.sqlite"


def env_for(http: HttpRecorder | None = None, smtp: SmtpRecorder | None = None, **extra: str) -> dict[str, str]:
    env = dict(extra)
    if http:
        env |= {"TEST_SLACK_WEBHOOK": http.url("/slack"), "TEST_ALERT_WEBHOOK": http.url("/webhook")}
    if smtp:
        env["TEST_SMTP_URL"] = smtp.url("alerts%40acme:s3cret@")
    return env


def posts(http: HttpRecorder, path: str) -> list:
    return [p for p in http.posts if p.path == path]


def test_a_breach_reaches_slack_the_webhook_and_email_with_every_fact(
    state: Path, http: HttpRecorder, smtp: SmtpRecorder
) -> None:
    acme = agreement([SLACK, EMAIL, WEBHOOK])
    report = dispatch([kpi("breach", 120)], [acme], state, env_for(http, smtp), retry=FAST)

    assert [(a.kind, a.kpi, a.period) for a in report.alerts] == [("breach", "volume:mql", "2026-03")]
    assert {k: (c.sent, c.failed, c.pending) for k, c in report.channels.items()} == {
        "slack:TEST_SLACK_WEBHOOK": (1, 0, 0),
        "email:TEST_SMTP_URL:revops@acme.example": (1, 0, 0),
        "webhook:TEST_ALERT_WEBHOOK": (1, 0, 0),
    }

    [slack] = posts(http, "/slack")
    body = slack.json()
    text = body["text"]
    for fact in ("volume:mql", "2026-03", "150", "120", "-30 (-20.0%)", "shared", "Marta Ruiz", "Joao Lima", "2026-h1", "fail"):
        assert fact in text, fact
    blocks = body["blocks"]
    assert blocks[0]["type"] == "header" and "Breach: volume:mql in 2026-03" in blocks[0]["text"]["text"]
    fields = " ".join(f["text"] for f in blocks[1]["fields"])
    assert "*Target*\n150" in fields and "*Actual*\n120" in fields and "*Gap*\n-30 (-20.0%)" in fields
    assert "revision *2026-h1*" in blocks[2]["elements"][0]["text"]

    [hook] = posts(http, "/webhook")
    data = hook.json()
    assert (data["kind"], data["kpi"], data["period"], data["status"], data["previous_status"]) == (
        "breach", "volume:mql", "2026-03", "breach", None)
    assert (data["target"], data["actual"], data["gap"], data["gap_pct"]) == (150, 120, -30, -20)
    assert (data["agreement"], data["revision"], data["owner"], data["severity"]) == ("acme", "2026-h1", "shared", "fail")
    assert [o["name"] for o in data["owners"]] == ["Marta Ruiz", "Joao Lima"]
    assert hook.headers["Idempotency-Key"] == data["alert_id"]

    [mail] = smtp.mails
    assert smtp.logins == [("alerts@acme", "s3cret")]
    assert mail.recipients == ["revops@acme.example"]
    assert mail.sender == "funnelpact@127.0.0.1"
    assert mail.message["Subject"] == "[funnelpact] Breach: volume:mql in 2026-03 (acme 2026-h1)"
    plain, html = mail.part("plain"), mail.part("html")
    for fact in ("Target: 150", "Actual: 120", "Gap: -30 (-20.0%)", "Owner: shared (Marta Ruiz <marta@acme.example>",
                 "Agreement: acme, revision 2026-h1"):
        assert fact in plain, fact
    assert "<th align='left' style='padding:2px 12px 2px 0'>Gap</th><td>-30 (-20.0%)</td>" in html
    # The Date says its zone (+0000): formatdate()'s -0000 means "zone unknown" (RFC 5322 3.3).
    assert mail.message["Date"].datetime.utcoffset() == timedelta(0), mail.message["Date"]
    assert mail.message["Message-ID"].endswith("@127.0.0.1>")
    assert mail.message["Auto-Submitted"] == "auto-generated"  # no out-of-office replies to the bot


def test_the_same_breach_on_the_next_day_is_not_sent_again(state: Path, http: HttpRecorder) -> None:
    acme = agreement([SLACK, WEBHOOK])
    first = dispatch([kpi("breach", 120)], [acme], state, env_for(http), retry=FAST)
    second = dispatch([kpi("breach", 118)], [acme], state, env_for(http), retry=FAST)

    assert first.sent == 2
    assert (second.alerts, second.sent, second.pending) == ([], 0, 0)
    assert len(http.posts) == 2


def test_a_recovery_is_announced_once(state: Path, http: HttpRecorder, smtp: SmtpRecorder) -> None:
    acme = agreement([SLACK, EMAIL, WEBHOOK])
    env = env_for(http, smtp)
    dispatch([kpi("breach", 120)], [acme], state, env, retry=FAST)
    recovered = dispatch([kpi("met", 151)], [acme], state, env, retry=FAST)
    again = dispatch([kpi("met", 152)], [acme], state, env, retry=FAST)

    assert [(a.kind, a.previous_status, a.status) for a in recovered.alerts] == [("recovered", "breach", "met")]
    assert recovered.sent == 3 and again.sent == 0
    assert posts(http, "/slack")[-1].json()["blocks"][0]["text"]["text"].startswith("Recovered: volume:mql in 2026-03")
    assert posts(http, "/webhook")[-1].json()["gap"] == 1
    assert smtp.mails[-1].message["Subject"].startswith("[funnelpact] Recovered:")
    assert len(smtp.mails) == 2


def test_a_closed_port_keeps_the_alert_and_the_next_run_delivers_it_exactly_once(state: Path) -> None:
    acme = agreement([SLACK, EMAIL, WEBHOOK])
    http_port, smtp_port = free_port(), free_port()
    env = {
        "TEST_SLACK_WEBHOOK": f"http://127.0.0.1:{http_port}/slack",
        "TEST_ALERT_WEBHOOK": f"http://127.0.0.1:{http_port}/webhook",
        "TEST_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
    }
    delays: list[float] = []
    down = dispatch([kpi("breach", 120)], [acme], state, env, retry=FAST, timeout=2, sleep=delays.append)

    assert down.sent == 0
    assert {k: (c.failed, c.pending) for k, c in down.channels.items()} == {
        "slack:TEST_SLACK_WEBHOOK": (1, 1),
        "email:TEST_SMTP_URL:revops@acme.example": (1, 1),
        "webhook:TEST_ALERT_WEBHOOK": (1, 1),
    }
    assert all("cannot reach http://127.0.0.1" in f.reason or "smtp://127.0.0.1" in f.reason for f in down.failures)
    assert delays == [0.01, 0.02] * 3  # three attempts per channel, the wait doubling
    with AlertStore.open(state) as store:
        assert [(r["state"], r["attempts"]) for r in store.outbox()] == [("pending", 3)] * 3

    http, smtp = HttpRecorder(http_port), SmtpRecorder(smtp_port)
    try:
        # The KPI is still in breach: no new alert, only the outbox is delivered.
        up = dispatch([kpi("breach", 119)], [acme], state, env, retry=FAST)
        later = dispatch([kpi("breach", 119)], [acme], state, env, retry=FAST)
    finally:
        http.stop()
        smtp.stop()
    assert (up.alerts, up.sent, up.pending) == ([], 3, 0)
    assert (later.sent, later.pending) == (0, 0)
    assert len(posts(http, "/slack")) == len(posts(http, "/webhook")) == len(smtp.mails) == 1
    assert "Actual: 120" in smtp.mails[0].part("plain")  # the alert as raised, not re-judged


def test_deliveries_an_interrupted_run_claimed_go_out_with_the_run_started_right_after(
    state: Path, http: HttpRecorder
) -> None:
    """Ctrl-C or SIGTERM (exit 130) while the webhook receives the first of three alerts: the
    run held its claim on all three for the 15 minutes meant for a killed run, so running
    again at once sent none ("3 kept for the next run"), and they waited for the next day's run."""
    import os
    import signal
    import time

    def interrupted(handler) -> str:
        os.kill(os.getpid(), signal.SIGINT)  # the run's Ctrl-C while it waits for the answer
        time.sleep(1)
        return "too late"

    acme = agreement([WEBHOOK])
    results = [kpi("breach", 10, kpi=f"volume:{stage}", target=60) for stage in ("lead", "mql", "sql")]
    http.status, http.answer = 500, interrupted
    with pytest.raises(KeyboardInterrupt):
        dispatch(results, [acme], state, env_for(http), retry=FAST)
    assert [p.json()["kpi"] for p in http.posts] == ["volume:lead"]

    http.status = 200
    report = dispatch(results, [acme], state, env_for(http), retry=FAST)
    assert (report.alerts, report.sent, report.pending) == ([], 3, 0)
    # The one under way when the run stopped may have arrived: it may come twice, the others once.
    assert sorted(p.json()["kpi"] for p in http.posts) == ["volume:lead", "volume:lead", "volume:mql", "volume:sql"]


def test_http_500_is_retried_with_back_off_then_kept_and_a_down_channel_is_not_hammered(
    state: Path, http: HttpRecorder
) -> None:
    acme = agreement([WEBHOOK])
    http.status = 500
    results = [kpi("breach", 120), kpi("breach", 10, kpi="volume:sql", target=60)]
    report = dispatch(results, [acme], state, env_for(http), retry=FAST, sleep=lambda s: None)

    # Three attempts for the first alert; the second is not tried once the channel is known down.
    assert len(http.posts) == 3
    assert report.channels["webhook:TEST_ALERT_WEBHOOK"].failed == 1
    assert report.channels["webhook:TEST_ALERT_WEBHOOK"].pending == 2
    assert report.failures[0].reason == "HTTP 500 from http://127.0.0.1:%d: server trouble" % http.server_address[1]

    http.status = 200
    http.posts.clear()
    report = dispatch(results, [acme], state, env_for(http), retry=FAST)
    assert (report.sent, report.pending) == (2, 0)
    assert sorted(p.json()["kpi"] for p in http.posts) == ["volume:mql", "volume:sql"]


def test_a_client_error_is_not_retried_within_the_run(state: Path, http: HttpRecorder) -> None:
    http.status = 404  # e.g. a revoked Slack webhook
    report = dispatch([kpi("breach")], [agreement([SLACK])], state, env_for(http), retry=FAST)
    assert len(http.posts) == 1
    assert report.channels["slack:TEST_SLACK_WEBHOOK"].pending == 1


def test_a_missing_variable_is_a_recorded_failure_and_other_channels_still_deliver(
    state: Path, http: HttpRecorder
) -> None:
    acme = agreement([SLACK, EMAIL, WEBHOOK])
    env = {"TEST_ALERT_WEBHOOK": http.url("/webhook")}
    report = dispatch([kpi("breach")], [acme], state, env, retry=FAST)

    assert report.channels["webhook:TEST_ALERT_WEBHOOK"].sent == 1
    reasons = {f.channel: f.reason for f in report.failures}
    assert reasons == {
        "slack:TEST_SLACK_WEBHOOK": "environment variable TEST_SLACK_WEBHOOK is not set: it must hold the Slack incoming-webhook URL",
        "email:TEST_SMTP_URL:revops@acme.example": "environment variable TEST_SMTP_URL is not set: it must hold smtp://user:password@host:port",
    }
    with AlertStore.open(state) as store:
        pending = store.outbox("pending")
    # Not retried within the run (the variable will not appear by waiting), kept for the next one.
    assert {r["channel_key"]: (r["attempts"], r["last_error"]) for r in pending} == {
        key: (1, reason) for key, reason in reasons.items()
    }


def test_the_log_channel_writes_one_line(state: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pipelines.alerts")
    report = dispatch([kpi("at_risk", 40, kpi="volume:sql", target=60, owner="sales", severity="warn")],
                      [agreement([LOG])], state, {})
    assert report.channels["log"].sent == 1
    [line] = [r for r in caplog.records if "funnelpact alert" in r.getMessage()]
    assert line.levelno == logging.WARNING
    assert line.getMessage() == (
        "funnelpact alert at_risk: kpi=volume:sql; measure=Sales qualified leads: volume; month=2026-03; target=60; "
        "actual=40; gap=-20 (-33.3%); "
        "owner=sales (Joao Lima <joao@acme.example>); severity=warn; status=new -> at_risk; "
        "agreement=acme, revision 2026-h1"
    )


def test_a_line_break_in_an_owner_s_name_cannot_forge_a_line_of_the_run_s_log(state: Path) -> None:
    """A name is free text, and YAML's "\\n" puts a line break in it: the log channel wrote
    it raw, and the run's log (and Dagster's) showed a second, made-up alert line."""
    import io

    from pipelines.defs.execute import _logs_to

    from pipelines.agreement.model import Agreement

    data = agreement([LOG]).model_dump(by_alias=True)
    data["metadata"]["owners"]["sales"]["name"] = "Joao\nWARNING pipelines.alerts: funnelpact alert recovered: all met\x1b[2K"
    acme = Agreement.model_validate(data)
    log_file = io.StringIO()
    with _logs_to(log_file):
        dispatch([kpi("breach", 40, kpi="volume:sql", owner="sales")], [acme], state, {})
    [line] = [line for line in log_file.getvalue().splitlines() if "funnelpact alert" in line]
    assert "owner=sales (Joao\\nWARNING pipelines.alerts: funnelpact alert recovered: all met\\x1b[2K <joao@" in line


def test_a_recovery_on_the_log_channel_reaches_the_run_s_log_file(state: Path) -> None:
    """Without a level set by a test (caplog) the `pipelines` logger had Python's default,
    WARNING: the INFO recovery line reached no handler, yet counted as sent and announced."""
    import io

    from pipelines.defs.execute import _logs_to

    log_file = io.StringIO()
    with _logs_to(log_file):
        dispatch([kpi("breach", 120)], [agreement([LOG])], state, {})
        recovered = dispatch([kpi("met", 151)], [agreement([LOG])], state, {})
    assert recovered.channels["log"].sent == 1
    assert "INFO pipelines.alerts: funnelpact alert recovered: kpi=volume:mql; measure=Marketing qualified leads: volume; month=2026-03" in log_file.getvalue()
    assert "WARNING pipelines.alerts: funnelpact alert breach: kpi=volume:mql" in log_file.getvalue()


def test_an_agreement_without_channels_still_logs_its_alerts(state: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pipelines.alerts")
    report = dispatch([kpi("breach")], [agreement([])], state, {})
    assert report.channels["log"].sent == 1
    assert any("funnelpact alert breach: kpi=volume:mql" in r.getMessage() for r in caplog.records)


def test_alerts_go_to_the_channels_of_the_revision_that_judged_the_month(state: Path, http: HttpRecorder) -> None:
    h1 = agreement([{"channel": "webhook", "url_env": "H1_HOOK"}])
    h2 = agreement([{"channel": "webhook", "url_env": "H2_HOOK"}], revision="2026-h2", months=("2026-07", "2026-12"))
    env = {"H1_HOOK": http.url("/h1"), "H2_HOOK": http.url("/h2")}
    dispatch([kpi("breach", period="2026-03"), kpi("breach", period="2026-08", revision="2026-h2")], [h1, h2], state, env)
    assert {(p.path, p.json()["period"], p.json()["revision"]) for p in http.posts} == {
        ("/h1", "2026-03", "2026-h1"), ("/h2", "2026-08", "2026-h2")}


def test_an_undelivered_alert_expires_after_max_age(state: Path) -> None:
    acme = agreement([{"channel": "webhook", "url_env": "NOT_SET"}])
    start = datetime(2026, 3, 10, 6, tzinfo=UTC)
    dispatch([kpi("breach")], [acme], state, {}, now=start)
    report = dispatch([kpi("breach")], [acme], state, {}, now=start + timedelta(days=15))
    assert report.channels["webhook:NOT_SET"].expired == 1
    assert report.pending == 0


def test_the_webhook_s_instants_both_say_they_are_utc(state: Path, http: HttpRecorder) -> None:
    # `as_of` came without an offset ("2026-04-01T06:00:00") next to `detected_at` with one: a
    # receiver parsing it in its own zone moved it by hours.
    from datetime import datetime

    dispatch([kpi("breach", 120, as_of=datetime(2026, 4, 1, 6))], [agreement([WEBHOOK])], state, env_for(http),
             retry=FAST)
    [hook] = posts(http, "/webhook")
    data = hook.json()
    assert data["as_of"] == "2026-04-01T06:00:00+00:00"
    assert data["detected_at"].endswith("+00:00"), data["detected_at"]


def test_slack_s_blocks_show_the_forecast_and_the_as_of_every_channel_names(state: Path, http: HttpRecorder) -> None:
    # Slack shows the blocks and keeps `text` for the notification: the fields were a hand-made
    # list without the Forecast, so an at_risk read "Actual 7, Gap -98%" with nothing saying
    # the month's pace was what put it at risk, and a backfilled month did not say its as-of.
    as_of = datetime(2026, 3, 10, 12)
    dispatch([kpi("at_risk", 40, forecast=124, as_of=as_of)], [agreement([SLACK])], state, env_for(http), retry=FAST,
             now=datetime(2026, 3, 10, 12, 5, tzinfo=UTC))
    [slack] = posts(http, "/slack")
    section, context = slack.json()["blocks"][1:]
    fields = [f["text"] for f in section["fields"]]
    assert "*Forecast*\n124 at the month's pace (9.25 of 31 days elapsed)" in fields
    assert len(fields) <= 10  # Block Kit refuses a section with more (HTTP 400 invalid_blocks)
    assert "as of 2026-03-10 12:00:00 UTC · detected 2026-03-10 12:05:00 UTC" in context["elements"][0]["text"]
    shown = " ".join(fields) + context["elements"][0]["text"]
    for line in slack.json()["text"].splitlines()[1:]:
        label, _, value = line.partition(": ")
        assert value.replace("acme, revision 2026-h1", "acme*, revision *2026-h1") in shown, label


def test_an_undelivered_alert_to_a_channel_taken_out_of_the_agreement_is_dropped(state: Path, http: HttpRecorder) -> None:
    # Slack's variable was never set; the analyst takes Slack out of the agreement. Its pending
    # alert was retried, and counted failed, on every run for 14 days after.
    env = env_for(http) | {"TEST_SLACK_WEBHOOK": ""}
    dispatch([kpi("breach")], [agreement([SLACK, WEBHOOK])], state, env, retry=FAST)
    report = dispatch([kpi("breach")], [agreement([WEBHOOK])], state, env, retry=FAST)

    assert (report.failed, report.pending, report.channels["slack:TEST_SLACK_WEBHOOK"].expired) == (0, 0, 1)
    with AlertStore.open(state) as store:
        [dropped] = store.outbox("expired")
    assert dropped["last_error"] == "dropped: no longer a channel of acme 2026-h1"
    # A channel still in the agreement keeps its undelivered alert, and so does one whose
    # agreement this run did not load.
    dispatch([kpi("breach", period="2026-04")], [agreement([SLACK])], state, env, retry=FAST)
    assert dispatch([], [], state, env, retry=FAST).pending == 1
    assert dispatch([], [agreement([SLACK])], state, env, retry=FAST).pending == 1


@pytest.mark.parametrize(("before", "after"), [
    (["a@acme.example", "b@acme.example"], ["b@acme.example", "a@acme.example"]),
    (["a@acme.example", "b@acme.example", "a@acme.example"], ["a@acme.example", "b@acme.example"]),
], ids=["reordered", "a repeat removed"])
def test_an_undelivered_e_mail_survives_its_recipients_written_otherwise(
    state: Path, smtp: SmtpRecorder, before: list[str], after: list[str]
) -> None:
    # The SMTP server was down; meanwhile the analyst reorders the recipients, or removes one
    # written twice (diff calls either no change). The pending alert was dropped as "no longer
    # a channel" and never sent.
    assert dispatch([kpi("breach")], [agreement([{**EMAIL, "to": before}])], state, {}, retry=FAST).pending == 1
    report = dispatch([], [agreement([{**EMAIL, "to": after}])], state, env_for(smtp=smtp), retry=FAST)

    assert (report.sent, report.pending) == (1, 0)
    [mail] = smtp.mails
    assert sorted(mail.recipients) == ["a@acme.example", "b@acme.example"]


def test_an_alert_names_the_kpi_as_the_review_pack_does(state: Path, http: HttpRecorder, smtp: SmtpRecorder) -> None:
    # `recycle_rate`, target 35.0%, actual 41.2%, gap +6.2 pp, "Breach": only funnelpact's own
    # vocabulary said that a recycle rate breaches by being above its target.
    results = [kpi("breach", 0.412, kpi="recycle_rate", target=0.35, owner="marketing"),
               kpi("breach", 0.25, kpi="conversion:lead->mql", target=0.30, period="2026-04")]
    for result in results:  # one run each: two at once are one digest (test_alert_digest.py)
        dispatch([result], [agreement([SLACK, EMAIL, WEBHOOK])], state, env_for(http, smtp), retry=FAST)

    recycle, conversion = smtp.mails
    assert "KPI: recycle_rate\nMeasure: Recycle rate (lower is better)\n" in recycle.part("plain").replace("\r\n", "\n")
    assert "<th align='left' style='padding:2px 12px 2px 0'>Measure</th><td>Leads → Marketing qualified leads</td>" \
        in conversion.part("html")
    slack = posts(http, "/slack")[0].json()["blocks"][1]["fields"]
    assert "*Measure*\nRecycle rate (lower is better)" in [f["text"] for f in slack]
    assert posts(http, "/webhook")[1].json()["label"] == "Leads → Marketing qualified leads"


@pytest.mark.parametrize("retry_after, waited, sent", [
    ("4", [4.0], 1),            # Slack's 429 says how long: waited, then delivered
    ("3600", [], 0),            # longer than a run waits: left for the next run at once
    ("soon", [0.01], 1),        # unreadable: the policy's own wait
], ids=["seconds", "too long", "unreadable"])
def test_a_receiver_s_retry_after_is_waited_for_within_the_run_s_bound(
        state: Path, http: HttpRecorder, retry_after: str, waited: list[float], sent: int) -> None:
    """Retried after 1 s and 2 s, a burst Slack answered with 429 and Retry-After: 30 was
    refused at every attempt; the wait it asked for is waited, up to what a run waits."""
    http.status, http.headers = 429, {"Retry-After": retry_after}
    delays: list[float] = []

    def sleep(seconds: float) -> None:  # the receiver is ready once the wait is over
        delays.append(seconds)
        http.status = 200

    policy = type(FAST)(attempts=3, base_delay=0.01, factor=2, max_delay=10)
    report = dispatch([kpi("breach", 120)], [agreement([WEBHOOK])], state, env_for(http),
                      retry=policy, sleep=sleep)
    assert (delays, report.sent) == (waited, sent)
    if not sent:
        [failure] = report.failures
        assert failure.reason.startswith(f"HTTP 429 from http://127.0.0.1:{http.server_address[1]}")
        assert failure.reason.endswith("(Retry-After: 3600 s): longer than the run waits (10 s), left for the next run")
        assert report.pending == 1


def test_a_retry_after_given_as_a_date_is_the_seconds_until_it() -> None:
    from email.utils import format_datetime

    from pipelines.alerts.channels.base import retry_after

    assert retry_after(format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)) in (89, 90, 91)
    assert retry_after(format_datetime(datetime.now(UTC) - timedelta(seconds=90), usegmt=True)) == 0
    assert retry_after(" 7 ") == 7 and retry_after(None) is None and retry_after("-1") is None


def test_alert_channels_variable_sends_only_to_the_kinds_it_names_and_keeps_the_rest_for_later(
    state: Path, http: HttpRecorder, smtp: SmtpRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    """$FUNNELPACT_ALERT_CHANNELS=log (what `funnelpact demo` sets): the log gets the alert,
    Slack and mail get nothing, though their secrets are set."""
    caplog.set_level(logging.INFO, logger="pipelines.alerts")
    acme = agreement([SLACK, EMAIL, LOG])
    # A Slack alert raised before the variable was set, not delivered yet (Slack was down).
    down = dispatch([kpi("breach", 120, kpi="volume:sql")], [acme], state,
                    env_for(smtp=smtp, TEST_SLACK_WEBHOOK=f"http://127.0.0.1:{free_port()}/slack"), retry=FAST)
    assert (down.channels["slack:TEST_SLACK_WEBHOOK"].pending, len(smtp.mails)) == (1, 1)

    env = env_for(http, smtp, FUNNELPACT_ALERT_CHANNELS=" Log ")
    held = dispatch([kpi("breach", 120)], [acme], state, env, retry=FAST)

    assert [a.kpi for a in held.alerts] == ["volume:mql"]
    assert (http.posts, len(smtp.mails)) == ([], 1)
    assert held.held == {"slack:TEST_SLACK_WEBHOOK": 1, "email:TEST_SMTP_URL:revops@acme.example": 1}
    assert held.channels["log"].sent == 1
    # The older Slack alert is not attempted, and stays in the outbox for a run that may send it.
    assert (held.channels["slack:TEST_SLACK_WEBHOOK"].failed, held.channels["slack:TEST_SLACK_WEBHOOK"].pending) == (0, 1)
    assert "held back (FUNNELPACT_ALERT_CHANNELS): 1 for email:TEST_SMTP_URL:revops@acme.example, " \
           "1 for slack:TEST_SLACK_WEBHOOK" in caplog.text

    # Unset again: the kept alert goes out; the held ones were never queued.
    later = dispatch([kpi("breach", 120)], [acme], state, env_for(http, smtp), retry=FAST)
    [slack] = posts(http, "/slack")
    assert "volume:sql" in slack.json()["text"]
    assert (later.alerts, later.sent, later.pending, len(smtp.mails)) == ([], 1, 0, 1)


def test_an_unknown_kind_in_alert_channels_is_bad_input_naming_the_variable(state: Path) -> None:
    from pipelines.errors import InputError

    with pytest.raises(InputError) as raised:
        dispatch([kpi("breach", 120)], [agreement([LOG])], state, {"FUNNELPACT_ALERT_CHANNELS": "log,teams"})
    said = str(raised.value)
    assert "FUNNELPACT_ALERT_CHANNELS" in said and "'teams'" in said and "slack, email, webhook, log" in said, said
    assert not state.exists()  # refused before anything was recorded
