"""Slack incoming webhook: Block Kit blocks that read well on a phone, plus the `text` fallback
that notifications and old clients show."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipelines.alerts.channels.base import post_json, secret
from pipelines.alerts.events import AlertEvent

ICONS = {"breach": ":red_circle:", "at_risk": ":large_orange_circle:", "recovered": ":large_green_circle:"}


def escape(text: str) -> str:
    """Slack reads <...> as links and mentions: `conversion:lead->mql` and
    `Marta <marta@acme.example>` must arrive as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(event: AlertEvent) -> dict[str, Any]:
    facts = {k: escape(v) for k, v in event.facts()}
    fields = [
        f"*KPI*\n`{facts['KPI']}`",
        f"*Month*\n{facts['Month']}",
        f"*Target*\n{facts['Target']}",
        f"*Actual*\n{facts['Actual']}",
        f"*Gap*\n{facts['Gap']}",
        f"*Severity*\n{facts['Severity']}",
        f"*Owner*\n{facts['Owner']}",
        f"*Status*\n{facts['Status']}",
    ]
    return {
        "text": escape(event.text()),
        "blocks": [
            # Header text is plain_text, at most 150 characters.
            {"type": "header", "text": {"type": "plain_text", "text": event.title()[:150], "emoji": True}},
            {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"{ICONS.get(event.kind, '')} agreement *{escape(event.agreement)}*, revision *{escape(event.revision)}*"
                        f" · detected {event.detected_at}",
                    }
                ],
            },
        ],
    }


def send_slack(event: AlertEvent, settings: Mapping[str, Any], env: Mapping[str, str], timeout: float) -> str:
    url = secret(env, settings["webhook_url_env"], "the Slack incoming-webhook URL")
    return post_json(url, slack_payload(event), timeout)
