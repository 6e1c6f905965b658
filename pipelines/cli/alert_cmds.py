"""`funnelpact test-alerts`: send a marked test alert to every channel of the agreements."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from pipelines.cli.options import SLA_DEFAULT, sla_path
from pipelines.cli.output import console
from pipelines.errors import InputError, Problem


def register(app: typer.Typer) -> None:
    app.command(
        "test-alerts",
        epilog="Example: FUNNELPACT_SLACK_WEBHOOK=https://hooks.slack.com/… "
        "FUNNELPACT_SMTP_URL=smtp://127.0.0.1:1025 funnelpact test-alerts --revision 2026-h2 "
        "(the agreements in sla/ alert Slack and e-mail: a channel whose variable is not set fails)",
    )(test_alerts)


def test_alerts(
    sla: Annotated[Path | None, typer.Option("--sla", help=f"Agreement folder or file {SLA_DEFAULT}.",
                                             show_default=False)] = None,
    revision: Annotated[str | None, typer.Option(metavar="<revision>", help="Only this revision (default: every revision).", show_default=False)] = None,
) -> None:
    """Send a test alert to every channel of the agreements, to check the set-up.

    Channel secrets come from the environment variables the agreement names. The test
    alert is marked as a test and does not touch the alert state (dedup, outbox).
    Exit code 0 when every channel delivered, 1 when one failed (a variable not set
    included), 2 for invalid agreements or an unknown --revision.

    https and smtps servers (and STARTTLS) must show a certificate the machine trusts:
    a company's own certificate authority is trusted with SSL_CERT_FILE. Slack and webhooks
    go through the proxy HTTPS_PROXY / HTTP_PROXY name, unless NO_PROXY names the host, or
    the address or a range (10.0.0.0/8) of a host written as an address (docs/alerts.md, Proxies).
    """
    from pipelines.agreement import load_agreements
    from pipelines.alerts.probe import probe

    sla = sla_path(sla)
    agreements = load_agreements(sla)
    known = sorted({a.revision for a in agreements})
    if revision is not None and revision not in known:
        raise InputError(Problem(f"no revision {revision!r} in {sla}: expected one of {', '.join(known)}",
                                 field="--revision"))
    failed = False
    for agreement in agreements:
        if revision and agreement.revision != revision:
            continue
        if not agreement.spec.alerts:
            console.print(f"{escape(agreement.name)} {escape(agreement.revision)}: no alert channels "
                          "(alerts are logged only)")
        for key, reason in probe(agreement).items():
            failed |= reason is not None
            status = "[green]sent[/]" if reason is None else f"[bold red]FAILED[/]: {escape(str(reason))}"
            console.print(f"{escape(agreement.name)} {escape(agreement.revision)} {escape(key)}: {status}")
    if failed:
        raise typer.Exit(1)
