"""`write_report`: the monthly review pack as one self-contained HTML file.

The file carries its CSS and SVG charts inline and a Content-Security-Policy that forbids
every fetch, so it opens offline, travels as an e-mail attachment, and cannot leak a
request even if a label smuggled markup past the escaping.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from datetime import UTC, datetime
from pathlib import Path

from pipelines.agreement.load import require_in_force
from pipelines.agreement.model import Agreement
from pipelines.agreement.months import require_month
from pipelines.disk_full import DiskFull, no_room
from pipelines.errors import InputError, Problem
from pipelines.report import sections
from pipelines.report.format import escape
from pipelines.report.gather import AgreementReport, ReportData, gather
from pipelines.report.style import CSP, CSS
from pipelines.settings import Settings

TOC = (("funnel", "Funnel"), ("scorecard", "Scorecard"), ("bottleneck", "Bottleneck"), ("pace", "Pace"),
       ("trends", "Trends"), ("handoffs", "Hand-off"), ("recycling", "Recycling"), ("agreement", "Agreement"))
DATA_QUALITY = ("data-quality", "Data quality")   # one section for the whole pack


def write_report(settings: Settings, month: str, out: Path, as_of: datetime) -> Path:
    """Write the review pack of `month` from the judged warehouse; InputError if it was not
    judged, or for what `check_request` refuses."""
    from pipelines.agreement import load_agreements

    agreements = load_agreements(settings.sla_dir)
    out = check_request(agreements, month, out)
    return write_checked_report(settings, agreements, month, out, as_of)


def write_checked_report(settings: Settings, agreements: list[Agreement], month: str, out: Path,
                         as_of: datetime) -> Path:
    """`write_report` for a request that `check_request` passed with these agreements: the
    command checks before it runs the pipeline, and does not load and check them again."""
    data = gather(settings.warehouse, agreements, month, as_of)
    html = render_html(data)
    try:
        _write_whole(out, html)
    except OSError as exc:
        if no_room(exc):  # no bad input: exit 3, as a full disk is for every command
            raise DiskFull(str(out)) from exc
        raise InputError(Problem(f"cannot write {out}: {exc.strerror or exc}", field="--out")) from None
    return out


def _write_whole(out: Path, html: str) -> None:
    """`html` into `out`, whole or not at all. Written in place, a full disk (or `ulimit -f`)
    left the first 50 kB of a 110 kB pack over the previous one, which the failed command had
    already destroyed: the pack goes to a file beside it, renamed over `out` once complete."""
    target = out.resolve()  # through a link: the file it points at is the pack
    created = [p for p in (target.parent, *target.parent.parents) if not p.exists()]
    part = target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: never through someone's link; 0o666 less the umask, as a new file gets.
        with os.fdopen(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "w", encoding="utf-8") as file:
            file.write(html)
        if target.exists():  # a pack written again keeps the permissions it was given
            os.chmod(part, stat.S_IMODE(target.stat().st_mode))
        os.replace(part, target)
    except BaseException:
        with contextlib.suppress(OSError):
            part.unlink()
        for folder in created:  # deepest first; only the empty folders made for this pack
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def check_request(agreements: list[Agreement], month: str, out: Path) -> Path:
    """What a review pack needs before anything is read or run: a YYYY-MM month that some
    agreement is in force in, and an .html file that can be written; InputError otherwise.

    `write_report` checks it; the command checks it before it judges the month (an --out
    found unwritable after the run had judged the month and sent its alerts), then writes
    with `write_checked_report`.
    """
    require_month(month, "--month")
    require_in_force(agreements, [month], "--month")
    return require_writable_html(Path(out))


def require_writable_html(out: Path) -> Path:
    """`out`, if it names an .html file that can be written (its missing folders created)."""
    if out.suffix.lower() not in (".html", ".htm"):
        raise InputError(Problem(f"{str(out)!r} does not end in .html: the review pack is one HTML file", field="--out"))
    if out.is_dir():
        raise InputError(Problem(f"cannot write {out}: it is a folder (expected the HTML file to write)", field="--out"))
    # The nearest folder that exists: the write creates the missing ones inside it. Through a
    # link, the folder of the file it points at, where _write_whole writes.
    target = out.resolve() if out.is_symlink() else out
    existing = next(p for p in (target.parent, *target.parent.parents) if p.exists())
    if not existing.is_dir():
        problem = f"cannot write {out}: {existing} is a file, not a folder"
    elif out.exists() and not os.access(out, os.W_OK):
        problem = f"cannot write {out}: the file is not writable"
    elif not os.access(existing, os.W_OK | os.X_OK):
        # Also over a writable pack: the new one is written beside it and renamed over it. A
        # check of the file alone passed, and the command judged the month (and alerted)
        # before the write failed with a bare "Permission denied".
        problem = (f"cannot write {out}: the folder {existing} is not writable (the pack is written "
                   "beside the file, then renamed over it)")
    else:
        return out
    raise InputError(Problem(problem, field="--out"))


def render_html(data: ReportData) -> str:
    names = ", ".join(r.agreement.name for r in data.agreements)
    # The file's own time, not the as-of: a report as of a past instant is still written now.
    written = datetime.now(UTC)
    body = [_left_out_banner(data)]
    for r in data.agreements:
        neck = sections.compute_bottleneck(r)
        body.append(
            f'<article data-agreement="{escape(r.agreement.name)}" data-revision="{escape(r.agreement.revision)}">'
            + (f"<h2>{escape(r.agreement.name)}</h2>" if len(data.agreements) > 1 else "")
            + _what_if_banner(r, written)
            + _stale_banner(data, r)
            + _edited_banner(r)
            + (f'<p class="banner" data-warning="data-end">{escape(r.after_the_data)}</p>' if r.after_the_data else "")
            + sections.summary(r, neck)
            + sections.funnel(r)
            + sections.scorecard(r)
            + sections.bottleneck(r, neck)
            + sections.pace(r)
            + sections.trends(r)
            + sections.handoffs(r)
            + sections.recycling(r)
            + sections.agreement_rules(r)
            + "</article>")
    results = [row for r in data.agreements for row in r.results]
    body.append(sections.data_quality(data, results))
    revisions = ", ".join(f"{r.agreement.name} {r.agreement.revision}" for r in data.agreements)
    toc = "".join(_toc_links(r, len(data.agreements) > 1) for r in data.agreements)
    toc += f'<a href="#{DATA_QUALITY[0]}">{DATA_QUALITY[1]}</a>'
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="funnelpact">'
        f"<title>{escape(names)} — review {escape(data.month)}</title><style>{CSS}</style></head><body>"
        f'<header class="top"><div class="inner"><h1>Marketing ↔ sales review · {escape(data.month)}</h1>'
        f"<p>{escape(revisions)} · one set of numbers for both teams</p><nav class=\"toc\" aria-label=\"Contents\">{toc}</nav></div></header>"
        # The footer after main, not in it: only there is it the page's footer landmark.
        f'<div class="page"><main data-month="{escape(data.month)}">{"".join(body)}</main>'
        f"<footer>Written by funnelpact for {escape(data.month)} at {written:%Y-%m-%d %H:%M} UTC from "
        f"<code>{escape(str(data.warehouse))}</code>. Figures are the judged scorecard (<code>judgements.kpi_status</code>); "
        "metric definitions: docs/metrics.md; this report: docs/report.md.</footer>"
        "</div></body></html>\n"
    )


def _toc_links(r: AgreementReport, named: bool) -> str:
    links = "".join(f'<a href="#{escape(r.anchor(anchor))}">{label}</a>' for anchor, label in TOC)
    if not named:
        return links
    # One group per agreement, which wraps onto the next line whole (style.py): its links
    # alone, without the name before them, do not say whose sections they open. A screen
    # reader announces the group's name with the first link it enters.
    label = escape(r.anchor("toc"))
    return (f'<span class="toc-group" role="group" aria-labelledby="{label}">'
            f'<b id="{label}">{escape(r.agreement.name)}</b> {links}</span>')


def _left_out_banner(data: ReportData) -> str:
    if not data.left_out:
        return ""
    one = len(data.left_out) == 1
    names = ", ".join(f"{a.name} {a.revision}" for a in data.left_out)
    it, month = ("it" if one else "them"), escape(data.month)
    return (f'<p class="banner" data-warning="not-judged">{escape(names)} {"is" if one else "are"} in force in '
            f"{month} too, but {'has' if one else 'have'} no judgement for it, so this pack leaves {it} out: the "
            f"month was judged before {'it was' if one else 'they were'} in the agreement folder (or before "
            f"{'its' if one else 'their'} month began). Judge the month again (<code>funnelpact run --from {month} "
            f"--to {month}</code>, which judges every agreement in force) for a pack with {it}.</p>")


def _what_if_banner(r: AgreementReport, written: datetime) -> str:
    # A month judged with --as-of still to come keeps that judgement until it is judged again,
    # and a later pack without --as-of shows it as judged: say it is not the real figures.
    if r.judged_as_of <= written.replace(tzinfo=None):
        return ""
    return (f'<p class="banner">What-if: {escape(r.month)} was judged as of {r.judged_as_of:%Y-%m-%d %H:%M:%S} UTC, '
            "later than this pack was written, so facts dated up to then were taken as known. For the real "
            f"figures, judge the month again without --as-of (<code>funnelpact run --from {escape(r.month)} "
            f"--to {escape(r.month)}</code>), then write the pack.</p>")


def _stale_banner(data: ReportData, r: AgreementReport) -> str:
    other_instant = data.build_as_of is not None and data.build_as_of != r.judged_as_of
    # A later build as of the same instant may have loaded other data (another --data): the
    # instants alone missed it. A judgement from before builds were named, with a build that
    # named itself since, is from an earlier build too.
    other_build = data.build_id is not None and data.build_id != r.judged_build
    if not (other_instant or other_build):
        return ""
    # Run ids as the Dagster UI shortens them; instants to the second, so two builds a few
    # seconds apart do not read as the same instant.
    build = "the warehouse's last build"
    if data.build_id:
        build += f" (run {data.build_id[:8]})"
    if data.build_as_of is not None:
        build += f", as of {data.build_as_of:%Y-%m-%d %H:%M:%S} UTC"
    judged = f" from the build of run {r.judged_build[:8]}" if other_build and r.judged_build else ""
    return (f'<p class="banner">The scorecard was judged as of {r.judged_as_of:%Y-%m-%d %H:%M:%S} UTC{escape(judged)}; '
            f"the details (hand-off times, recycle reasons) and the Data quality section come from {escape(build)}, "
            "not the build the month was judged from. Re-run the month "
            f"(<code>funnelpact run --from {escape(r.month)} --to {escape(r.month)}</code>) for matching figures.</p>")


def _edited_banner(r: AgreementReport) -> str:
    if not r.edited_targets:
        return ""
    shown = ", ".join(r.edited_targets[:6]) + (f" and {len(r.edited_targets) - 6} more" if len(r.edited_targets) > 6 else "")
    return (f'<p class="banner">Revision {escape(r.agreement.revision)} was edited after {escape(r.month)} was judged: '
            f"the targets of {escape(shown)} in the agreement file differ from the judged ones. The scorecard, "
            "funnel, pace and trends show the judged targets; the summary, bottleneck and agreement sections "
            f"follow the file. Re-run the month (<code>funnelpact run --from {escape(r.month)} --to {escape(r.month)}"
            "</code>) for one set of numbers.</p>")

