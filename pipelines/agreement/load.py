"""Load agreements from files and folders: parse, check the version, build, validate."""

from __future__ import annotations

import codecs
import functools
import os
import posixpath
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from pipelines.agreement.errors import as_yaml, problems_from_validation
from pipelines.agreement.model import API_VERSION, KIND, RESERVED_STAGE_VALUES, Agreement
from pipelines.agreement.months import month_bounds_utc, month_index, naive_utc, spans
from pipelines.agreement.validate import check_agreement, check_revisions
from pipelines.agreement.yaml_source import SourceDocument, load_yaml
from pipelines.errors import InputError, Problem


# What editors and macOS leave beside a file, named after it: Emacs's lock of a file being
# edited (`.#acme-2026-h2.yaml`, a link to nowhere) and the AppleDouble files macOS writes on
# disks and shares that are not its own (`._acme-2026-h2.yaml`). Read as agreements, they failed
# `validate` and every run while a buffer was unsaved, or until someone found them.
SIDE_FILE_PREFIXES = (".#", "._")


def is_agreement_file(path: str) -> bool:
    """A YAML file by its name, in any case: Windows and macOS open `H2.YAML` as YAML, and a
    file skipped for its case was a revision never validated nor judged. Not an editor's or
    macOS's side file (`SIDE_FILE_PREFIXES`). `path`: a name, or a path in the repository as
    `diff` reads a revision's (sla/._x.yaml), whose last part is the name."""
    name = posixpath.basename(path)
    return name.lower().endswith((".yaml", ".yml")) and not name.startswith(SIDE_FILE_PREFIXES)


def agreement_files(paths: Iterable[Path | str]) -> list[Path]:
    """Every *.yaml / *.yml (in any case) under the given folders, plus the files named directly."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = list(path.rglob("*"))
            # rglob does not go into a linked folder (sla/shared -> ../shared): the agreements in
            # it were never read, validated or judged, without a word.
            if linked := next((p for p in sorted(found) if p.is_symlink() and p.is_dir()
                               and any(is_agreement_file(f.name) for f in p.rglob("*"))), None):
                raise InputError(linked_folder(str(linked), os.readlink(linked)))
            # A link whose file is gone (a folder not checked out, a file renamed) is listed,
            # for reading it to say so: skipped, its revision was neither validated nor judged.
            files += sorted(p for p in found
                            if is_agreement_file(p.name) and (p.is_file() or (p.is_symlink() and not p.exists())))
        elif path.is_file():
            files.append(path)
        else:
            raise InputError(Problem("no such file or folder: expected agreement YAML files" + default_folder_hint(path),
                                     file=str(path)))
    # `validate sla/ sla/acme.yaml` names one file twice: read it once, or it would
    # clash with itself as a duplicate revision.
    seen: set[str] = set()
    unique = []
    for file in files:
        real = os.path.realpath(file)  # Path.resolve() raises on links that loop
        if real not in seen:
            seen.add(real)
            unique.append(file)
    return unique


def linked_folder(link: str, target: str) -> Problem:
    """The problem of a symbolic link to a folder of agreements (sla/shared -> ../shared), in
    the working tree or at a git revision (diff): its agreements would go unread."""
    return Problem(f"is a symbolic link to the folder {target}, which funnelpact does not read into: expected "
                   "agreement files, or links to files; link each file, or name the folder itself", file=link)


def default_folder_hint(path: Path) -> str:
    """Where a command given no agreement folder looked, and why there (settings.default_folder_hint)."""
    from pipelines.settings import SLA_ENV, default_folder_hint

    # Every command but validate takes the folder as --sla; validate takes it as its argument.
    return default_folder_hint(path, SLA_ENV, "sla", "--sla DIR (validate DIR)")


def load_agreements(paths: Iterable[Path | str] | Path | str) -> list[Agreement]:
    """All agreements under `paths`, sorted by name and window; InputError lists every problem."""
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    files = agreement_files(paths)
    if not files:
        # A $FUNNELPACT_SLA_DIR naming an empty folder (or another one) was named by its path only.
        hint = default_folder_hint(Path(paths[0])) if len(paths) == 1 else ""
        raise InputError(Problem(f"no agreement files (*.yaml, *.yml) found{hint}", file=", ".join(map(str, paths))))
    agreements, problems = parse_all((str(file), lambda file=file: read_agreement(file)) for file in files)
    if problems:
        raise InputError(problems)
    return sorted(agreements, key=lambda a: (a.name, a.spec.effective.from_))


def parse_all(texts: Iterable[tuple[str, Callable[[], str]]]) -> tuple[list[Agreement], list[Problem]]:
    """Parse each named text (read when its turn comes) and check the revisions together:
    the agreements, and every problem of every file."""
    agreements: list[Agreement] = []
    docs: dict[str, SourceDocument] = {}
    problems: list[Problem] = []
    for name, read in texts:
        try:
            doc, agreement = _parse(name, read())
        except InputError as exc:
            problems += exc.problems
            continue
        agreements.append(agreement)
        docs[name] = doc
    problems += check_revisions(agreements, docs)
    return agreements, problems


# A run loads the agreements in each of its steps (six times): a file whose text has not
# changed is not parsed again (~10 ms a file, 1 s a run over 100 revisions). Keyed by the
# text, so an edited file is parsed afresh; a file with problems raises every time.
@functools.lru_cache(maxsize=512)
def _parse(name: str, text: str) -> tuple[SourceDocument, Agreement]:
    doc = load_yaml(text, name)
    return doc, parse_document(doc)


def read_agreement(file: Path, name: str | None = None) -> str:
    """The text of an agreement file on disk, `name` naming it in problems (default: its path)."""
    name = name or str(file)
    try:
        data = file.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if file.is_symlink():
            raise InputError(Problem(f"cannot read the file ({reason}): it is a symbolic link to {os.readlink(file)}; "
                                     "expected the agreement file it links to", file=name)) from None
        raise InputError(Problem(f"cannot read the file ({reason}): expected an agreement file funnelpact can read",
                                 file=name)) from None
    return decode_utf8(data, name)


def decode_utf8(data: bytes, file: str) -> str:
    """An agreement file's text; bytes that are not UTF-8 (a file saved as Latin-1 or
    Windows-1252) are named with their line, for a file on disk and one git keeps alike."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            # Notepad's and Excel's "Unicode": 0xff at line 1 would not tell the author why.
            raise InputError(Problem("the file is saved as UTF-16 (it starts with a UTF-16 byte-order mark): "
                                     "expected the file saved as UTF-8", file=file, line=1)) from None
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(Problem(f"byte 0x{data[exc.start]:02x} is not UTF-8 text: expected the file saved as UTF-8",
                                 file=file, line=line)) from None


def parse_document(doc: SourceDocument) -> Agreement:
    data = doc.data
    if not isinstance(data, dict):
        raise InputError(doc.problem((), "expected a mapping with apiVersion, kind, metadata and spec"))
    version = data.get("apiVersion")
    if version is None:
        raise InputError(doc.problem(("apiVersion",), f"missing apiVersion: expected 'apiVersion: {API_VERSION}'"))
    if version != API_VERSION:
        raise InputError(doc.problem(("apiVersion",), f"unsupported apiVersion {as_yaml(version)}: expected {API_VERSION!r}"))
    if "kind" not in data:
        raise InputError(doc.problem(("kind",), f"missing kind: expected 'kind: {KIND}'"))
    if data.get("kind") != KIND:
        raise InputError(doc.problem(("kind",), f"kind {as_yaml(data.get('kind'))} is not supported: expected {KIND!r}"))
    try:
        agreement = Agreement.model_validate({**data, "source_file": doc.file})
    except ValidationError as exc:
        raise InputError(by_line(problems_from_validation(exc, doc))) from None
    problems = check_agreement(agreement, doc)
    if problems:
        raise InputError(by_line(problems))
    return agreement


def by_line(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line or 0, p.column or 0))


def revision_in_force(agreements: list[Agreement], name: str, month: str) -> Agreement | None:
    for a in agreements:
        if a.name == name and month in a.months():
            return a
    return None


def span(agreements: list[Agreement]) -> tuple[str, str]:
    """The first and the last month any agreement covers."""
    return (min((a.spec.effective.from_ for a in agreements), key=month_index),
            max((a.spec.effective.to for a in agreements), key=month_index))


# Beyond this many revisions, an agreement's windows are summed up in one span: an agreement
# revised every month named 12 windows a year in one line.
LISTED_REVISIONS = 3


def windows(agreements: list[Agreement]) -> str:
    """The agreements' windows, for messages: 'acme 2026-h1 2026-01..2026-06, …', or per
    agreement with many revisions 'latam 2026-01..2026-12 (12 revisions)'."""
    parts = []
    for name in dict.fromkeys(a.name for a in agreements):
        revisions = [a for a in agreements if a.name == name]
        if len(revisions) > LISTED_REVISIONS:
            months = spans([m for a in revisions for m in a.months()])
            parts.append(f"{name} {months} ({len(revisions)} revisions)")
        else:
            parts.extend(f"{a.name} {a.revision} {a.spec.effective.from_}..{a.spec.effective.to}" for a in revisions)
    return ", ".join(parts) or "none"


def in_force(agreements: list[Agreement], months: list[str]) -> list[str]:
    """The given months that some agreement covers."""
    return [m for m in months if any(m in a.months() for a in agreements)]


def require_in_force(agreements: list[Agreement], months: list[str], field: str) -> list[str]:
    """The given months that some agreement covers; InputError when none is."""
    covered = in_force(agreements, months)
    if not covered:
        raise InputError(Problem(f"no agreement is in force in {spans(months)} (windows: {windows(agreements)})",
                                 field=field))
    return covered


def require_started(agreements: list[Agreement], months: list[str], as_of: datetime, field: str,
                    verb: str = "judge") -> list[str]:
    """The given months that have begun by as_of; InputError when none has (nothing to `verb`)."""
    started = [m for m in months if has_started(agreements, m, as_of)]
    if not started:
        raise InputError(Problem(f"{spans(months)} has not started by {as_of:%Y-%m-%d %H:%M} UTC: there is nothing "
                                 f"to {verb} yet: give a later --as-of, or {verb} it once it has started", field=field))
    return started


def has_started(agreements: list[Agreement], month: str, as_of: datetime) -> bool:
    """Whether the month has begun by as_of for some agreement in force in it (in its
    timezone; the facts hold no row for a month that has not: int_agreement_months_as_of)."""
    instant = naive_utc(as_of)
    return any(month_bounds_utc(month, a.spec.timezone)[0] <= instant for a in agreements if month in a.months())


def not_judged(asked: list[str], in_force: list[str], judged: list[str]) -> list[str]:
    """What a run leaves out of the months it was asked for, and why (the CLI on stderr, a
    Dagster run in its log)."""
    notes = []
    if outside := [m for m in asked if m not in in_force]:
        notes.append(f"not judged: {spans(outside)} (no agreement in force)")
    if later := [m for m in in_force if m not in judged]:
        notes.append(f"not judged: {spans(later)} (not started by the as-of instant)")
    return notes


def known_stage_values(agreements: list[Agreement]) -> frozenset[str]:
    """Every lifecycle value some revision gives a meaning, a stage or none of its stages
    (`ignored_crm_values`), and `recycled`/`disqualified`: the loader quarantines the others
    (`unknown_stage`). Which stage a value means is each revision's own
    (`Agreement.stage_values`, applied in dbt)."""
    return frozenset(RESERVED_STAGE_VALUES).union(*(a.stage_values() for a in agreements),
                                                  *(a.ignored_values() for a in agreements))
