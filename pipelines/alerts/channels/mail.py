"""E-mail over SMTP. The URL, from an environment variable, carries server and credentials:

    smtp://user:password@host:port             plain, port 25 by default
    smtp://user:password@host:587?starttls=1   upgrade with STARTTLS (port 587 by default)
    smtps://user:password@host:465             TLS from the first byte (port 465 by default)

User and password are percent-decoded, so a password with `@` or `:` is written `%40` / `%3A`.
"""

from __future__ import annotations

import base64
import html
import smtplib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from urllib.parse import parse_qs, unquote

from pipelines.alerts.channels.base import DeliveryError, port, scrub, secret, split_url, tls_context, tls_failure
from pipelines.alerts.digest import Part, headline, sections
from pipelines.alerts.events import AlertEvent, Notice

TRUE = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class SmtpUrl:
    host: str
    port: int
    tls: bool
    starttls: bool
    user: str | None
    password: str | None

    @property
    def where(self) -> str:
        return f"{'smtps' if self.tls else 'smtp'}://{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpUrl:
    parts = split_url(url, "the SMTP URL")
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise DeliveryError("the SMTP URL must look like smtp://user:password@host:port or smtps://…", retryable=False)
    given = port(parts, "the SMTP URL")
    try:
        parts.hostname.encode("idna")  # what the connection does with it
    except UnicodeError:  # it failed there as an "UnicodeError: encoding with 'idna' codec failed"
        raise DeliveryError(f"the SMTP URL's host {parts.hostname} is not a host name: a part between dots is empty "
                            "or longer than 63 characters", retryable=False) from None
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["0"])[-1].lower() in TRUE
    tls = parts.scheme == "smtps"
    default_port = 465 if tls else 587 if starttls else 25
    return SmtpUrl(
        host=parts.hostname,
        port=given or default_port,
        tls=tls,
        starttls=starttls and not tls,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def ascii_domain(address: str) -> str:
    """`address` with its domain in IDNA's ASCII form (revops@müller.example is
    revops@xn--mller-kva.example): a server without SMTPUTF8, most of them, refuses a
    non-ASCII domain, which any server reaches as its ASCII form."""
    local, at, domain = address.rpartition("@")
    try:
        return local + at + domain.encode("idna").decode("ascii")
    except UnicodeError:  # not a name IDNA can write: left for the server to judge
        return address


def build_message(event: Notice, sender: str, to: list[str]) -> EmailMessage:
    return _message(f"[funnelpact] {event.title()}", event.text(),
                    f"<h2>{html.escape(event.title())}</h2>{_facts_table(event)}", sender, to)


def build_digest(events: Sequence[AlertEvent], sender: str, to: list[str],
                 part: Part = None) -> EmailMessage:
    """Several alerts in one e-mail: each as its own e-mail says it, under a heading per
    agreement revision and month."""
    head = headline(events, part)
    plain, rich = [head], [f"<h2>{html.escape(head)}</h2>"]
    for heading, alerts in sections(events):
        plain.append(f"{heading}\n{'=' * len(heading)}")
        rich.append(f"<h3>{html.escape(heading)}</h3>")
        for event in alerts:
            plain.append(event.text())
            rich.append(f"<h4>{html.escape(event.title())}</h4>{_facts_table(event)}")
    return _message(f"[funnelpact] {head}", "\n\n".join(plain), "".join(rich), sender, to)


def _facts_table(event: Notice) -> str:
    rows = "".join(
        f"<tr><th align='left' style='padding:2px 12px 2px 0'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in event.facts()
    )
    return f"<table>{rows}</table>"


def _message(subject: str, text: str, body: str, sender: str, to: list[str]) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    # +0000, not formatdate()'s -0000: RFC 5322 reads -0000 as "the zone is unknown", and
    # Python's own parser returns such a Date without a zone.
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    # RFC 3834: an out-of-office reply or a mailing list's bounce must not answer an alert
    # (mail servers and clients that honour it send nothing back to the bot's address).
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text + "\n\n-- \nfunnelpact: the marketing<->sales agreement, as code.\n")
    msg.add_alternative(f"<html><body style='font-family:sans-serif'>{body}</body></html>", subtype="html")
    return msg


def _login(client: smtplib.SMTP, user: str, password: str) -> None:
    if (user + password).isascii():
        client.login(user, password)
        return
    # smtplib encodes credentials as ASCII and failed with a UnicodeEncodeError on 'contraseña';
    # AUTH PLAIN carries them as UTF-8 (RFC 4616).
    if "PLAIN" not in client.esmtp_features.get("auth", "").upper().split():
        raise smtplib.SMTPException("the server does not offer AUTH PLAIN, which a user or password "
                                    "with non-ASCII characters needs")
    response = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode("ascii")
    code, reply = client.docmd("AUTH", f"PLAIN {response}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def send_email(event: Notice, settings: Mapping[str, Any], env: Mapping[str, str], timeout: float) -> str:
    return _send(lambda sender, to: build_message(event, sender, to), settings, env, timeout)


def send_email_digest(events: Sequence[AlertEvent], settings: Mapping[str, Any], env: Mapping[str, str],
                      timeout: float, part: Part = None) -> str:
    return _send(lambda sender, to: build_digest(events, sender, to, part), settings, env, timeout)


def _send(build: Callable[[str, list[str]], EmailMessage], settings: Mapping[str, Any], env: Mapping[str, str],
          timeout: float) -> str:
    url = secret(env, settings["smtp_url_env"], "smtp://user:password@host:port")
    server = parse_smtp_url(url)
    login = url.split("?", 1)[0]  # what scrub() hides from the server's answers: ?starttls=1 is no secret
    sender = ascii_domain(settings.get("sender") or f"funnelpact@{server.host}")
    # A recipient written twice gets one e-mail: the list is a set (diff and channel_key read it so).
    to = list(dict.fromkeys(ascii_domain(address) for address in settings["to"]))
    message = build(sender, to)
    context = tls_context()
    try:
        if server.tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                server.host, server.port, timeout=timeout, context=context
            )
        else:
            try:
                client = smtplib.SMTP(server.host, server.port, timeout=timeout)
            except smtplib.SMTPServerDisconnected as exc:
                # A port that speaks TLS from the first byte waits for our handshake as we wait for
                # its greeting: the timeout alone did not say why.
                raise DeliveryError(f"cannot deliver through {server.where}: no greeting from the server ({exc}): "
                                    "if the port speaks TLS from the first byte (usually 465), the URL starts with "
                                    "smtps://") from None
        with client:
            client.ehlo()
            if server.starttls:
                if not client.has_extn("starttls"):
                    # smtplib's SMTPNotSupportedError, read as the SMTPUTF8 one below, named no reason.
                    raise DeliveryError(f"{server.where} does not offer STARTTLS, which the URL's ?starttls=1 "
                                        "asks for: a port that speaks TLS from the first byte (usually 465) is "
                                        "smtps://host:port", retryable=False)
                client.starttls(context=context)
                client.ehlo()
            if server.user:
                _login(client, server.user, server.password or "")
            refused = client.send_message(message, from_addr=sender, to_addrs=to)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"{server.where} refused the login of {server.user}: {exc.smtp_code}", False) from None
    except smtplib.SMTPNotSupportedError:
        # Trying again will not make the server offer SMTPUTF8.
        named = ", ".join(a for a in [sender, *to] if not a.isascii())
        raise DeliveryError(f"{server.where} does not offer SMTPUTF8, which an address with non-ASCII "
                            f"letters before the @ needs: {named}", False) from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"{server.where} refused every recipient: {', '.join(exc.recipients)}", False) from None
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        # Servers quote what they were told ("550 … user bot, password … may not send as …"):
        # the reason goes to the outbox, the run's log and the command's output.
        text = scrub(text, login)
        # 4xx is "try again later" in SMTP; 5xx is permanent for this message.
        raise DeliveryError(f"{server.where} answered {exc.smtp_code} {text}", exc.smtp_code < 500) from None
    except (smtplib.SMTPException, OSError) as exc:
        plain = ("the server agreed to STARTTLS and then went on in plain text: a broken server, or something "
                 "between that strips STARTTLS" if server.starttls else
                 "the port speaks plain SMTP: if it offers STARTTLS, use smtp://…:port?starttls=1 (usually port "
                 "587), else the server's TLS port (usually 465)")
        raise (tls_failure(exc, server.where, plain, context=context) or
               DeliveryError(f"cannot deliver through {server.where}: {scrub(str(exc), login) or type(exc).__name__}")) from None
    if refused:
        return f"sent through {server.where}; refused: {', '.join(refused)}"
    return f"sent through {server.where} to {len(to)} recipient(s)"
