"""What every channel shares: the delivery error, secrets from the environment, a JSON POST."""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import json
import os
import re
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import SplitResult, quote, unquote, urljoin, urlsplit

USER_AGENT = "funnelpact-alerts/1"


class DeliveryError(Exception):
    """A delivery that did not happen. `retryable` False: trying again now will not help
    (missing variable, 4xx) — the item still stays in the outbox for the next run."""

    def __init__(self, reason: str, retryable: bool = True, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.wait = wait  # seconds the receiver asked to wait before trying again (Retry-After)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A 3xx is an answer, not a hop: urllib followed a POST's 302 as a GET without the body,
    to any host, with the Authorization header — the alert counted as sent though no receiver
    got it, and the credentials went where the receiver said."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _proxy(address: str) -> tuple[str | None, str]:
    """The proxy urllib sends a request to `address` through, as its ProxyHandler picks it (the
    scheme's http_proxy/https_proxy, either case, unless NO_PROXY names the host or a range its
    address is in; the system's settings on macOS and Windows), read at send time as the
    channels' variables are, and the variable that names it. (None, "") when the request goes straight to the receiver."""
    parts = urlsplit(address)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if not proxy or urllib.request.proxy_bypass(parts.netloc) or _in_no_proxy_range(parts.hostname or ""):
        return None, ""
    variable = next((v for v in (f"{parts.scheme}_proxy", f"{parts.scheme.upper()}_PROXY") if os.environ.get(v)),
                    "the system's proxy settings")
    proxy = proxy if "://" in proxy else f"http://{proxy}"  # host:port, as urllib reads it too
    port(split_url(proxy, f"the proxy URL in {variable}"), f"the proxy URL in {variable}")
    return proxy, variable


def _in_no_proxy_range(host: str) -> bool:
    """Whether `host`, an address written in the URL (10.1.2.3, fd00::5), is in an address or range
    NO_PROXY lists (10.0.0.0/8, fd00::/8, ::1), as curl and requests read them: urllib compares
    text only, so a range matched nothing and `::1` not `[::1]`. A name is never resolved to match,
    and an entry that is no address or range (10.0.0.0/33) matches nothing, as for curl."""
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(host)
    except ValueError:
        try:  # 2130706433, 127.1, 0x7f000001: the address the connection goes to (it reads them so), as curl
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except (OSError, ValueError):  # a name
            return False
    for entry in urllib.request.getproxies_environment().get("no", "").split(","):
        try:
            if address in ipaddress.ip_network(entry.strip(), strict=False):
                return True
        except ValueError:  # a name, *, a port, or a range that is none
            continue
    return False


def _proxy_refused(proxy: str, variable: str, answer: str, target: str) -> DeliveryError:
    """The proxy's own refusal (`407 Proxy Authentication Required`; over https its answer to
    CONNECT), named as the proxy's, not the receiver's. A 407 is not retried within the run:
    waiting does not fix a login."""
    via = f"the proxy {redact(proxy)} ({variable})"
    answer = scrub(answer, proxy)
    if not answer.startswith("407"):
        return DeliveryError(f"{via} refused to carry the request to {target}: {answer}",
                             retryable=answer.startswith(("429", "5")))
    # urllib sends the proxy URL's user:password as Basic credentials, and nothing else.
    what = (f"refused the user and password {variable} holds" if urlsplit(proxy).password else
            f"asks for a user and password: put them in {variable}, http://user:password@host:port "
            "(percent-encoded; Basic authentication only)")
    return DeliveryError(f"{via} {what} ({answer}, for {target})", retryable=False)


def secret(env: Mapping[str, str], name: str, what: str) -> str:
    value = (env.get(name) or "").strip()
    if not value:
        raise DeliveryError(f"environment variable {name} is not set: it must hold {what}", retryable=False)
    return value


def split_url(url: str, what: str) -> SplitResult:
    """The URL's parts; a DeliveryError naming `what` when it cannot be parsed (an IPv6 host
    without its closing ']'): urlsplit's ValueError escaped the channel as a bug."""
    try:
        return urlsplit(url)
    except ValueError as exc:  # its text names the host part at most, no credential
        raise DeliveryError(f"{what} cannot be parsed ({exc}): expected scheme://host[:port]/path",
                            retryable=False) from None


def port(parts: SplitResult, what: str) -> int | None:
    """The URL's port; a DeliveryError naming `what` when it is not a number (urllib raises
    ValueError only when asked)."""
    try:
        return parts.port
    except ValueError:
        raise DeliveryError(f"{what} has a port that is not a number: "
                            f"{parts.scheme}://{parts.hostname or '?'}:?", retryable=False) from None


def redact(url: str) -> str:
    """scheme://host[:port] only: webhook paths and userinfo are credentials."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def scrub(text: str, url: str) -> str:
    """`text` (what a receiver answered, why a connection failed) with every credential `url`
    carries replaced by `…`: receivers echo the request in their errors ("Cannot POST
    /services/T…/B…/token", Express's default 404), or a token or the Authorization header,
    and the reason is kept in the outbox, the run's log and the command's output."""
    parts = urlsplit(url)
    pieces = set()
    for form in (url, _ascii_url(url)):  # as the variable holds it, and as it was sent
        p = urlsplit(form)
        whole = p.path + (f"?{p.query}" if p.query else "")
        # Path segments and query values of 4 characters and more: `v1` or `api` is no
        # secret, and scrubbing it would garble the answer.
        pieces |= {piece for piece in (whole, *re.split(r"[/?&=;]", whole)) if len(piece) >= 4}
    pieces |= {parts.username or "", parts.password or ""} - {""}
    pieces |= {value.split()[-1] for value in _basic_auth(parts)[1].values()}
    pieces |= {unquote(piece) for piece in pieces}
    for piece in sorted(pieces, key=len, reverse=True):  # the whole path before its segments
        if len(piece) >= WHEREVER:
            text = text.replace(piece, "…")
        else:
            # A short one only where it stands alone, not inside a longer word: an SMTP login
            # `ops:pw` made "relay denied for opsgenie" read "relay denied for …genie".
            text = re.sub(rf"(?<![0-9A-Za-z]){re.escape(piece)}(?![0-9A-Za-z])", "…", text)
    return text


# A secret this long is hidden wherever it stands, also inside other text (a token quoted
# after `%2F` in a URL encoded again, or glued to a word): it is no word by chance.
WHEREVER = 8


def retry_after(value: str | None) -> float | None:
    """The seconds a Retry-After header asks for (RFC 9110: whole seconds, or an HTTP date);
    None when there is none or it cannot be read. Slack answers a burst with 429 and the
    wait it needs: retried sooner, every attempt was refused again."""
    value = (value or "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return float(max(round((when - datetime.now(UTC)).total_seconds()), 0))


def _basic_auth(parts: SplitResult) -> tuple[str, dict[str, str]]:
    """The URL without its user:password, and that userinfo as a Basic auth header: urllib
    would read `user:pw@host` as the host's name and never connect."""
    if parts.username is None:
        return parts.geturl(), {}
    host = parts.hostname or ""
    netloc = (f"[{host}]" if ":" in host else host) + (f":{parts.port}" if parts.port else "")
    credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
    return (parts._replace(netloc=netloc).geturl(),
            {"Authorization": "Basic " + base64.b64encode(credentials).decode("ascii")})


def _ascii_url(address: str) -> str:
    """The URL with the non-ASCII characters of its path, query and fragment percent-encoded
    as UTF-8, as a browser sends them (…/alertas/señal is …/alertas/se%C3%B1al): urllib sends
    the request line as ASCII and failed with a UnicodeEncodeError. The host is left as it is:
    DNS and the Host header take its IDNA form."""
    parts = urlsplit(address)

    def encoded(text: str) -> str:
        return re.sub(r"[^\x00-\x7f]+", lambda m: quote(m.group()), text)

    return parts._replace(path=encoded(parts.path), query=encoded(parts.query),
                          fragment=encoded(parts.fragment)).geturl()


# OpenSSL's verify codes (X509_V_ERR_*): the certificate names another host (62) or address (64);
# no certificate authority this machine trusts issued it (2, 18, 19, 20, 21).
_MISMATCH = {62, 64}
_UNKNOWN_ISSUER = {2, 18, 19, 20, 21}
# OpenSSL's reasons when the server speaks only TLS 1.1 or older: its alert refusing the versions
# offered, or its answer in a version refused (an old server that ignores what it is offered).
_OLD_PROTOCOL = {"TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL"}
# The server's alert when it finds nothing in the offer it can take: most often a cipher.
_NO_SHARED_CIPHER = {"SSLV3_ALERT_HANDSHAKE_FAILURE", "TLSV1_ALERT_INSUFFICIENT_SECURITY", "NO_CIPHERS_AVAILABLE"}
# What create_default_context() offers (Python 3.10 and later), said for the receiver's owner.
_ACCEPTED_TLS = ("TLS 1.3, or TLS 1.2 with ECDHE or DHE key exchange and AES-GCM, ChaCha20 or AES-CBC with "
                 "SHA-256/384, not RSA key exchange or SHA-1 (AES128-SHA and the like)")
_THEIR_SETUP = "this is the receiver's TLS setup, which its owner must change (funnelpact has no switch for it)"


def tls_context() -> ssl.SSLContext:
    """`ssl.create_default_context()` that notes, in its `client_certificate_asked`, whether the
    server asked for a client certificate (a CertificateRequest in the handshake). funnelpact sends
    none, and a server that requires one says so in no error of its own: in TLS 1.2 its alert is
    `handshake failure`, as for no shared cipher; in TLS 1.3 the client's side of the handshake is
    done before the server refuses it, so the refusal is an alert on the first read, or the
    connection closed or reset before that alert is read (`Server not connected`). One context
    per connection: the note is that connection's. Python shows the handshake's messages only to
    its `_msg_callback` (a debugging hook, in Python since 3.8); without it the note stays False,
    and a TLS 1.3 alert `certificate required` is still read as what it is."""
    context = ssl.create_default_context()
    context.client_certificate_asked = False  # type: ignore[attr-defined]

    def note(conn: object, direction: str, version: object, content_type: object, msg_type: object,
             data: bytes) -> None:
        if (direction == "read" and content_type == ssl._TLSContentType.HANDSHAKE  # type: ignore[attr-defined]
                and msg_type == ssl._TLSMessageType.CERTIFICATE_REQUEST):  # type: ignore[attr-defined]
            context.client_certificate_asked = True  # type: ignore[attr-defined]

    with contextlib.suppress(AttributeError):  # a Python without the hook
        context._msg_callback = note  # type: ignore[attr-defined]
    return context


def tls_failure(exc: BaseException, where: str, plain_hint: str, through: str = "",
                context: ssl.SSLContext | None = None) -> DeliveryError | None:
    """A TLS failure said so that a user can act on it, or None when `exc` is not one. What the
    receiver's setup causes is not retried within the run: waiting does not make a certificate
    trusted, a plain port speak TLS, an old server a new one or funnelpact send a client
    certificate (they were retried as connection errors, three tries for the same `[SSL: …] …
    (_ssl.c:…)` text). A connection cut off, or a failure not known here (the server's internal
    error), is retried: it may pass. `through` (` through the proxy …`) names the proxy the
    handshake went through: it, not the receiver, may have cut it off or answered it (a
    TLS-inspecting one). `context`, a `tls_context()`, says whether the server asked for a
    client certificate."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        why = (exc.verify_message or exc.reason or "").rstrip(".")
        reason = f"the TLS certificate of {where} could not be verified: {why}"
        if exc.verify_code in _MISMATCH:
            reason += "; the URL must name a host the certificate is issued for"
        elif exc.verify_code in _UNKNOWN_ISSUER:
            reason += ("; if your company's own certificate authority (or a TLS-inspecting proxy) issued it, set "
                       "SSL_CERT_FILE to a PEM file holding that authority's certificate (docs/alerts.md, TLS and "
                       "certificates)")
        return DeliveryError(reason, retryable=False)
    if isinstance(exc, TimeoutError) and "handshake" in str(exc):
        # ssl's own words name its C file (`_ssl.c:989: The handshake operation timed out`).
        # A busy server may answer in time on the next try.
        return DeliveryError(f"{where}{through} did not finish the TLS handshake in time (the server is slow "
                             "or overloaded)")
    # smtplib says what it met in an SMTPServerDisconnected of its own, raised while handling it.
    met = (exc, exc.__context__)
    asked = getattr(context, "client_certificate_asked", False)
    if any(isinstance(e, ssl.SSLError) and e.reason == "TLSV13_ALERT_CERTIFICATE_REQUIRED" for e in met) or (
            asked and isinstance(exc, OSError) and not any(isinstance(e, TimeoutError) for e in met)):
        # Asked for a certificate, then the connection failed (the server's alert, closed, reset):
        # a server that does without one goes on. A timeout is a slow server's, as below.
        return DeliveryError(f"{where}{through} asks for a client certificate (mutual TLS), which funnelpact does "
                             f"not send; {_THEIR_SETUP}", retryable=False)
    if not isinstance(exc, ssl.SSLError):
        return None
    if exc.reason == "WRONG_VERSION_NUMBER":
        # What OpenSSL makes of a plain-text answer ("220 …", "HTTP/1.0 400") read as TLS.
        return DeliveryError(f"{where} does not answer in TLS: {plain_hint}", retryable=False)
    if exc.reason in _OLD_PROTOCOL:
        return DeliveryError(f"{where}{through} speaks no TLS version funnelpact accepts: it offers TLS 1.1 or "
                             "older, funnelpact takes TLS 1.2 and 1.3 (the older ones are retired, RFC 8996); "
                             + _THEIR_SETUP, retryable=False)
    # OpenSSL's words without its code and source line: `[SSL: X] words (_ssl.c:1006)` is `words`.
    words = re.sub(r"^\[SSL: \w+\] | \(_ssl\.c:\d+\)$", "", str(exc))
    if exc.reason in _NO_SHARED_CIPHER:
        return DeliveryError(f"{where}{through} ended the TLS handshake ({words}): most likely it offers none "
                             f"of the ciphers funnelpact accepts: {_ACCEPTED_TLS}; {_THEIR_SETUP}", retryable=False)
    if isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError)):
        # The connection closed under TLS: a server restarting, a balancer dropping it.
        closer = "the server or the proxy" if through else "the server"
        return DeliveryError(f"the TLS connection to {where}{through} was cut off: {closer} closed it ({words})")
    return DeliveryError(f"TLS with {where}{through} failed: {words}")


def post_json(url: str, body: Any, timeout: float, headers: Mapping[str, str] | None = None) -> str:
    parts = split_url(url, "the URL")
    port(parts, "the URL")  # before redact(), which reads it
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryError(f"not an http(s) URL: {redact(url)}", retryable=False)
    address, auth = _basic_auth(parts)
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        _ascii_url(address),
        data=data,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
                 **auth, **(headers or {})},
    )
    target = redact(url)
    proxy, variable = _proxy(address)
    through = f" through the proxy {redact(proxy)} ({variable})" if proxy else ""

    def hidden(text: str) -> str:
        """`text` without the receiver's secrets, or the proxy's credentials."""
        text = scrub(text, url)
        return scrub(text, proxy) if proxy else text

    if re.search(r"[\x00-\x20\x7f]", address):
        # http.client refuses it with an InvalidURL that quotes the path, token and all.
        raise DeliveryError(f"the URL holds a space or a control character, which a request cannot carry: "
                            f"{target} (percent-encode it, e.g. a space as %20)", retryable=False)
    # Built per request with the proxy chosen above (urllib's default reads the variables once,
    # when the opener is made), so that a reason names the proxy the request went to.
    # http.client's own context for HTTP/1.1 offers ALPN and post-handshake authentication: so does this one.
    context = tls_context()
    context.set_alpn_protocols(["http/1.1"])
    context.post_handshake_auth = True
    opener = urllib.request.build_opener(_NoRedirect, urllib.request.ProxyHandler({parts.scheme: proxy} if proxy else {}),
                                         urllib.request.HTTPSHandler(context=context))
    try:
        with opener.open(request, timeout=timeout) as response:
            response.read(4096)
            return f"HTTP {response.status} from {target}"
    except urllib.error.HTTPError as exc:
        if exc.code == 407 and proxy:  # plain http: the proxy answers in the receiver's place
            raise _proxy_refused(proxy, variable, f"407 {exc.reason}", target) from None
        if 300 <= exc.code < 400:  # the new address may hold a new token: its host only
            location = exc.headers.get("Location") if exc.headers else None
            try:
                moved = redact(urljoin(address, location)) if location else "another address"
            except ValueError:  # a Location whose port is not a number
                moved = "another address"
            raise DeliveryError(f"HTTP {exc.code} from {target}: the receiver redirects to {moved}; set the "
                                "variable to the address the receiver's owner gives", retryable=False) from None
        # Scrubbed before it is cut to 200 characters: cut first, a token the cut split in two
        # kept its first half, which no longer matched and was quoted.
        detail = hidden(exc.read(4096).decode("utf-8", "replace")).strip()[:200].strip()
        # 429 and 5xx are the receiver's passing trouble; other 4xx mean our URL or body is wrong.
        retryable = exc.code == 429 or exc.code >= 500
        wait = retry_after(exc.headers.get("Retry-After") if exc.headers else None) if retryable else None
        raise DeliveryError(f"HTTP {exc.code} from {target}{through}" + (f": {detail}" if detail else "")
                            + (f" (Retry-After: {wait:g} s)" if wait is not None else ""), retryable, wait) from None
    except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(reason, BaseException):
            tls = tls_failure(reason, target,
                              "the port speaks plain text; if it is plain HTTP, the URL starts with http://", through,
                              context)
            if tls:
                raise tls from None
        # https through a proxy: http.client's text when the proxy refuses the CONNECT.
        if proxy and str(reason).startswith("Tunnel connection failed: "):
            raise _proxy_refused(proxy, variable, str(reason).split(": ", 1)[1], target) from None
        raise DeliveryError(f"cannot reach {target}{through}: {hidden(str(reason))}") from None
    except ValueError:  # http.client's InvalidURL, a host name IDNA cannot write: their text quotes the URL
        raise DeliveryError(f"not a URL a request can be sent to: {target}", retryable=False) from None
