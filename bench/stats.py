"""Pure helpers of the harness: medians, ratios, the Markdown table (unit-tested)."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence


def median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def fmt_seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def fmt_mib(kib: float | None) -> str:
    return "–" if kib is None else f"{kib / 1024:,.0f} MiB"


def fmt_ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def fmt_change(fraction: float | None) -> str:
    """A relative change as a signed percentage: +14 %, −10 % (a noisy run can be faster)."""
    if fraction is None:
        return "–"
    percent = round(fraction * 100)
    return f"+{percent} %" if percent >= 0 else f"−{-percent} %"


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def size_label(contacts: int) -> str:
    for unit, scale in (("m", 1_000_000), ("k", 1_000)):
        if contacts >= scale and contacts % scale == 0:
            return f"{contacts // scale}{unit}"
    return str(contacts)


def parse_size(text: str) -> int:
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)
