"""Slack incoming webhook: Block Kit blocks that read well on a phone, plus the `text` fallback
that notifications and old clients show."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipelines.alerts.channels.base import post_json, secret
from pipelines.alerts.events import AlertEvent, readable

ICONS = {"breach": ":red_circle:", "at_risk": ":large_orange_circle:", "recovered": ":large_green_circle:"}


def escape(text: str) -> str:
    """Slack reads <...> as links and mentions: `conversion:lead->mql` and
    `Marta <marta@acme.example>` must arrive as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Shown on the context line under the fields, not as fields: Block Kit takes at most 10 fields
# in a section, and the facts are 11 with a forecast and an as-of.
CONTEXT_FACTS = ("Agreement", "As of")


def slack_payload(event: AlertEvent) -> dict[str, Any]:
    # Every fact the other channels show (docs/alerts.md): the fields are built from
    # event.facts(), so the forecast an at_risk stands on and the as-of of a backfilled month
    # are not left to the notification text, which Slack hides once there are blocks.
    facts = [(k, escape(v)) for k, v in event.facts()]
    fields = [f"*{k}*\n" + (f"`{v}`" if k == "KPI" else v) for k, v in facts if k not in CONTEXT_FACTS]
    as_of = dict(facts).get("As of")
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
                        + (f" · as of {as_of}" if as_of else "")
                        # Read like the as-of beside it, not as ISO's 2026-03-10T12:05:00+00:00.
                        + (f" · detected {readable(event.detected_at)}" if event.detected_at else ""),
                    }
                ],
            },
        ],
    }


def send_slack(event: AlertEvent, settings: Mapping[str, Any], env: Mapping[str, str], timeout: float) -> str:
    url = secret(env, settings["webhook_url_env"], "the Slack incoming-webhook URL")
    return post_json(url, slack_payload(event), timeout)
