"""A failed run's message through Slack and e-mail on loopback: each channel once for the
revisions that share it, the facts every channel shows, the kinds FUNNELPACT_ALERT_CHANNELS allows."""

from __future__ import annotations

import html
import time

from pipelines.alerts.events import RunFailure
from pipelines.alerts.run_failure import AT_ONCE, OUT_OF_TIME, tell

from .loopback import EMAIL, FAST, LOG, SLACK, WEBHOOK, HttpRecorder, Scripted, SmtpRecorder, agreement

FAILURE = RunFailure(
    run_id="c44fe235-99e8-40e0-8881-c2ec6c970db3", job="funnelpact_job", step="raw_crm",
    error="data/contacts.csv contact_id: missing required column 'contact_id'", months=("2026-06", "2026-07"),
    revisions=(("acme", "2026-h1"), ("acme", "2026-h2")), detected_at="2026-08-20T12:05:00+00:00",
    as_of="2026-08-20T12:00:00+00:00")
TITLE = "Run failed in raw_crm: 2026-06..2026-07 not judged (run c44fe235)"


def test_slack_and_email_get_one_message_each_for_the_revisions_that_share_them(
        http: HttpRecorder, smtp: SmtpRecorder) -> None:
    revisions = [agreement([SLACK, EMAIL, LOG]), agreement([SLACK, EMAIL], "2026-h2", ("2026-07", "2026-12"))]
    told = tell(FAILURE, revisions, {"TEST_SLACK_WEBHOOK": http.url(), "TEST_SMTP_URL": smtp.url()}, retry=FAST)
    assert (told.sent, told.failed, told.held) == (
        ["slack:TEST_SLACK_WEBHOOK", "email:TEST_SMTP_URL:revops@acme.example", "log"], {}, [])
    [post], [mail] = http.posts, smtp.mails
    slack = post.json()
    assert slack["blocks"][0]["text"]["text"] == TITLE
    fields = [f["text"] for f in slack["blocks"][1]["fields"]]
    assert "*Step*\nraw_crm" in fields and "*Months*\n2026-06..2026-07" in fields
    assert any(f.startswith("*Not judged*\n") and "next run that succeeds" in f for f in fields)
    context = slack["blocks"][2]["elements"][0]["text"]
    assert context.startswith(":x: agreements *acme 2026-h1*, *acme 2026-h2* · as of 2026-08-20 12:00:00 UTC")
    assert html.unescape(slack["text"]).startswith(TITLE)
    assert mail.message["Subject"] == f"[funnelpact] {TITLE}"
    text = mail.message.get_body(("plain",)).get_content()
    assert f"Run: {FAILURE.run_id}" in text and "Error: data/contacts.csv contact_id: missing" in text


def test_a_run_without_an_id_reads_so_on_slack_and_in_the_mail(http: HttpRecorder, smtp: SmtpRecorder) -> None:
    """A CLI run that failed outside its steps (a full disk) has no run id: Slack's header ended
    "(run )" and its Run field was empty, the mail's "Run: " too."""
    from dataclasses import replace

    outside = replace(FAILURE, run_id="", step=None, error="no room left on the disk writing Dagster's home …")
    told = tell(outside, [agreement([SLACK, EMAIL])], {"TEST_SLACK_WEBHOOK": http.url(), "TEST_SMTP_URL": smtp.url()},
                retry=FAST)
    assert (told.sent, told.failed) == (["slack:TEST_SLACK_WEBHOOK", "email:TEST_SMTP_URL:revops@acme.example"], {})
    [post], [mail] = http.posts, smtp.mails
    title = "Run failed in no step: 2026-06..2026-07 not judged (no run id)"
    slack = post.json()
    assert slack["blocks"][0]["text"]["text"] == title
    fields = [f["text"] for f in slack["blocks"][1]["fields"]]
    assert "*Run*\nnot known: it failed outside its steps" in fields, fields
    assert "*Step*\nnone: the run failed outside its steps" in fields, fields
    # Folded whole onto the next line (77 characters): Python's parser keeps the fold's space.
    assert mail.message["Subject"].lstrip() == f"[funnelpact] {title}"
    assert "Run: not known: it failed outside its steps" in mail.message.get_body(("plain",)).get_content().splitlines()


def test_the_kinds_funnelpact_alert_channels_leaves_out_are_held_back(http: HttpRecorder) -> None:
    told = tell(FAILURE, [agreement([SLACK, LOG])],
                {"TEST_SLACK_WEBHOOK": http.url(), "FUNNELPACT_ALERT_CHANNELS": "log"}, retry=FAST)
    assert (told.sent, told.held, http.posts) == (["log"], ["slack:TEST_SLACK_WEBHOOK"], [])


def test_no_revision_in_force_tells_the_log() -> None:
    assert tell(FAILURE, [], {}, retry=FAST).sent == ["log"]


def test_slack_names_one_revision_told_as_a_kpi_alert_names_its_own() -> None:
    """A run of one month told one revision's channels: Slack's context line read "agreements
    *acme 2026-h1*", a plural for one, where a KPI alert reads "agreement *acme*, revision *2026-h1*"."""
    from dataclasses import replace

    from pipelines.alerts.channels.slack import slack_payload

    one = replace(FAILURE, months=("2026-06",), revisions=(("acme", "2026-h1"),))
    context = slack_payload(one)["blocks"][2]["elements"][0]["text"]
    assert context.startswith(":x: agreement *acme*, revision *2026-h1* · as of "), context


def test_a_receiver_that_asks_to_wait_too_long_is_not_said_to_be_left_for_a_next_run(http: HttpRecorder) -> None:
    """A failed run's message has no outbox and no next run: the reason says what is true of it,
    while a KPI alert's keeps saying it is left for the next run (test_alert_delivery)."""
    http.status, http.headers = 429, {"Retry-After": "3600"}
    told = tell(FAILURE, [agreement([SLACK])], {"TEST_SLACK_WEBHOOK": http.url()}, retry=FAST)
    [reason] = told.failed.values()
    assert reason.endswith("(Retry-After: 3600 s): longer than a failed run's message waits (0.05 s)"), reason
    assert len(http.posts) == 1


def test_channels_that_never_answer_do_not_add_up_and_the_one_that_answers_is_told(http: HttpRecorder) -> None:
    """Three loopback servers that take the connection and say nothing (each try waits for its
    timeout: 18 s a channel), then the log and a webhook that answers, the time for the message
    cut to 1 s. Tried one after the other, the first used the whole second and the webhook was
    not attempted; tried at once, each is cut at the deadline, and the webhook is told. The
    results keep the channels' order, not the order the deliveries ended in (the log is told
    first, then the webhook, before the hanging ones before them end)."""
    silent = [Scripted(None), Scripted(None), Scripted(None)]
    try:
        slack = {"channel": "slack", "webhook_url_env": "SILENT_SLACK"}
        email = {"channel": "email", "to": ["revops@acme.example"], "smtp_url_env": "SILENT_SMTP"}
        hook = {"channel": "webhook", "url_env": "SILENT_WEBHOOK"}
        env = {"SILENT_SLACK": silent[0].url("http") + "/hook", "SILENT_SMTP": silent[1].url("smtp"),
               "SILENT_WEBHOOK": silent[2].url("http") + "/hook", "TEST_ALERT_WEBHOOK": http.url()}
        started = time.monotonic()
        told = tell(FAILURE, [agreement([slack, email, hook, LOG, WEBHOOK])], env, deadline=started + 1.0)
        took = time.monotonic() - started
    finally:
        for server in silent:
            server.stop()
    assert 1.0 <= took < 2.0, took   # one channel's time, not three
    assert told.sent == ["log", "webhook:TEST_ALERT_WEBHOOK"]
    assert [post.json()["run_id"] for post in http.posts] == [FAILURE.run_id]
    assert list(told.failed) == ["slack:SILENT_SLACK", "email:SILENT_SMTP:revops@acme.example", "webhook:SILENT_WEBHOOK"]
    for reason in told.failed.values():
        assert reason.endswith("; no time left to try again (1 attempt)"), told.failed


def test_a_channel_reached_past_the_deadline_is_not_attempted_and_the_log_is_told(http: HttpRecorder) -> None:
    """The deadline already past when the message is told: no network channel is tried."""
    told = tell(FAILURE, [agreement([WEBHOOK, LOG])], {"TEST_ALERT_WEBHOOK": http.url()}, deadline=time.monotonic())
    assert told.sent == ["log"] and not http.posts
    assert told.failed == {"webhook:TEST_ALERT_WEBHOOK": "not attempted: the time given to a failed run's "
                                                         "message ran out"}


def test_ctrl_c_while_a_channel_hangs_stops_telling_at_once() -> None:
    """Ctrl-C at a terminal while `funnelpact run` tells a channel that never answers: a pool's
    threads, which Python joins before the interrupt is raised and again at exit, held the
    command until the channel's 5 s timeouts and the deadline ran out."""
    import os
    import signal
    import threading

    import pytest

    silent = Scripted(None)
    hook = {"channel": "webhook", "url_env": "SILENT_WEBHOOK"}
    # The interrupt once the delivery is under way (the receiver holds its connection).
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            tell(FAILURE, [agreement([hook])], {"SILENT_WEBHOOK": silent.url("http") + "/hook"},
                 deadline=started + 12.0)
        took = time.monotonic() - started
    finally:
        silent.stop()
    assert took < 3.0, took


def test_a_channel_past_the_channels_tried_at_once_waits_for_a_turn_and_past_the_deadline_is_not_attempted() -> None:
    """One more channel than are tried at once (AT_ONCE), all on a loopback server that never
    answers, the time for the message cut to 1 s: the first AT_ONCE are each cut at the
    deadline, the last gets its turn only when one of them ends, past it, and is not attempted;
    the log is told all the same. Without the bound it was tried beside them."""
    silent = Scripted(None)
    hooks = [{"channel": "webhook", "url_env": f"SILENT_WEBHOOK_{i}"} for i in range(AT_ONCE + 1)]
    env = {hook["url_env"]: silent.url("http") + "/hook" for hook in hooks}
    try:
        started = time.monotonic()
        told = tell(FAILURE, [agreement([*hooks, LOG])], env, deadline=started + 1.0)
        took = time.monotonic() - started
    finally:
        silent.stop()
    assert 1.0 <= took < 2.0, took
    assert told.sent == ["log"]
    assert list(told.failed) == [f"webhook:SILENT_WEBHOOK_{i}" for i in range(AT_ONCE + 1)]
    *cut, last = told.failed.values()
    assert all(reason.endswith("; no time left to try again (1 attempt)") for reason in cut), cut
    assert last == OUT_OF_TIME
