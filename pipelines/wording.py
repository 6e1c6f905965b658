"""How a count reads in what funnelpact says: its number and its noun agreeing ("1 won deal",
"2,000 won deals", "7 people", "1.5 hours"). One place for the importers' notes, the alerts'
digests and the review pack, each of which had its own and said "1 MQLs" or "7 persons"."""

from __future__ import annotations

from decimal import Decimal


def counted(n: int | float | Decimal, noun: str) -> str:
    """`n` and `noun`, in the plural unless `n` is 1: a whole count with thousands separators,
    a quantity (hours, days) as short as it reads exactly ('1.5 hours')."""
    text = f"{n:,}" if isinstance(n, int) else f"{float(n):g}"
    return f"{text} {noun if n == 1 else plural(noun)}"


def plural(noun: str) -> str:
    if noun.endswith("person"):
        return noun[:-len("person")] + "people"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"
