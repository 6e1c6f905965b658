"""A digest: the alerts one dispatch delivers to a Slack or e-mail channel, in one message.

A first run over a company can change the status of forty KPIs at once: one message each was
forty Slack posts (Slack answers such a burst with HTTP 429) and forty e-mails. People read
them as one list, ordered so a team finds its own: by agreement revision, month, owning team.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import groupby

from pipelines.alerts.events import AlertEvent
from pipelines.wording import counted

# A message's place among those one digest was cut into: (2, 4); None when it is the only one.
Part = tuple[int, int] | None

# The kinds a headline counts, as people say them (singular, plural), in this order.
KINDS = {"breach": ("breach", "breaches"), "at_risk": ("at risk", "at risk"),
         "recovered": ("recovery", "recoveries"), "test": ("test alert", "test alerts")}


def order_key(event: AlertEvent) -> tuple[str, str, str, str]:
    """Where an alert stands in a digest. Sorted stably, alerts that share it keep the
    outbox's order (oldest first)."""
    return (event.agreement, event.revision, event.period, event.owner)


def in_order(events: Iterable[AlertEvent]) -> list[AlertEvent]:
    return sorted(events, key=order_key)


def sections(events: Iterable[AlertEvent]) -> list[tuple[str, list[AlertEvent]]]:
    """(heading, alerts) per agreement revision and month, in digest order:
    `acme 2026-h1 · 2026-03 · 3 alerts`."""
    out = []
    for (agreement, revision, period), group in groupby(in_order(events), key=lambda e: order_key(e)[:3]):
        alerts = list(group)
        out.append((f"{agreement} {revision} · {period} · {counted(len(alerts), 'alert')}", alerts))
    return out


def headline(events: Sequence[AlertEvent], part: Part = None) -> str:
    """`12 alerts (9 breaches, 2 at risk, 1 recovery) — acme 2026-h1`: how many, of which
    kinds, for which agreement revisions; `(2 of 4)` when it is one of several messages a run
    sends the channel (`part`)."""
    kinds = Counter(e.kind for e in events)
    named = [f"{kinds[kind]} {words[kinds[kind] != 1]}" for kind, words in KINDS.items() if kind in kinds]
    named += [f"{n} {kind}" for kind, n in kinds.items() if kind not in KINDS]
    revisions = ", ".join(dict.fromkeys(f"{e.agreement} {e.revision}" for e in in_order(events)))
    of = f" ({part[0]} of {part[1]})" if part else ""
    return f"{counted(len(events), 'alert')}{of} ({', '.join(named)}) — {revisions}"


