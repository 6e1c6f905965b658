"""Alerts over TLS against real servers on loopback: https for Slack and webhooks, smtps:// and
STARTTLS for e-mail, with certificates of a test certificate authority made for the session and
trusted as a user trusts their company's own: SSL_CERT_FILE."""

from __future__ import annotations

import os
import ssl
import struct
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.alerts import dispatch
from pipelines.alerts.channels.slack import slack_payload
from pipelines.cli import app

from .loopback import (EMAIL, FAST, INTERNAL_ERROR_ALERT, SLACK, TLS_VERSIONS, WEBHOOK, HttpRecorder, Pki, Scripted,
                       SmtpRecorder, agreement, kpi)

ROOT = Path(__file__).resolve().parents[2]
UNTRUSTED = ("could not be verified: unable to get local issuer certificate; if your company's own certificate "
             "authority (or a TLS-inspecting proxy) issued it, set SSL_CERT_FILE to a PEM file holding that "
             "authority's certificate (docs/alerts.md, TLS and certificates)")


def deliver(channels: list[dict], env: dict[str, str], tmp_path: Path,  # type: ignore[no-untyped-def]
            timeout: float = 5):
    """One breach dispatched to `channels`: the report, and the waits between retries."""
    waits: list[float] = []
    report = dispatch([kpi("breach", 120)], [agreement(channels)], tmp_path / "alerts.sqlite", env,
                      retry=FAST, timeout=timeout, sleep=waits.append)
    return report, waits


# -- delivered ---------------------------------------------------------------------------------

def test_slack_and_webhook_alerts_arrive_intact_over_https(https: HttpRecorder, trusted: Path, tmp_path: Path) -> None:
    report, _ = deliver([SLACK, WEBHOOK], {"TEST_SLACK_WEBHOOK": https.url("/services/T0/B0/token"),
                                           "TEST_ALERT_WEBHOOK": https.url("/alerts")}, tmp_path)
    assert (report.sent, report.failures) == (2, [])
    [event] = report.alerts
    posts = {post.path: post for post in https.posts}
    assert posts["/services/T0/B0/token"].json() == slack_payload(event)
    assert posts["/alerts"].json() == event.to_dict()
    assert posts["/alerts"].headers["Idempotency-Key"] == event.alert_id


@pytest.mark.parametrize("server", ["smtps", "starttls"])
def test_an_email_arrives_intact_over_tls_after_logging_in(
    server: str, request: pytest.FixtureRequest, trusted: Path, tmp_path: Path
) -> None:
    """The STARTTLS server offers AUTH only once the connection is encrypted, as submission
    servers do: the login, and the mail, went over TLS."""
    smtp: SmtpRecorder = request.getfixturevalue(server)
    report, _ = deliver([EMAIL], {"TEST_SMTP_URL": smtp.url("bot:s3cret@")}, tmp_path)
    assert (report.sent, report.failures) == (1, [])
    [event] = report.alerts
    [mail] = smtp.mails
    assert smtp.logins == [("bot", "s3cret")] and mail.tls
    assert (mail.recipients, mail.message["Subject"]) == (["revops@acme.example"], f"[funnelpact] {event.title()}")
    assert mail.part("plain").replace("\r\n", "\n").startswith(event.text())


@pytest.mark.parametrize("server", ["https", "smtps", "starttls"])
def test_test_alerts_reaches_each_tls_channel(server: str, request: pytest.FixtureRequest, trusted: Path,
                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = request.getfixturevalue(server)
    if server == "https":  # the webhook, as Slack is in the next test
        channel, variable = "{channel: webhook, url_env: FUNNELPACT_ALERT_WEBHOOK}", "FUNNELPACT_ALERT_WEBHOOK"
        monkeypatch.setenv(variable, recorder.url())
    else:
        channel, variable = "{channel: email, to: [revops@acme.example], smtp_url_env: FUNNELPACT_SMTP_URL}", \
            "FUNNELPACT_SMTP_URL"
        monkeypatch.setenv(variable, recorder.url("bot:s3cret@"))
    text = (ROOT / "sla" / "acme-2026-h2.yaml").read_text()
    start = text.index("  alerts:\n")
    end = text.index("\n", text.index("{channel: log}", start))
    (tmp_path / "acme.yaml").write_text(text[:start] + f"  alerts:\n    - {channel}" + text[end:])
    result = CliRunner().invoke(app, ["test-alerts", "--sla", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"acme 2026-h2 {channel.split(',')[0].split()[-1]}:{variable}" in result.output
    assert len(recorder.posts if server == "https" else recorder.mails) == 1


def test_test_alerts_run_as_a_command_trusts_the_ca_of_ssl_cert_file(
    https: HttpRecorder, smtps: SmtpRecorder, pki: Pki
) -> None:
    """The variable as a user exports it, read by a process of its own: Slack over https and
    e-mail over smtps, the agreement's two channels."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FUNNELPACT_SLACK_WEBHOOK": https.url(),
           "FUNNELPACT_SMTP_URL": smtps.url(), "SSL_CERT_FILE": str(pki.ca_file)}
    done = subprocess.run([sys.executable, "-c", "from pipelines.cli import main; main()", "test-alerts",
                           "--sla", str(ROOT / "sla"), "--revision", "2026-h2"],
                          capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "slack:FUNNELPACT_SLACK_WEBHOOK: sent" in done.stdout
    assert "email:FUNNELPACT_SMTP_URL:revops@acme.example: sent" in done.stdout
    assert len(https.posts) == 1 and len(smtps.mails) == 1


# -- not delivered: a reason a user can act on, not retried within the run --------------------

@pytest.mark.parametrize("server", ["https", "smtps", "starttls"])
def test_a_certificate_no_trusted_authority_issued_says_to_set_ssl_cert_file_and_is_not_retried(
    server: str, request: pytest.FixtureRequest, untrusted: None, tmp_path: Path
) -> None:
    """It was `cannot reach …: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: …
    (_ssl.c:1006)`, tried three times: waiting does not make a certificate trusted."""
    recorder = request.getfixturevalue(server)
    channel, variable = (WEBHOOK, "TEST_ALERT_WEBHOOK") if server == "https" else (EMAIL, "TEST_SMTP_URL")
    url = recorder.url() if server == "https" else recorder.url("bot:s3cret@")
    report, waits = deliver([channel], {variable: url}, tmp_path)
    [failure] = report.failures
    where = url.replace("bot:s3cret@", "").removesuffix("/hook").removesuffix("?starttls=1")
    assert failure.reason == f"the TLS certificate of {where} {UNTRUSTED}"
    assert waits == [] and report.pending == 1  # kept for the next run, once SSL_CERT_FILE is set
    assert len(recorder.errors) == 1  # one handshake, which the client broke off
    assert getattr(recorder, "posts", None) in (None, []) and getattr(recorder, "mails", None) in (None, [])


def test_test_alerts_prints_what_to_do_about_an_untrusted_certificate(
    https: HttpRecorder, untrusted: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FUNNELPACT_SLACK_WEBHOOK", https.url("/services/T0/B0/secret"))
    monkeypatch.setenv("FUNNELPACT_SMTP_URL", "smtp://127.0.0.1:9")  # refused at once: not this test's concern
    result = CliRunner().invoke(app, ["test-alerts", "--sla", str(ROOT / "sla"), "--revision", "2026-h2"])
    assert result.exit_code == 1
    line = next(line for line in result.output.splitlines() if "slack:" in line)
    assert line == (f"acme 2026-h2 slack:FUNNELPACT_SLACK_WEBHOOK: FAILED: the TLS certificate of "
                    f"https://127.0.0.1:{https.server_address[1]} {UNTRUSTED}")


@pytest.mark.parametrize("protocol", ["https", "smtps"])
def test_a_certificate_for_another_host_is_a_failure_naming_the_mismatch(
    protocol: str, pki: Pki, trusted: Path, tmp_path: Path
) -> None:
    """A certificate of the trusted authority, for mail.other.example, served on 127.0.0.1."""
    if protocol == "https":
        recorder: HttpRecorder | SmtpRecorder = HttpRecorder(context=pki.server_context(pki.elsewhere))
        channel, variable, url = WEBHOOK, "TEST_ALERT_WEBHOOK", recorder.url()
    else:
        recorder = SmtpRecorder(context=pki.server_context(pki.elsewhere))
        channel, variable, url = EMAIL, "TEST_SMTP_URL", recorder.url()
    try:
        report, waits = deliver([channel], {variable: url}, tmp_path)
    finally:
        recorder.stop()
    [failure] = report.failures
    assert failure.reason == (f"the TLS certificate of {protocol}://127.0.0.1:{recorder.server_address[1]} could not "
                              "be verified: IP address mismatch, certificate is not valid for '127.0.0.1'; the URL "
                              "must name a host the certificate is issued for")
    assert waits == [] and report.pending == 1


def test_an_expired_certificate_is_a_failure_naming_it(pki: Pki, trusted: Path, tmp_path: Path) -> None:
    server = HttpRecorder(context=pki.server_context(pki.expired))
    try:
        report, waits = deliver([WEBHOOK], {"TEST_ALERT_WEBHOOK": server.url()}, tmp_path)
    finally:
        server.stop()
    [failure] = report.failures
    assert failure.reason == (f"the TLS certificate of https://127.0.0.1:{server.server_address[1]} could not be "
                              "verified: certificate has expired")
    assert waits == [] and server.posts == []


@pytest.mark.parametrize("protocol", ["https", "smtps"])
def test_tls_asked_of_a_port_that_speaks_plain_text_says_so_with_what_to_use(
    protocol: str, http: HttpRecorder, smtp: SmtpRecorder, untrusted: None, tmp_path: Path
) -> None:
    """It was `[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)`, tried three times."""
    if protocol == "https":
        port = http.server_address[1]
        report, waits = deliver([WEBHOOK], {"TEST_ALERT_WEBHOOK": f"https://127.0.0.1:{port}/hook"}, tmp_path)
        hint = "the port speaks plain text; if it is plain HTTP, the URL starts with http://"
    else:
        port = smtp.server_address[1]
        report, waits = deliver([EMAIL], {"TEST_SMTP_URL": f"smtps://bot:s3cret@127.0.0.1:{port}"}, tmp_path)
        hint = ("the port speaks plain SMTP: if it offers STARTTLS, use smtp://…:port?starttls=1 (usually port 587), "
                "else the server's TLS port (usually 465)")
    [failure] = report.failures
    assert failure.reason == f"{protocol}://127.0.0.1:{port} does not answer in TLS: {hint}"
    assert waits == [] and report.pending == 1 and http.posts == [] and smtp.logins == []


def test_starttls_asked_of_a_server_that_does_not_offer_it_says_so(smtp: SmtpRecorder, tmp_path: Path) -> None:
    """It said `does not offer SMTPUTF8, which an address with non-ASCII letters before the @
    needs: ` naming no address: smtplib's SMTPNotSupportedError was read as the SMTPUTF8 one."""
    report, waits = deliver([EMAIL], {"TEST_SMTP_URL": smtp.url("bot:s3cret@") + "?starttls=1"}, tmp_path)
    [failure] = report.failures
    assert failure.reason == (f"smtp://127.0.0.1:{smtp.server_address[1]} does not offer STARTTLS, which the URL's "
                              "?starttls=1 asks for: a port that speaks TLS from the first byte (usually 465) is "
                              "smtps://host:port")
    assert waits == [] and smtp.logins == [] and smtp.mails == []  # the password was not sent in the clear


def test_plain_smtp_asked_of_a_port_that_speaks_tls_from_the_first_byte_says_to_use_smtps(
    smtps: SmtpRecorder, tmp_path: Path
) -> None:
    """Each side waits for the other (we for a greeting, it for a handshake) until the timeout:
    it was `Connection unexpectedly closed: timed out`, with no word of TLS."""
    port = smtps.server_address[1]
    waits: list[float] = []
    report = dispatch([kpi("breach", 120)], [agreement([EMAIL])], tmp_path / "alerts.sqlite",
                      {"TEST_SMTP_URL": f"smtp://127.0.0.1:{port}"}, retry=FAST, timeout=0.3, sleep=waits.append)
    [failure] = report.failures
    assert failure.reason == (f"cannot deliver through smtp://127.0.0.1:{port}: no greeting from the server "
                              "(Connection unexpectedly closed: timed out): if the port speaks TLS from the first "
                              "byte (usually 465), the URL starts with smtps://")
    assert len(waits) == 2 and report.pending == 1  # a timeout is retried: a busy server may greet next time


# -- the receiver's TLS setup: a handshake that cannot succeed, said without OpenSSL's codes --------

THEIR_SETUP = "this is the receiver's TLS setup, which its owner must change (funnelpact has no switch for it)"


def tls_server(kind: str, context: ssl.SSLContext) -> tuple[HttpRecorder | SmtpRecorder, str, str]:
    """A receiver of `kind` (https, smtps, starttls) answering with `context`, the channel's
    variable, and the URL in it."""
    if kind == "https":
        server: HttpRecorder | SmtpRecorder = HttpRecorder(context=context)
        return server, "TEST_ALERT_WEBHOOK", server.url()
    server = SmtpRecorder(context=context, starttls=kind == "starttls")
    return server, "TEST_SMTP_URL", server.url("bot:s3cret@")


def deliver_to(variable: str, url: str, tmp_path: Path, timeout: float = 5):  # type: ignore[no-untyped-def]
    return deliver([WEBHOOK if variable == "TEST_ALERT_WEBHOOK" else EMAIL], {variable: url}, tmp_path, timeout)


def scripted_failure(answer: bytes | None, scheme: str, tmp_path: Path,
                     timeout: float = 5) -> tuple[str, list[float], int, str]:
    """A breach delivered over `scheme` (https, smtps) to a Scripted server answering `answer`:
    the reason of its one failure, the waits between tries, the alerts left pending, and the
    receiver as reasons name it."""
    server = Scripted(answer)
    try:
        report, waits = deliver_to("TEST_ALERT_WEBHOOK" if scheme == "https" else "TEST_SMTP_URL",
                                   server.url(scheme), tmp_path, timeout)
    finally:
        server.stop()
    [failure] = report.failures
    return failure.reason, waits, report.pending, where(server.url(scheme))


def where(url: str) -> str:
    return url.replace("bot:s3cret@", "").removesuffix("/hook").removesuffix("?starttls=1")


def old_tls(pki: Pki) -> ssl.SSLContext:
    """A server speaking TLS 1.0 and 1.1 only, as an old appliance or mail relay does (OpenSSL 3
    lets a server speak them at security level 0 only; Python warns that they are deprecated)."""
    context = pki.server_context()
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    return context


# A server's TLS 1.0 ServerHello (cipher AES128-SHA) whatever it was offered, as old servers answer,
# where OpenSSL's refuses with an alert.
_BODY = struct.pack(">H", 0x0301) + bytes(32) + b"\x00" + struct.pack(">H", 0x002F) + b"\x00"
_HELLO = b"\x02" + struct.pack(">I", len(_BODY))[1:] + _BODY
TLS_1_0_SERVER_HELLO = b"\x16\x03\x01" + struct.pack(">H", len(_HELLO)) + _HELLO


@pytest.mark.parametrize("kind", ["https", "smtps", "starttls"])
def test_a_server_speaking_only_tls_1_1_or_older_says_so_and_is_not_retried(
    kind: str, pki: Pki, trusted: Path, tmp_path: Path
) -> None:
    """It was `cannot reach …: [SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version
    (_ssl.c:1006)`, tried three times: waiting does not update a server."""
    server, variable, url = tls_server(kind, old_tls(pki))
    try:
        report, waits = deliver_to(variable, url, tmp_path)
    finally:
        server.stop()
    [failure] = report.failures
    assert failure.reason == (f"{where(url)} speaks no TLS version funnelpact accepts: it offers TLS 1.1 or older, "
                              "funnelpact takes TLS 1.2 and 1.3 (the older ones are retired, RFC 8996); " + THEIR_SETUP)
    assert waits == [] and report.pending == 1
    assert getattr(server, "posts", None) in (None, []) and getattr(server, "logins", None) in (None, [])


@pytest.mark.parametrize("scheme", ["https", "smtps"])
def test_a_server_answering_in_tls_1_0_whatever_it_is_offered_says_so_too(
    scheme: str, trusted: Path, tmp_path: Path
) -> None:
    """OpenSSL's reason is another (`[SSL: UNSUPPORTED_PROTOCOL] unsupported protocol`)."""
    reason, waits, pending, at = scripted_failure(TLS_1_0_SERVER_HELLO, scheme, tmp_path)
    assert reason.startswith(f"{at} speaks no TLS version funnelpact accepts: it offers TLS 1.1 or older")
    assert waits == [] and pending == 1


@pytest.mark.parametrize("kind", ["https", "smtps", "starttls"])
def test_a_server_offering_no_cipher_funnelpact_accepts_says_what_is_accepted_and_is_not_retried(
    kind: str, pki: Pki, trusted: Path, tmp_path: Path
) -> None:
    """A TLS 1.2 server offering AES128-SHA only (RSA key exchange, SHA-1), which Python's
    defaults refuse: it was `[SSL: SSLV3_ALERT_HANDSHAKE_FAILURE] sslv3 alert handshake failure
    (_ssl.c:1006)`, tried three times."""
    context = pki.server_context()
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("AES128-SHA")
    server, variable, url = tls_server(kind, context)
    try:
        report, waits = deliver_to(variable, url, tmp_path)
    finally:
        server.stop()
    [failure] = report.failures
    assert failure.reason == (
        f"{where(url)} ended the TLS handshake (sslv3 alert handshake failure): most likely it offers none "
        "of the ciphers funnelpact accepts: TLS 1.3, or TLS 1.2 with ECDHE or DHE key exchange and AES-GCM, ChaCha20 "
        "or AES-CBC with SHA-256/384, not RSA key exchange or SHA-1 (AES128-SHA and the like); " + THEIR_SETUP)
    assert waits == [] and report.pending == 1
    deadline = time.monotonic() + 5  # the server's thread may record its side after the client's
    while not server.errors and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "no shared cipher" in str(server.errors[0])  # what the server made of it
    assert getattr(server, "posts", None) in (None, []) and getattr(server, "logins", None) in (None, [])


@pytest.mark.parametrize("scheme", ["https", "smtps"])
@pytest.mark.parametrize(("answer", "expected"), [
    (b"", "the TLS connection to {where} was cut off: the server closed it (EOF occurred in violation of protocol)"),
    (INTERNAL_ERROR_ALERT, "TLS with {where} failed: tlsv1 alert internal error"),
], ids=["closed", "internal-error"])
def test_a_handshake_cut_off_or_failing_otherwise_reads_cleanly_and_is_retried(
    scheme: str, answer: bytes, expected: str, trusted: Path, tmp_path: Path
) -> None:
    """A server closing the connection mid-handshake (restarting, a balancer dropping it) or
    answering its own error may do better a moment later: retried, as a connection error is,
    without OpenSSL's `[SSL: …]` code and `(_ssl.c:…)` line."""
    reason, waits, pending, at = scripted_failure(answer, scheme, tmp_path)
    assert reason == expected.format(where=at)
    assert waits == [0.01, 0.02] and pending == 1


@pytest.mark.parametrize("scheme", ["https", "smtps"])
def test_a_handshake_the_server_never_answers_times_out_in_words_and_is_retried(
    scheme: str, trusted: Path, tmp_path: Path
) -> None:
    """ssl's own words were `_ssl.c:989: The handshake operation timed out`, its C file and line
    quoted as the reason. A busy server may answer on the next try: retried."""
    reason, waits, pending, at = scripted_failure(None, scheme, tmp_path, timeout=0.3)
    assert reason == f"{at} did not finish the TLS handshake in time (the server is slow or overloaded)"
    assert waits == [0.01, 0.02] and pending == 1


def test_a_server_that_agrees_to_starttls_and_goes_on_in_plain_text_is_named_so(pki: Pki, trusted: Path,
                                                                                 tmp_path: Path) -> None:
    """The hint was to add `?starttls=1`, which the URL already had. Nothing is sent in the clear."""
    smtp = SmtpRecorder(context=pki.server_context(), starttls=True)
    smtp.plain_after_starttls = True
    try:
        report, waits = deliver([EMAIL], {"TEST_SMTP_URL": smtp.url("bot:s3cret@")}, tmp_path)
    finally:
        smtp.stop()
    [failure] = report.failures
    assert failure.reason == (f"{where(smtp.url())} does not answer in TLS: the server agreed to STARTTLS and "
                              "then went on in plain text: a broken server, or something between that strips "
                              "STARTTLS")
    assert waits == [] and (smtp.logins, smtp.mails) == ([], [])


# -- mutual TLS: a server that asks for a client certificate, which funnelpact does not send -------

CLIENT_CERTIFICATE = "asks for a client certificate (mutual TLS), which funnelpact does not send; " + THEIR_SETUP
@pytest.mark.parametrize("version", TLS_VERSIONS)
@pytest.mark.parametrize("kind", ["https", "smtps", "starttls"])
def test_a_server_requiring_a_client_certificate_says_so_and_is_not_retried(
    kind: str, version: ssl.TLSVersion, pki: Pki, trusted: Path, tmp_path: Path
) -> None:
    """TLS 1.2 said `ended the TLS handshake (sslv3 alert handshake failure): most likely it offers
    none of the ciphers funnelpact accepts` (OpenSSL's alert is the same); TLS 1.3, where the
    server's alert comes after the client's side of the handshake is done, said `TLS with … failed:
    tlsv13 alert certificate required`, `Connection unexpectedly closed: …` or `Server not
    connected` (the server closed before the EHLO was sent), tried three times: retrying cannot
    make funnelpact send a certificate."""
    server, variable, url = tls_server(kind, pki.asking_for_a_client_certificate(version))
    try:
        report, waits = deliver_to(variable, url, tmp_path)
    finally:
        server.stop()
    [failure] = report.failures
    assert failure.reason == f"{where(url)} {CLIENT_CERTIFICATE}"
    assert waits == [] and report.pending == 1
    assert getattr(server, "posts", None) in (None, []) and getattr(server, "mails", None) in (None, [])
    assert "peer did not return a certificate" in str(server.errors[0])  # what the server made of it


@pytest.mark.parametrize("version", TLS_VERSIONS)
@pytest.mark.parametrize("kind", ["https", "smtps", "starttls"])
def test_a_server_that_asks_for_a_client_certificate_but_does_without_one_is_delivered_to(
    kind: str, version: ssl.TLSVersion, pki: Pki, trusted: Path, tmp_path: Path
) -> None:
    """Asked for, optional (CERT_OPTIONAL): the alert is delivered without one, as before."""
    server, variable, url = tls_server(kind, pki.asking_for_a_client_certificate(version, ssl.CERT_OPTIONAL))
    try:
        report, _ = deliver_to(variable, url, tmp_path)
    finally:
        server.stop()
    assert (report.sent, report.failures) == (1, [])
    assert len(getattr(server, "posts", None) or getattr(server, "mails", None) or []) == 1
