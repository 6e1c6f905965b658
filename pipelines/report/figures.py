"""The figures each chart draws, as a table for screen readers.

A chart is one image with a name (svg.py): a screen reader says what it shows, not what it
draws. Its figures follow it here, in the order the chart shows them, in a table hidden from
the eye (.sr-only: the drawing and the text around it show them), so a reader who cannot see
the chart gets the same facts. Numbers as the scorecard writes them, not as the axes round them.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipelines.report import svg
from pipelines.report.format import STATUS, escape, number, share_of_target, target_and_actual

BIN_KIND = {"in_time": "in time", "late": "late", "none": "late, never touched", "pending": "still within the limit"}


def table(caption: str, head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Plain-text cells; each row's first cell heads it (the stage, month or bin)."""
    th = "".join(f'<th scope="col">{escape(h)}</th>' for h in head)
    body = "".join(f'<tr><th scope="row">{escape(row[0])}</th>{"".join(f"<td>{escape(c)}</td>" for c in row[1:])}</tr>'
                   for row in rows)
    # Hidden in a box around it: a table is as wide as its cells, whatever its width, and a
    # hidden table as wide as its text made the page scroll sideways.
    return (f'<div class="sr-only"><table class="figures"><caption>{escape(caption)}</caption>'
            f"<thead><tr>{th}</tr></thead><tbody>{body}</tbody></table></div>")


def caption(title: str) -> str:
    return f"{title}, in figures"


def _status(status: str | None) -> str:
    return "not judged" if status is None else STATUS.get(status, ("", status))[1]


def bullets(rows: Sequence[svg.BulletRow], title: str, paced: bool) -> str:
    head = ["stage", "volume", "target", "of target"] + (["pace"] if paced else []) + ["status"]
    out = []
    for row in rows:
        share = share_of_target(row.actual, row.target, row.tolerance) if row.actual is not None and row.target else "—"
        out.append([row.label, number(row.actual), number(row.target), share]
                   + ([number(row.forecast)] if paced else []) + [_status(row.status)])
    return table(caption(title), head, out)


def points(values: Sequence[svg.Point], title: str, kpi: str, currency: str, highlight: str) -> str:
    # A month's target and actual as the scorecard pairs them: each rounded on its own, a
    # visit->lead rate of 2.04 % against 2 % read "2.0%" twice here and "2.04%" against
    # "2.00%" in the scorecard above it (a breach of 89.96 % against 90 %, "90.0%" twice).
    rows = [[p.period + (" (this review)" if p.period == highlight else ""),
             *reversed(target_and_actual(kpi, p.target, p.actual, currency)),
             p.absent or _status(p.status)] for p in values]
    return table(caption(title), ["month", "actual", "target", "status"], rows)


def bins(values: Sequence[svg.Bin], title: str) -> str:
    # The axis's "0.5–1" and ">24" read aloud as "0.5 dash 1" and "greater than 24": in words.
    def hours(label: str) -> str:
        return label.replace("–", " to ").replace(">", "over ") + " h" if label[-1].isdigit() else label
    return table(caption(title), ["hours to the first touch", "MQLs", "first touch"],
                 [[hours(b.label), f"{b.count:,}", BIN_KIND[b.kind]] for b in values])
