"""Real collaborators on loopback: an HTTP server that records POSTs (Slack, webhook) and a
small SMTP server on stdlib socketserver that records messages, each also over TLS (https,
smtps, STARTTLS) with a certificate from a test certificate authority; an HTTP proxy that
records what it carried. No mocks, no internet."""

from __future__ import annotations

import base64
import email
import email.policy
import http.client
import json
import select
import socket
import socketserver
import ssl
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pipelines.agreement.model import Agreement
from pipelines.alerts import KpiStatus, RetryPolicy

# Fast but real: three attempts, doubling from 10 ms.
FAST = RetryPolicy(attempts=3, base_delay=0.01, factor=2, max_delay=0.05)


def free_port() -> int:
    """A loopback port nobody listens on (yet): connecting to it is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- TLS ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pki:
    """A test certificate authority (`ca_file`, what a user puts in SSL_CERT_FILE) and server
    certificates it issued, as PEM files holding certificate and key."""

    ca_file: Path
    loopback: Path  # for 127.0.0.1 and localhost
    elsewhere: Path  # for mail.other.example: a hostname mismatch on loopback
    expired: Path  # for 127.0.0.1, expired yesterday

    def server_context(self, cert: Path | None = None) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert or self.loopback)
        return context

    def asking_for_a_client_certificate(self, version: ssl.TLSVersion,
                                        verify_mode: ssl.VerifyMode = ssl.CERT_REQUIRED) -> ssl.SSLContext:
        """A server speaking `version` only that asks every client for a certificate of the test
        authority, and with CERT_REQUIRED refuses one without (an internal gateway, a mail relay)."""
        context = self.server_context()
        context.verify_mode = verify_mode
        context.load_verify_locations(self.ca_file)
        context.minimum_version = context.maximum_version = version
        return context


# The TLS versions a server may be limited to, as test parameters.
TLS_VERSIONS = [pytest.param(ssl.TLSVersion.TLSv1_2, id="tls1.2"), pytest.param(ssl.TLSVersion.TLSv1_3, id="tls1.3")]


def make_pki(folder: Path) -> Pki:
    """Made with the extensions a strict verifier asks for (Python 3.13 sets
    VERIFY_X509_STRICT by default): key usage and key identifiers, not a bare self-signed cert."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "funnelpact test CA")])

    def issue(subject: x509.Name, public_key: Any, extensions: list[x509.ExtensionType],
              until: datetime = now + timedelta(days=2)) -> x509.Certificate:
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_name).public_key(public_key)
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(days=3)).not_valid_after(until)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False))
        for extension in extensions:
            builder = builder.add_extension(extension, critical=isinstance(extension, (x509.BasicConstraints,
                                                                                        x509.KeyUsage)))
        return builder.sign(ca_key, hashes.SHA256())

    def usage(**on: bool) -> x509.KeyUsage:
        names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
                 "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
        return x509.KeyUsage(**{name: on.get(name, False) for name in names})

    ca = issue(ca_name, ca_key.public_key(), [x509.BasicConstraints(ca=True, path_length=None),
                                              usage(key_cert_sign=True, crl_sign=True)])
    ca_file = folder / "ca.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))

    def server(name: str, hosts: list[str], until: datetime = now + timedelta(days=2)) -> Path:
        key = ec.generate_private_key(ec.SECP256R1())
        names = [x509.IPAddress(ip_address(h)) if h[0].isdigit() else x509.DNSName(h) for h in hosts]
        cert = issue(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]), key.public_key(), [
            x509.SubjectAlternativeName(names), x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
            usage(digital_signature=True),
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())], until)
        path = folder / f"{name}.pem"
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        return path

    return Pki(ca_file, server("loopback", ["127.0.0.1", "localhost"]), server("elsewhere", ["mail.other.example"]),
               server("expired", ["127.0.0.1"], until=now - timedelta(days=1)))


class _Recorder:
    """What both servers share: a thread serving them, the errors their handlers met (a TLS
    handshake the client broke off, because it did not trust the certificate), stop()."""

    errors: list[BaseException]

    def start(self) -> None:
        self.errors = []
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},  # type: ignore[attr-defined]
                         daemon=True).start()

    def handle_error(self, request: object, client_address: object) -> None:
        self.errors.append(sys.exc_info()[1])  # type: ignore[arg-type]

    def stop(self) -> None:
        self.shutdown()  # type: ignore[attr-defined]
        self.server_close()  # type: ignore[attr-defined]


# What a Scripted server may answer a ClientHello with: TLS's fatal internal_error alert (80).
INTERNAL_ERROR_ALERT = b"\x15\x03\x03\x00\x02\x02\x50"


class Scripted(_Recorder, socketserver.ThreadingTCPServer):
    """A server that reads what a client opens with (a TLS ClientHello) and answers every
    connection with the same bytes, then closes it: what OpenSSL does not let a test's server
    say (a ServerHello in TLS 1.0, an alert of its own), or nothing at all. With `answer`
    None it says nothing and keeps the connection open until stopped (a server too busy to
    answer), so the client's timeout ends it."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, answer: bytes | None) -> None:
        stopped = self.stopped = threading.Event()

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                self.request.recv(65536)
                if answer is None:
                    stopped.wait(30)
                else:
                    self.request.sendall(answer)

        super().__init__(("127.0.0.1", 0), Handler)
        self.start()

    def url(self, scheme: str) -> str:
        return f"{scheme}://127.0.0.1:{self.server_address[1]}" + ("/hook" if scheme == "https" else "")

    def stop(self) -> None:
        self.stopped.set()
        super().stop()


# -- HTTP ------------------------------------------------------------------------------------

@dataclass
class Post:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _HttpHandler(BaseHTTPRequestHandler):
    server: HttpRecorder

    def setup(self) -> None:
        if self.server.context:  # https: the handshake in this request's thread, not the server's
            self.request = self.server.context.wrap_socket(self.request, server_side=True)
        super().setup()

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.posts.append(Post(self.path, dict(self.headers), body))
        status = self.server.status
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        for name, value in self.server.headers.items():
            self.send_header(name, value)
        payload = b"ok" if status < 400 else self.server.answer(self).encode()
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:  # noqa: N802
        """Recorded and answered 200, as most servers answer a GET: what a followed redirect makes."""
        self.server.gets.append(Post(self.path, dict(self.headers), b""))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


class HttpRecorder(_Recorder, ThreadingHTTPServer):
    """`context`: an SSLContext with the server's certificate, to answer https; `address` the
    loopback address it listens on (::1 for IPv6)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int = 0, context: ssl.SSLContext | None = None, address: str = "127.0.0.1") -> None:
        self.address_family = socket.AF_INET6 if ":" in address else socket.AF_INET  # for the socket made next
        super().__init__((address, port), _HttpHandler)
        self.context = context
        self.posts: list[Post] = []
        self.gets: list[Post] = []
        self.status = 200
        # The body of an error answer; a test replaces it (e.g. a receiver that echoes the request).
        self.headers: dict[str, str] = {}  # more headers of every answer (a redirect's Location)
        self.answer: Callable[[BaseHTTPRequestHandler], str] = lambda handler: "server trouble"
        self.start()

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"{'https' if self.context else 'http'}://{host}:{self.server_address[1]}{path}"


# -- HTTP proxy ------------------------------------------------------------------------------

@dataclass
class Proxied:
    method: str  # CONNECT (an https tunnel) or the forwarded request's (POST)
    target: str  # host:port of a CONNECT, the absolute URL of a forwarded request
    headers: dict[str, str]


class _ProxyHandler(BaseHTTPRequestHandler):
    server: ProxyRecorder

    def refused(self) -> bool:
        """Records the request; answers the proxy's `status` instead of carrying it unless 200."""
        self.server.proxied.append(Proxied(self.command, self.path, dict(self.headers)))
        if self.server.status == 200:
            return False
        self.send_response(self.server.status)
        self.send_header("Proxy-Authenticate", 'Basic realm="test proxy"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return True

    def do_CONNECT(self) -> None:  # noqa: N802 (http.server's naming)
        """A tunnel: the bytes both ways, TLS and all, until one side closes."""
        self.close_connection = True
        if self.refused():
            return
        host, _, port = self.path.rpartition(":")
        with socket.create_connection((host, int(port)), timeout=10) as upstream:
            self.send_response(200, "Connection established")
            self.end_headers()
            ends = {self.connection: upstream, upstream: self.connection}
            while True:
                ready, _, _ = select.select(list(ends), [], [], 10)
                data = [(end, end.recv(65536)) for end in ready]
                if not ready or any(not chunk for _, chunk in data):
                    return
                for end, chunk in data:
                    ends[end].sendall(chunk)

    def do_POST(self) -> None:  # noqa: N802
        """An absolute-URI request (plain http through a proxy): forwarded, the answer relayed."""
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.refused():
            return
        url = urlsplit(self.path)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-authorization", "connection")}
        upstream = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
        try:
            upstream.request("POST", url.path + (f"?{url.query}" if url.query else ""), body, headers)
            answer = upstream.getresponse()
            payload = answer.read()
        finally:
            upstream.close()
        self.send_response(answer.status, answer.reason)
        for name, value in answer.getheaders():
            if name.lower() not in ("connection", "content-length", "transfer-encoding", "server", "date"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


class ProxyRecorder(_Recorder, ThreadingHTTPServer):
    """An HTTP proxy as companies run one: CONNECT tunnels for https, absolute-URI requests
    forwarded for http. `status` 407 answers every request with Proxy Authentication Required."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.proxied: list[Proxied] = []
        self.status = 200
        self.start()

    def url(self, credentials: str = "") -> str:
        return f"http://{credentials}127.0.0.1:{self.server_address[1]}"


# -- SMTP ------------------------------------------------------------------------------------

@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage
    tls: bool = False  # received over TLS (smtps, or after STARTTLS)

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        return body.get_content()


class _SmtpHandler(socketserver.StreamRequestHandler):
    server: SmtpRecorder

    def setup(self) -> None:
        if self.server.context and not self.server.starttls:  # smtps: TLS from the first byte
            self.request = self.server.context.wrap_socket(self.request, server_side=True)
        super().setup()

    @property
    def tls(self) -> bool:
        return isinstance(self.request, ssl.SSLSocket)

    def reply(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 127.0.0.1 test ESMTP")
        sender, recipients = "", []
        while line := self.rfile.readline():
            command = line.decode("utf-8", "replace").rstrip("\r\n")
            verb = command[:4].upper()
            # A STARTTLS server offers AUTH only once the connection is encrypted, as
            # submission servers do (RFC 3207): a client must log in after STARTTLS.
            upgrade = self.server.starttls and not self.tls
            if verb == "EHLO":
                features = ["127.0.0.1", *(["STARTTLS"] if upgrade else []),
                            *([] if upgrade else ["AUTH PLAIN"]), "8BITMIME"]
                self.reply("\r\n".join(f"250{' ' if i == len(features) - 1 else '-'}{f}"
                                        for i, f in enumerate(features)))
            elif verb == "HELO":
                self.reply("250 127.0.0.1")
            elif command.upper() == "STARTTLS" and upgrade:
                self.reply("220 go ahead")
                if self.server.plain_after_starttls:  # a broken server: the ClientHello read as a command
                    self.request.recv(65536)
                    self.reply("500 unrecognised command")
                    return
                assert self.server.context
                self.request = self.server.context.wrap_socket(self.request, server_side=True)
                self.rfile.close()
                super().setup()  # rfile and wfile over TLS
                sender, recipients = "", []  # RFC 3207: all that was said before is forgotten
            elif verb == "AUTH" and not upgrade:
                _, user, password = base64.b64decode(command.split()[2]).decode().split("\0")
                self.server.logins.append((user, password))
                self.reply("235 ok" if password == self.server.password else "535 bad credentials")
            elif verb == "MAIL":
                sender, recipients = command.split(":", 1)[1].split()[0].strip("<>"), []
                self.reply(self.server.mail_answer)
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                message = email.message_from_bytes(data, policy=email.policy.default)
                self.server.mails.append(Mail(sender, recipients, message, self.tls))  # type: ignore[arg-type]
                self.reply("250 queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 ok")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class SmtpRecorder(_Recorder, socketserver.ThreadingTCPServer):
    """`context`: an SSLContext with the server's certificate; TLS from the first byte (smtps),
    or with `starttls` after the client's STARTTLS."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int = 0, password: str = "s3cret", context: ssl.SSLContext | None = None,
                 starttls: bool = False) -> None:
        super().__init__(("127.0.0.1", port), _SmtpHandler)
        self.context = context
        self.starttls = starttls
        self.mails: list[Mail] = []
        self.logins: list[tuple[str, str]] = []
        self.password = password
        self.mail_answer = "250 ok"  # to MAIL FROM; a test replaces it (a server that refuses the sender)
        self.plain_after_starttls = False  # a test sets it: agrees to STARTTLS, then answers in plain text
        self.start()

    def url(self, credentials: str = "", host: str = "127.0.0.1") -> str:
        port = self.server_address[1]
        if self.context and not self.starttls:
            return f"smtps://{credentials}{host}:{port}"
        return f"smtp://{credentials}{host}:{port}" + ("?starttls=1" if self.starttls else "")


# -- agreements and results --------------------------------------------------------------------

SLACK = {"channel": "slack", "webhook_url_env": "TEST_SLACK_WEBHOOK"}
EMAIL = {"channel": "email", "to": ["revops@acme.example"], "smtp_url_env": "TEST_SMTP_URL"}
WEBHOOK = {"channel": "webhook", "url_env": "TEST_ALERT_WEBHOOK"}
LOG = {"channel": "log"}


def agreement(alerts: list[dict[str, Any]], revision: str = "2026-h1", months: tuple[str, str] = ("2026-01", "2026-06"),
              kpis: dict[str, Any] | None = None) -> Agreement:
    return Agreement.model_validate(
        {
            "apiVersion": "funnelpact/v1",
            "kind": "Agreement",
            "metadata": {
                "name": "acme",
                "revision": revision,
                "owners": {
                    "marketing": {"name": "Marta Ruiz", "email": "marta@acme.example"},
                    "sales": {"name": "Joao Lima", "email": "joao@acme.example"},
                },
            },
            "spec": {
                "effective": {"from": months[0], "to": months[1]},
                "timezone": "America/Mexico_City",
                "currency": "USD",
                "revenue_goal": 600000,
                "average_deal_size": 12000,
                "conversion": {
                    "visit->lead": {"rate": 0.02},
                    "lead->mql": {"rate": 0.30},
                    "mql->sql": {"rate": 0.40},
                    "sql->opportunity": {"rate": 0.50},
                    "opportunity->customer": {"rate": 0.33},
                },
                "alerts": alerts,
                "kpis": kpis or {},
            },
        }
    )


def kpi(status: str, actual: float | None = 120, *, kpi: str = "volume:mql", period: str = "2026-03",
        target: float | None = 150, owner: str = "shared", severity: str = "fail", revision: str = "2026-h1",
        as_of: datetime | None = None, forecast: float | None = None) -> KpiStatus:
    return KpiStatus(
        agreement="acme", revision=revision, period=period, kpi=kpi, owner=owner,
        target=target, actual=actual, status=status, severity=severity,  # type: ignore[arg-type]
        as_of=as_of, forecast=forecast,
    )
