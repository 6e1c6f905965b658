"""Real collaborators on loopback: an HTTP server that records POSTs (Slack, webhook) and a
small SMTP server on stdlib socketserver that records messages. No mocks, no internet."""

from __future__ import annotations

import base64
import email
import email.policy
import json
import socket
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pipelines.agreement.model import Agreement
from pipelines.alerts import KpiStatus, RetryPolicy

# Fast but real: three attempts, doubling from 10 ms.
FAST = RetryPolicy(attempts=3, base_delay=0.01, factor=2, max_delay=0.05)


def free_port() -> int:
    """A loopback port nobody listens on (yet): connecting to it is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


class HttpRecorder(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _HttpHandler)
        self.posts: list[Post] = []
        self.gets: list[Post] = []
        self.status = 200
        # The body of an error answer; a test replaces it (e.g. a receiver that echoes the request).
        self.headers: dict[str, str] = {}  # more headers of every answer (a redirect's Location)
        self.answer: Callable[[BaseHTTPRequestHandler], str] = lambda handler: "server trouble"
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


# -- SMTP ------------------------------------------------------------------------------------

@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        return body.get_content()


class _SmtpHandler(socketserver.StreamRequestHandler):
    server: SmtpRecorder

    def reply(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 127.0.0.1 test ESMTP")
        sender, recipients = "", []
        while line := self.rfile.readline():
            command = line.decode("utf-8", "replace").rstrip("\r\n")
            verb = command[:4].upper()
            if verb == "EHLO":
                self.reply("250-127.0.0.1\r\n250-AUTH PLAIN\r\n250 8BITMIME")
            elif verb == "HELO":
                self.reply("250 127.0.0.1")
            elif verb == "AUTH":
                _, user, password = base64.b64decode(command.split()[2]).decode().split("\0")
                self.server.logins.append((user, password))
                self.reply("235 ok" if password == self.server.password else "535 bad credentials")
            elif verb == "MAIL":
                sender, recipients = command.split(":", 1)[1].split()[0].strip("<>"), []
                self.reply("250 ok")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                message = email.message_from_bytes(data, policy=email.policy.default)
                self.server.mails.append(Mail(sender, recipients, message))  # type: ignore[arg-type]
                self.reply("250 queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 ok")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class SmtpRecorder(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int = 0, password: str = "s3cret") -> None:
        super().__init__(("127.0.0.1", port), _SmtpHandler)
        self.mails: list[Mail] = []
        self.logins: list[tuple[str, str]] = []
        self.password = password
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def url(self, credentials: str = "") -> str:
        return f"smtp://{credentials}127.0.0.1:{self.server_address[1]}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


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
