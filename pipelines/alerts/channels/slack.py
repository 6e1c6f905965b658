"""Slack incoming webhook: Block Kit blocks that read well on a phone, plus the `text` fallback
that notifications and old clients show."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pipelines.alerts.channels.base import post_json, secret
from pipelines.alerts.digest import Part, headline, in_order, sections
from pipelines.alerts.events import RUN_FAILURE, AlertEvent, Notice, RunFailure, readable

ICONS = {"breach": ":red_circle:", "at_risk": ":large_orange_circle:", "recovered": ":large_green_circle:",
         RUN_FAILURE: ":x:"}


def escape(text: str) -> str:
    """Slack reads <...> as links and mentions: `conversion:lead->mql` and
    `Marta <marta@acme.example>` must arrive as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Shown on the context line under the fields, not as fields: Block Kit takes at most 10 fields
# in a section, and the facts are 11 with a forecast and an as-of.
CONTEXT_FACTS = ("Agreement", "As of")

# Slack refuses (HTTP 400 invalid_blocks) a message of more than 50 blocks or a section text of
# more than 3,000 characters, and takes at most 40,000 in all. A digest is a header, a context
# line, and per month a heading and per alert a section: 10 alerts are at most 22 blocks and,
# each alert's text cut at 3,000 characters (a typical one is ~400), under 40,000. More alerts
# go in several messages of at most 10.
DIGEST_SIZE = 10
SECTION_LIMIT = 3000
# Named in a digest's headings (agreement revision and month) and in an alert's first line.
HEADED_FACTS = ("KPI", "Measure", "Month", "Agreement")


def slack_payload(event: Notice) -> dict[str, Any]:
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
                        "text": f"{ICONS.get(event.kind, '')} {_whose(event)}"
                        + (f" · as of {as_of}" if as_of else "")
                        # Read like the as-of beside it, not as ISO's 2026-03-10T12:05:00+00:00.
                        + (f" · detected {readable(event.detected_at)}" if event.detected_at else ""),
                    }
                ],
            },
        ],
    }


def _whose(event: Notice) -> str:
    """The agreement revision an alert is about, or those whose channels a failed run is told to
    (one named as an alert names its own)."""
    if not isinstance(event, RunFailure):
        return _revision(event.agreement, event.revision)
    if not event.revisions:
        return "no agreement in force"
    if len(event.revisions) == 1:
        return _revision(*event.revisions[0])
    return "agreements " + ", ".join(f"*{escape(a)} {escape(r)}*" for a, r in event.revisions)


def _revision(agreement: str, revision: str) -> str:
    return f"agreement *{escape(agreement)}*, revision *{escape(revision)}*"


def digest_payload(events: Sequence[AlertEvent], part: Part = None) -> dict[str, Any]:
    """Several alerts in one message: what each single message says, an alert per section,
    under a heading per agreement revision and month. `text`, what a notification shows, is
    the headline and each alert's title."""
    head = f"funnelpact: {headline(events, part)}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": head[:150], "emoji": True}}]
    detected = sorted({readable(e.detected_at) for e in events if e.detected_at})
    # One run judges every alert as of one instant: said once, not on each alert.
    as_of = {e.as_of for e in events}
    shared = readable(as_of.pop()) if len(as_of) == 1 and "" not in as_of else None
    context = ([f"detected {' to '.join(dict.fromkeys([detected[0], detected[-1]]))}"] if detected else []) + (
        [f"as of {shared}"] if shared else [])
    if context:
        blocks.append(_context(" · ".join(context)))
    left_out = HEADED_FACTS + (("As of",) if shared else ())
    for heading, alerts in sections(events):
        blocks.append(_context(f"*{escape(heading)}*"))
        blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": _digest_entry(e, left_out)}} for e in alerts]
    return {"text": escape("\n".join([head, *(e.title() for e in in_order(events))])), "blocks": blocks}


def _digest_entry(event: AlertEvent, left_out: tuple[str, ...]) -> str:
    """An alert's section: its kind, KPI and measure, then every fact not in `left_out` (those
    its heading, or the digest's context line, says)."""
    facts = dict(event.facts())
    first = f"{ICONS.get(event.kind, '')} *{escape(event.what())}* `{escape(event.kpi)}`" + (
        f" · {escape(facts['Measure'])}" if "Measure" in facts else "")
    rest = " · ".join(f"*{k}* {escape(v)}" for k, v in event.facts() if k not in left_out)
    text = f"{first}\n{rest}"
    # Over the limit only with names hundreds of characters long: cut, rather than have Slack
    # refuse the whole digest on every retry.
    return text if len(text) <= SECTION_LIMIT else text[:SECTION_LIMIT - 1] + "…"


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def send_slack(event: Notice, settings: Mapping[str, Any], env: Mapping[str, str], timeout: float) -> str:
    url = secret(env, settings["webhook_url_env"], "the Slack incoming-webhook URL")
    return post_json(url, slack_payload(event), timeout)


def send_slack_digest(events: Sequence[AlertEvent], settings: Mapping[str, Any], env: Mapping[str, str],
                      timeout: float, part: Part = None) -> str:
    url = secret(env, settings["webhook_url_env"], "the Slack incoming-webhook URL")
    return post_json(url, digest_payload(events, part), timeout)
