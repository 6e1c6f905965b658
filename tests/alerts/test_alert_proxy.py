"""Alerts behind an HTTP proxy, as a company's machines reach the internet: Slack and webhooks
through the proxy that HTTPS_PROXY / HTTP_PROXY name (an https tunnel with CONNECT, a plain
http request forwarded), NO_PROXY to go around it, e-mail never through it. A real proxy on
loopback (tests/alerts/loopback.py), no mocks."""

from __future__ import annotations

import base64
import ssl
from pathlib import Path

import pytest

from pipelines.alerts import dispatch
from pipelines.alerts.channels.slack import slack_payload

from .loopback import (EMAIL, FAST, INTERNAL_ERROR_ALERT, SLACK, TLS_VERSIONS, WEBHOOK, HttpRecorder, Pki, ProxyRecorder, Scripted,
                       SmtpRecorder, agreement, free_port, kpi)


def use_proxy(monkeypatch: pytest.MonkeyPatch, url: str, no_proxy: str = "") -> None:
    """`url` in HTTP_PROXY and HTTPS_PROXY, `no_proxy` in NO_PROXY (the suite's own, naming
    loopback, taken away), as a user exports them."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("HTTP_PROXY", url)
    monkeypatch.setenv("HTTPS_PROXY", url)
    if no_proxy:
        monkeypatch.setenv("NO_PROXY", no_proxy)


def deliver(channels: list[dict], env: dict[str, str], tmp_path: Path):  # type: ignore[no-untyped-def]
    """One breach dispatched to `channels`: the report, and the waits between retries."""
    waits: list[float] = []
    report = dispatch([kpi("breach", 120)], [agreement(channels)], tmp_path / "alerts.sqlite", env,
                      retry=FAST, timeout=5, sleep=waits.append)
    return report, waits


def test_a_webhook_over_http_and_slack_over_https_go_through_the_proxy_and_arrive_intact(
    proxy: ProxyRecorder, http: HttpRecorder, https: HttpRecorder, trusted: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The variables are read when the alert is sent, as the channels' own are: the proxy set in
    the environment after the process started is the one used."""
    use_proxy(monkeypatch, proxy.url("proxy%40acme:pa55:word@"))
    report, _ = deliver([SLACK, WEBHOOK], {"TEST_SLACK_WEBHOOK": https.url("/services/T0/B0/token"),
                                           "TEST_ALERT_WEBHOOK": http.url("/alerts")}, tmp_path)
    assert (report.sent, report.failures) == (2, [])
    [event] = report.alerts
    # https in a CONNECT tunnel (TLS end to end, the certificate checked), http as an absolute URI.
    assert sorted((p.method, p.target) for p in proxy.proxied) == [
        ("CONNECT", f"127.0.0.1:{https.server_address[1]}"), ("POST", http.url("/alerts"))]
    login = "Basic " + base64.b64encode(b"proxy@acme:pa55:word").decode()
    assert {p.headers.get("Proxy-Authorization") for p in proxy.proxied} == {login}
    [slack] = https.posts
    assert slack.json() == slack_payload(event) and "Proxy-Authorization" not in slack.headers
    [hook] = http.posts
    assert (hook.path, hook.json(), hook.headers["Idempotency-Key"]) == ("/alerts", event.to_dict(), event.alert_id)


def test_no_proxy_naming_the_receiver_s_host_goes_around_the_proxy(
    proxy: ProxyRecorder, http: HttpRecorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A receiver on this machine or the company's network: urllib, like curl, sends even
    http://127.0.0.1 through the proxy unless NO_PROXY names the host."""
    use_proxy(monkeypatch, proxy.url(), no_proxy=".corp.example, 127.0.0.1")
    report, _ = deliver([WEBHOOK], {"TEST_ALERT_WEBHOOK": http.url()}, tmp_path)
    assert (report.sent, proxy.proxied, len(http.posts)) == (1, [], 1)

    monkeypatch.setenv("NO_PROXY", ".corp.example")  # another host: through the proxy
    report, _ = deliver([WEBHOOK], {"TEST_ALERT_WEBHOOK": http.url()}, tmp_path / "again")
    assert (report.sent, [p.method for p in proxy.proxied], len(http.posts)) == (1, ["POST"], 2)



@pytest.mark.parametrize(("scheme", "no_proxy"), [
    ("http", "127.0.0.0/8"), ("https", "10.0.0.0/8, 127.0.0.1/32"),
    ("http", "10.0.0.0/33,127.0.0.0/8"),  # an entry that is no range matches nothing, and breaks nothing
])
def test_no_proxy_listing_a_range_the_receiver_s_address_is_in_goes_around_the_proxy(
    scheme: str, no_proxy: str, proxy: ProxyRecorder, request: pytest.FixtureRequest, trusted: Path,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It went through the proxy: urllib compares NO_PROXY's entries as text, so a range matched
    nothing. curl (7.86 and later) and requests honour ranges for a receiver written as an address."""
    receiver: HttpRecorder = request.getfixturevalue(scheme)
    use_proxy(monkeypatch, proxy.url(), no_proxy=no_proxy)
    report, _ = deliver([WEBHOOK], {"TEST_ALERT_WEBHOOK": receiver.url()}, tmp_path)
    assert (report.sent, proxy.proxied, len(receiver.posts)) == (1, [], 1)


@pytest.mark.parametrize("host", ["2130706433", "127.1", "0x7f000001"])
@pytest.mark.parametrize("no_proxy", ["127.0.0.0/8", "127.0.0.1"])
def test_no_proxy_matches_an_ipv4_address_written_in_another_form_as_the_address_it_is(
    host: str, no_proxy: str, proxy: ProxyRecorder, http: HttpRecorder, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """http://2130706433:8080/hook connects to 127.0.0.1 (the system reads the host as inet_aton
    does), and curl matches it so, but it went through the proxy: only 127.0.0.1 written so matched."""
    use_proxy(monkeypatch, proxy.url(), no_proxy=no_proxy)
    report, _ = deliver([WEBHOOK], {"TEST_ALERT_WEBHOOK": http.url(host=host)}, tmp_path)
    assert (report.sent, proxy.proxied, len(http.posts)) == (1, [], 1)


@pytest.mark.parametrize(("no_proxy", "host"), [
    ("10.0.0.0/8", "127.0.0.1"), ("10.0.0.0/33", "127.0.0.1"),
    ("127.0.0.0/8", "localhost"),  # a name is not resolved to match a range, as for curl and requests
])
def test_a_range_the_receiver_s_address_is_not_in_or_a_receiver_named_by_name_keeps_the_proxy(
    no_proxy: str, host: str, proxy: ProxyRecorder, http: HttpRecorder, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_proxy(monkeypatch, proxy.url(), no_proxy=no_proxy)
    report, _ = deliver([WEBHOOK], {"TEST_ALERT_WEBHOOK": http.url(host=host)}, tmp_path)
    assert (report.sent, [p.method for p in proxy.proxied], len(http.posts)) == (1, ["POST"], 1)


@pytest.mark.parametrize(("no_proxy", "direct"), [("::1", True), ("0:0::1/128", True), ("fd00::/8", False)])
def test_no_proxy_matches_an_ipv6_receiver_by_its_address_or_range(
    no_proxy: str, direct: bool, proxy: ProxyRecorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """http://[::1]:8080/hook went through the proxy with NO_PROXY=::1: urllib compared `[::1]`,
    brackets and all, with `::1`."""
    receiver = HttpRecorder(address="::1")
    use_proxy(monkeypatch, proxy.url(), no_proxy=no_proxy)
    try:
        report, _ = deliver([WEBHOOK], {"TEST_ALERT_WEBHOOK": receiver.url(host="[::1]")}, tmp_path)
    finally:
        receiver.stop()
    assert (report.sent, [p.method for p in proxy.proxied], len(receiver.posts)) == (1, [] if direct else ["POST"], 1)


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_proxy_that_is_down_is_a_retried_failure_naming_it_without_its_credentials(
    scheme: str, request: pytest.FixtureRequest, trusted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It said `cannot reach http://127.0.0.1:…: Connection refused`, naming the receiver, which was
    up: the proxy was not."""
    receiver: HttpRecorder = request.getfixturevalue(scheme)
    dead = free_port()
    use_proxy(monkeypatch, f"http://alice:pa55word@127.0.0.1:{dead}")
    report, waits = deliver([WEBHOOK], {"TEST_ALERT_WEBHOOK": receiver.url()}, tmp_path)
    [failure] = report.failures
    assert failure.reason == (f"cannot reach {scheme}://127.0.0.1:{receiver.server_address[1]} through the proxy "
                              f"http://127.0.0.1:{dead} ({scheme.upper()}_PROXY): [Errno 111] Connection refused")
    assert waits == [0.01, 0.02] and report.pending == 1  # a proxy restarting: retried, then kept
    assert receiver.posts == []


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("credentials", ["", "alice:wrong-pa55@"])
def test_a_proxy_asking_for_a_login_is_a_failure_saying_so_not_retried_within_the_run(
    scheme: str, credentials: str, proxy: ProxyRecorder, request: pytest.FixtureRequest, trusted: Path,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """407 Proxy Authentication Required: waiting does not fix a login. Over https urllib raises
    `Tunnel connection failed: 407 …` (retried as a connection error), over http an HTTP 407
    that was reported as the receiver's answer."""
    receiver: HttpRecorder = request.getfixturevalue(scheme)
    proxy.status = 407
    use_proxy(monkeypatch, proxy.url(credentials))
    report, waits = deliver([WEBHOOK], {"TEST_ALERT_WEBHOOK": receiver.url()}, tmp_path)
    [failure] = report.failures
    what = (f"refused the user and password {scheme.upper()}_PROXY holds" if credentials else
            f"asks for a user and password: put them in {scheme.upper()}_PROXY, http://user:password@host:port "
            "(percent-encoded; Basic authentication only)")
    assert failure.reason == (f"the proxy {proxy.url()} ({scheme.upper()}_PROXY) {what} "
                              f"(407 Proxy Authentication Required, for {scheme}://127.0.0.1:"
                              f"{receiver.server_address[1]})")
    assert "wrong-pa55" not in failure.reason and "alice" not in failure.reason
    assert waits == [] and report.pending == 1 and receiver.posts == []


@pytest.mark.parametrize(("answer", "reason"), [
    (b"", "the TLS connection to {where} through {via} was cut off: the server or the proxy closed it (EOF "
          "occurred in violation of protocol)"),
    (INTERNAL_ERROR_ALERT, "TLS with {where} through {via} failed: tlsv1 alert internal error"),
], ids=["closed", "internal-error"])
def test_a_tls_handshake_failing_through_the_proxy_names_the_proxy(
    answer: bytes, reason: str, proxy: ProxyRecorder, trusted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It read `the TLS connection to https://… was cut off: the server closed it`, with no word of
    the proxy the tunnel went through (which may be the one that closed it); before TLS failures
    were read, it said `cannot reach https://… through the proxy …`."""
    receiver = Scripted(answer)
    use_proxy(monkeypatch, proxy.url("alice:pa55word@"))
    try:
        report, waits = deliver([WEBHOOK], {"TEST_ALERT_WEBHOOK": receiver.url("https")}, tmp_path)
    finally:
        receiver.stop()
    [failure] = report.failures
    assert failure.reason == reason.format(where=f"https://127.0.0.1:{receiver.server_address[1]}",
                                           via=f"the proxy {proxy.url()} (HTTPS_PROXY)")
    assert [p.method for p in proxy.proxied] == ["CONNECT"] * 3 and waits == [0.01, 0.02]


@pytest.mark.parametrize("version", TLS_VERSIONS)
def test_a_receiver_requiring_a_client_certificate_through_the_proxy_names_the_proxy_and_is_not_retried(
    version: ssl.TLSVersion, proxy: ProxyRecorder, pki: Pki, trusted: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Mutual TLS through the CONNECT tunnel: said as without a proxy, the proxy named as for the
    other TLS failures (a TLS-inspecting proxy may be the one asking)."""
    receiver = HttpRecorder(context=pki.asking_for_a_client_certificate(version))
    use_proxy(monkeypatch, proxy.url("alice:pa55word@"))
    try:
        report, waits = deliver([WEBHOOK], {"TEST_ALERT_WEBHOOK": receiver.url()}, tmp_path)
    finally:
        receiver.stop()
    [failure] = report.failures
    assert failure.reason == (f"https://127.0.0.1:{receiver.server_address[1]} through the proxy {proxy.url()} "
                              "(HTTPS_PROXY) asks for a client certificate (mutual TLS), which funnelpact does not "
                              "send; this is the receiver's TLS setup, which its owner must change (funnelpact has "
                              "no switch for it)")
    assert [p.method for p in proxy.proxied] == ["CONNECT"] and waits == [] and receiver.posts == []


def test_e_mail_never_goes_through_an_http_proxy(
    smtp: SmtpRecorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SMTP is not HTTP: the proxy variables, even naming a proxy that is down, change nothing."""
    use_proxy(monkeypatch, f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("ALL_PROXY", f"socks5://127.0.0.1:{free_port()}")
    report, _ = deliver([EMAIL], {"TEST_SMTP_URL": smtp.url()}, tmp_path)
    assert (report.sent, report.failures, len(smtp.mails)) == (1, [], 1)


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_proxy_refusing_the_host_is_named_as_the_proxy_s_answer_not_the_receiver_s(
    scheme: str, proxy: ProxyRecorder, request: pytest.FixtureRequest, trusted: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A proxy's policy (403 to a host it does not carry): a 4xx, so not retried within the run."""
    receiver: HttpRecorder = request.getfixturevalue(scheme)
    proxy.status = 403
    use_proxy(monkeypatch, proxy.url("alice:pa55word@"))
    report, waits = deliver([WEBHOOK], {"TEST_ALERT_WEBHOOK": receiver.url()}, tmp_path)
    [failure] = report.failures
    where, via = f"{scheme}://127.0.0.1:{receiver.server_address[1]}", f"the proxy {proxy.url()} ({scheme.upper()}_PROXY)"
    assert failure.reason == {"https": f"{via} refused to carry the request to {where}: 403 Forbidden",
                              "http": f"HTTP 403 from {where} through {via}"}[scheme]
    assert waits == [] and report.pending == 1 and receiver.posts == []


def test_a_proxy_url_whose_port_is_not_a_number_is_named_as_the_variable_s_fault(
    http: HttpRecorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It was `not a URL a request can be sent to: http://127.0.0.1:…`, blaming the receiver's URL."""
    use_proxy(monkeypatch, "http://alice:pa55word@proxy.acme.example:31z8")
    report, waits = deliver([WEBHOOK], {"TEST_ALERT_WEBHOOK": http.url()}, tmp_path)
    [failure] = report.failures
    assert failure.reason == "the proxy URL in HTTP_PROXY has a port that is not a number: http://proxy.acme.example:?"
    assert waits == [] and http.posts == []
