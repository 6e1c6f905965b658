"""What changed in the agreements between two git revisions, and its effect on targets.

Both sides are loaded with the same validation as `funnelpact validate`. A HEAD that does not
validate gets its validation errors instead of a diff: the pull request itself is broken. A
BASE that does not is compared as far as it validates, its problems listed first: the pull
request fixing a broken main needs its diff most.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import subprocess
from collections import Counter
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

from pipelines.agreement.advice import revision_gaps
from pipelines.agreement.figure_text import target_and_actual
from pipelines.agreement.load import (
    agreement_files,
    by_line,
    decode_utf8,
    default_folder_hint,
    is_agreement_file,
    linked_folder,
    parse_all,
    read_agreement,
)
from pipelines.agreement.model import Agreement, stage_value
from pipelines.agreement.months import spans
from pipelines.agreement.plan import in_percent, plan, rounded_decimal
from pipelines.errors import InputError, Problem


@dataclass
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass
class RevisionChange:
    agreement: str
    revision: str
    status: str  # added, removed, changed
    file: str
    fields: list[FieldChange] = field(default_factory=list)


@dataclass
class TargetChange:
    agreement: str
    period: str
    target: str  # a stage id, or "revenue"
    # Exact: the Markdown rounds them as every figure is (figure_text), JSON to the cent.
    old: Fraction | int | None
    new: Fraction | int | None
    change_pct: float | None
    old_revision: str | None
    new_revision: str | None
    # The revenue's money on each side (None for a stage's volume): 116,129.03 alone read
    # in no currency, and a revision that changes it changes what the figure means.
    old_currency: str | None = None
    new_currency: str | None = None


@dataclass
class Gap:
    """Months between two revisions of an agreement that no revision is in force in."""
    agreement: str
    months: list[str]
    ends: str    # the revision before them
    starts: str  # the revision after them


@dataclass
class MovedMonth:
    """A month judged by another revision after the change: its targets, rules and alert
    channels come from another file, whether or not a figure of it changed."""
    agreement: str
    period: str
    old_revision: str
    new_revision: str


@dataclass
class DiffResult:
    base: str
    head: str
    revisions: list[RevisionChange]
    targets: list[TargetChange]
    moved_months: list[MovedMonth] = field(default_factory=list)
    new_gaps: list[Gap] = field(default_factory=list)
    base_problems: list[Problem] = field(default_factory=list)  # BASE's files left out of the comparison


def diff_revisions(base: str, head: str | None, sla: Path) -> DiffResult:
    """The changes to the agreements under `sla` between two revisions of the git repository
    holding that folder (not necessarily the one of the working directory:
    $FUNNELPACT_SLA_DIR may name a deployment's checkout elsewhere)."""
    root = _git_root(sla)
    try:
        rel = sla.resolve().relative_to(root)
    except ValueError:
        raise InputError(Problem(f"{sla} is not inside the git repository at {root}: diff compares the "
                                 "agreement files git keeps", field="--sla")) from None
    old, base_problems = _load_side(root, base, rel, "BASE")
    new, head_problems = _load_side(root, head, rel, "HEAD")
    if head_problems:  # the change itself is broken: what validate says, not a diff
        raise InputError(by_line(head_problems))
    # BASE may not validate today (a broken main, or a file valid under older rules): its files
    # with a problem are left out, the others compared. Every problem names its file, and one
    # across files (two windows overlapping, a label used twice, two timezones) one file of
    # the two, so the files left never clash with one another.
    unreadable = {p.file for p in base_problems}
    old = [a for a in old if a.source_file not in unreadable]
    if not old and not new and not base_problems:
        raise InputError(Problem(f"no agreement files under {rel.as_posix() or '.'} at {base} nor at "
                                 f"{head or 'the working tree'}: expected the folder of the agreement YAML files"
                                 + default_folder_hint(sla), field="--sla"))
    return DiffResult(
        base=base,
        head=head or "working tree",
        revisions=compare_revisions(old, new),
        targets=compare_targets(old, new),
        moved_months=moved_months(old, new),
        # The months of a file BASE could not read are a gap of the files it could: which gaps
        # of HEAD are old cannot be told, so every one is listed.
        new_gaps=new_gaps([] if base_problems else old, new),
        base_problems=sorted(base_problems, key=lambda p: (p.file or "", p.line or 0, p.column or 0)),
    )


def new_gaps(old: list[Agreement], new: list[Agreement]) -> list[Gap]:
    """The months the change leaves between two revisions, never judged, that were not so
    before. validate warns of them, but CI comments the diff alone on a pull request that
    validates: a revision starting a month late read as targets 'removed' or none at all."""
    before = {(b.name, m) for b, _, months in revision_gaps(old) for m in months}
    gaps = []
    for b, a, months in revision_gaps(new):
        if opened := [m for m in months if (b.name, m) not in before]:
            gaps.append(Gap(b.name, opened, b.revision, a.revision))
    return gaps


def _git(root: Path | None, *args: str, stdin: str | None = None) -> str:
    cmd = ["git", *(["-C", str(root)] if root else []), *args]
    try:
        # File names and agreements are UTF-8 whatever the locale; surrogateescape keeps any
        # other byte of a name, so the name given back to `git show` is the same. git's own
        # messages in English: they are quoted in English sentences, and _git_root reads one.
        done = subprocess.run(cmd, input=stdin, capture_output=True, encoding="utf-8", errors="surrogateescape",
                              check=False, env={**os.environ, "LC_ALL": "C"})
    except FileNotFoundError:
        raise InputError("git is not installed: funnelpact diff compares git revisions") from None
    if done.returncode != 0:
        raise InputError(Problem(f"git {' '.join(args)} failed: {done.stderr.strip()}"))
    return done.stdout


def _git_root(sla: Path) -> Path:
    """The top of the repository holding the folder, or of its nearest existing parent: the
    folder may be gone from the working tree and still be in the base revision."""
    folder = sla.resolve()
    start = next((p for p in (folder, *folder.parents) if p.is_dir()), Path.cwd())
    try:
        return Path(_git(start, "rev-parse", "--show-toplevel").strip()).resolve()
    except InputError as exc:
        # Only this failure is ours to word: git missing, or git refusing a checkout that
        # another user owns (CI containers: "dubious ownership", with the safe.directory to
        # add), are told as they are.
        if "not a git repository" not in str(exc):
            raise
        if not sla.exists():  # most often `diff` started outside the repository: say where sla/ was looked for
            raise InputError(Problem(f"no folder {sla} here, nor a git repository around it: diff compares the "
                                     f"agreement files git keeps{default_folder_hint(sla)}", field="--sla")) from None
        raise InputError(Problem(f"{sla} is not inside a git repository: diff compares the agreement files "
                                 "git keeps", field="--sla")) from None


def _load_side(root: Path, rev: str | None, rel: Path, argument: str) -> tuple[list[Agreement], list[Problem]]:
    """Agreements at a git revision (or the working tree when rev is None), as `parse_all`
    gives them with the problems of every file; `argument` names the command's argument that
    gave the revision."""
    linked: list[Problem] = []
    if rev is not None:
        try:
            _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
        except InputError:
            raise InputError(Problem(f"unknown git revision {rev!r}: expected a branch, tag or commit", field=argument)) from None
        # -z: without it git quotes names with non-ASCII bytes ("sla/m\303\251xico.yaml").
        entries = [e.split("\t", 1) for e in _git(root, "ls-tree", "-r", "-z", rev, "--", str(rel)).split("\0") if e]
        # A link to another file of the folder (current.yaml -> acme-2026-h2.yaml) is that file,
        # read once, as agreement_files reads the working tree: twice, it clashed with itself.
        files = {}
        for meta, name in entries:
            if is_agreement_file(name):
                files.setdefault(_git_link_target(root, rev, name) if meta.startswith("120000") else name, name)
            elif meta.startswith("120000") and (problem := _linked_folder(root, rev, name, meta.split(" ")[2])):
                linked.append(problem)
        texts = [(f"{rev}:{n}", lambda n=n: _git_agreement(root, rev, n)) for n in files.values()]
    else:
        folder = root / rel
        files = agreement_files([folder]) if folder.exists() else []
        texts = [(str(p.relative_to(root)), lambda p=p: read_agreement(p, str(p.relative_to(root)))) for p in files]
    agreements, problems = parse_all(texts)
    return agreements, linked + problems


# What `git cat-file --follow-symlinks` says of a link it cannot follow to a file in the revision.
_UNFOLLOWED = {
    "dangling": "it is a symbolic link to a file {rev} does not hold",
    "loop": "it is one of symbolic links that lead to one another",
    "symlink": "it is a symbolic link to a file outside the repository, which git does not keep",
    "notdir": "it is a symbolic link through a file that is not a folder",
}


def _git_link_target(root: Path, rev: str, name: str) -> str:
    """The path in the repository that the symbolic link `name` leads to at `rev`, through
    links to links (as far as the kernel follows them, 40)."""
    for _ in range(40):
        if posixpath.isabs(name) or name.startswith("../"):
            break  # outside the repository: _git_agreement says git keeps no such file
        entry = _git(root, "ls-tree", "-z", rev, "--", name).rstrip("\0")
        if not entry.startswith("120000 "):
            break
        target = _git(root, "cat-file", "blob", entry.split("\t", 1)[0].split(" ")[2])
        name = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
    return name


def _linked_folder(root: Path, rev: str, name: str, blob: str) -> Problem | None:
    """The problem of the link `name` at `rev` when it leads to a folder of agreements there:
    ls-tree does not go into it, and its agreements went unread without a word, where the
    working tree refuses such a link (agreement_files)."""
    target = _git_link_target(root, rev, name)
    if posixpath.isabs(target) or target.startswith("../"):
        return None  # outside the repository: no folder git keeps
    inside = _git(root, "ls-tree", "-r", "-z", "--name-only", rev, "--", f"{target}/").split("\0")
    if not any(is_agreement_file(f) for f in inside if f):
        return None
    return linked_folder(f"{rev}:{name}", _git(root, "cat-file", "blob", blob))


def _git_agreement(root: Path, rev: str, name: str) -> str:
    """The text of the agreement file `name` at `rev`, through symbolic links as the working
    tree reads it: `git show` gives a link's own text, its target ("../shared/acme.yaml"), and
    an agreement linked into the folder was refused as "expected a mapping"."""
    shown = f"{rev}:{name}"
    # _git keeps bytes that are not UTF-8 as surrogates: back to bytes, to name their line.
    out = _git(root, "cat-file", "--batch", "--follow-symlinks", stdin=f"{shown}\n").encode("utf-8", "surrogateescape")
    header, _, body = out.partition(b"\n")
    kind, *rest = header.decode("utf-8", "surrogateescape").split(" ")
    if rest[-2:-1] == ["blob"]:
        return decode_utf8(body[:int(rest[-1])], shown)
    target = _git(root, "cat-file", "-p", shown).strip() if kind in ("dangling", "loop") else ""
    because = _UNFOLLOWED.get(kind, "git cannot read it").format(rev=rev)
    raise InputError(Problem(f"cannot read the file: {because}{f' ({target})' if target else ''}; "
                             "expected the agreement file it links to, kept in the repository", file=shown))


# Lists whose order means nothing, by their place in the model ([] for any stage or alert): a
# stage's CRM values map onto it in any order, an e-mail goes to every recipient at once, the
# report checks reasons and names the audience whatever their order. Reordered, they are no
# change. (The stages' order is the funnel's: the conversion pairs, which name it, show it.)
# CRM values are compared as the loader matches them (stage_value): `Lead` for `lead` changes
# nothing a run does, so it is no change, like `0.350` for `0.35`.
UNORDERED = {"spec.stages[].crm_values": stage_value, "spec.ignored_crm_values": stage_value,
             "spec.recycling.reasons": None, "spec.review.audience": None, "spec.alerts[].to": None}


class Unordered(list):
    """The values of a list in UNORDERED, as written (to be shown so), equal to the same values
    in any order (compared as `key` reads them, when it has one)."""

    def __init__(self, values: list, key: Callable[[str], str] | None = None) -> None:
        super().__init__(values)
        self.key = key or (lambda v: v)

    def compared(self) -> set:
        return {self.key(v) for v in self}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unordered) and self.compared() == other.compared()

    def __ne__(self, other: object) -> bool:
        return not self == other


def flatten(agreement: Agreement, like: Agreement | None = None) -> dict[str, Any]:
    """Dotted field -> value; lists of stages and alerts keyed by id/channel, not position.
    With `like` (the same revision before the change), alerts on one channel keep the keys
    of the alerts they equal there (see _item_keys).

    Numbers stay Decimals, compared by value: `rate: 0.350` is the 0.35 it replaced, and
    the Decimal still prints as it was written when it did change."""
    data = agreement.model_dump(by_alias=True, exclude={"source_file"})
    twin_data = like.model_dump(by_alias=True, exclude={"source_file"}) if like is not None else None
    out: dict[str, Any] = {}

    def walk(value: Any, prefix: str, shape: str, twin: Any) -> None:
        # An empty mapping or list is the default (no targets, no alerts) and no field of its
        # own: adding the first target read as `spec.targets` {} -> — above it, as if removed.
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{prefix}.{k}" if prefix else str(k), f"{shape}.{k}" if shape else str(k),
                     twin.get(k) if isinstance(twin, dict) else None)
        elif isinstance(value, list) and all(isinstance(v, dict) for v in value):
            twins = twin if isinstance(twin, list) and all(isinstance(v, dict) for v in twin) else None
            by_key = dict(zip(_item_keys(twins), twins)) if twins else {}
            for key, item in zip(_item_keys(value, twins), value):
                walk(item, f"{prefix}[{key}]", f"{shape}[]", by_key.get(key))
        elif shape in UNORDERED:
            out[prefix] = Unordered(value, UNORDERED[shape])
        else:
            out[prefix] = value

    walk(data, "", "", twin_data)
    return out


def _item_keys(items: list[dict], like: list[dict] | None = None) -> list[str]:
    """`mql` for a stage, `slack` for an alert: a stage moved up the list is not a change.
    A second alert on one channel is `email[1]` (by its order among the e-mail alerts), or it
    would hide every change to the first; the first stays `email`, so adding a second alert
    reads as one alert added, not the first removed and added again.

    With `like` (the list before the change), an alert equal to one there takes that one's
    key, so swapping two e-mail alerts, or removing the first, is no change to the other.
    The alerts left on a channel are paired most alike first (see _likeness; among pairs as
    alike, in BASE's order then HEAD's), when they share at least half of their fields: an
    edited alert takes its BASE twin's key and reads as its fields changed, even when another
    alert of its channel was removed before it. A channel's only alert, before and after, is
    that alert edited however little is left of it: there is no other it could be. A stage is its
    id, whatever else changed. An item paired with none takes a new key."""
    keys = _positional_keys(items)
    if not like:
        return keys
    names = [_item_name(item, i) for i, item in enumerate(items)]
    old = [(key, _item_name(item, j), item) for j, (key, item) in enumerate(zip(_positional_keys(like), like))]
    taken: dict[int, str] = {}  # an item's place -> the key of its BASE twin
    for i, item in enumerate(items):
        match = next((k for k, name, o in old if k not in taken.values() and name == names[i] and _same(o, item)), None)
        if match is not None:
            taken[i] = match
    pairs = sorted((-(1 if "id" in item else _likeness(o, item)), j, i)
                   for j, (k, name, o) in enumerate(old) if k not in taken.values()
                   for i, item in enumerate(items) if i not in taken and name == names[i])
    alone = {name for name in names if names.count(name) == 1 and [n for _, n, _ in old].count(name) == 1}
    for unlikeness, j, i in pairs:
        if ((-unlikeness >= Fraction(1, 2) or names[i] in alone) and i not in taken
                and old[j][0] not in taken.values()):
            taken[i] = old[j][0]
    for i in range(len(items)):
        if i not in taken:
            taken[i] = _fresh_key(names[i], {k for k, _, _ in old} | set(taken.values()))
    return [taken[i] for i in range(len(items))]


def _fresh_key(name: str, keys: set[str]) -> str:
    n = 0
    while (key := f"{name}[{n}]" if n else name) in keys:
        n += 1
    return key


def _item_name(item: dict, i: int) -> str:
    return str(item.get("id") or item.get("channel") or i)


def _same(a: dict, b: dict) -> bool:
    """Two alerts alike, their recipients in any order."""
    def comparable(item: dict) -> dict:
        return {k: frozenset(v) if isinstance(v, list) else v for k, v in item.items()}
    return comparable(a) == comparable(b)


def _likeness(a: dict, b: dict) -> Fraction:
    """The share of two alerts' fields (those set on either) they have in common: an equal
    field counts 1, recipients the share of them both have. The channel, the same in both,
    counts too: a Slack or webhook alert whose one other field, where it posts, changed
    still reads as re-pointed (1 of 2), not removed and added again."""
    fields = [k for k in a.keys() | b.keys() if a.get(k) is not None or b.get(k) is not None]
    def share(x: Any, y: Any) -> Fraction:
        if isinstance(x, list) and isinstance(y, list) and (x or y):
            return Fraction(len(set(x) & set(y)), len(set(x) | set(y)))
        return Fraction(x == y)
    return sum((share(a.get(k), b.get(k)) for k in fields), Fraction(0)) / len(fields)


def _positional_keys(items: list[dict]) -> list[str]:
    keys, seen = [], Counter()
    for i, item in enumerate(items):
        name = _item_name(item, i)
        keys.append(f"{name}[{seen[name]}]" if seen[name] else name)
        seen[name] += 1
    return keys


def compare_revisions(old: list[Agreement], new: list[Agreement]) -> list[RevisionChange]:
    old_by = {(a.name, a.revision): a for a in old}
    new_by = {(a.name, a.revision): a for a in new}
    changes = []
    for key in sorted(old_by.keys() | new_by.keys()):
        before, after = old_by.get(key), new_by.get(key)
        if before is None:
            changes.append(RevisionChange(*key, "added", after.source_file))
        elif after is None:
            changes.append(RevisionChange(*key, "removed", before.source_file))
        else:
            a, b = flatten(before), flatten(after, like=before)
            fields = [FieldChange(f, a.get(f), b.get(f)) for f in sorted(a.keys() | b.keys()) if a.get(f) != b.get(f)]
            if fields:
                changes.append(RevisionChange(*key, "changed", after.source_file, fields))
    return changes


def _month_values(agreements: list[Agreement]) -> dict[tuple[str, str], tuple[str, dict[str, Fraction | int], str]]:
    out = {}
    for m in plan(agreements):
        out[(m.agreement, m.period)] = (m.revision, {"revenue": m.revenue, **m.targets}, m.currency)
    return out


def moved_months(old: list[Agreement], new: list[Agreement]) -> list[MovedMonth]:
    """The months in force on both sides under revisions of other labels. Read from the
    targets that changed, a relabelled revision (2026-h2 as 2026-h2b), or a split whose
    figures stay, moved six months to other checks and alerts without a line saying so."""
    before, after = _month_values(old), _month_values(new)
    return [MovedMonth(*key, before[key][0], after[key][0]) for key in sorted(before.keys() & after.keys())
            if before[key][0] != after[key][0]]


def compare_targets(old: list[Agreement], new: list[Agreement]) -> list[TargetChange]:
    before, after = _month_values(old), _month_values(new)
    changes = []
    for key in sorted(before.keys() | after.keys()):
        old_rev, old_values, old_cur = before.get(key, (None, {}, None))
        new_rev, new_values, new_cur = after.get(key, (None, {}, None))
        for target in dict.fromkeys([*old_values, *new_values]):
            o, n = old_values.get(target), new_values.get(target)
            money = target == "revenue"
            other_money = money and o is not None and n is not None and old_cur != new_cur
            if o == n and not other_money:
                continue
            share = (Fraction(n) - Fraction(o)) / Fraction(o) if o and n is not None and not other_money else None
            # Signed as the exact change is: a cut of 0.00001 % is -0.0, not the +0.0 of a rise.
            pct = None if share is None else float(in_percent(share, 1, signed=True))
            changes.append(TargetChange(key[0], key[1], target, o, n, pct, old_rev, new_rev,
                                        *((old_cur if o is not None else None, new_cur if n is not None else None)
                                          if money else (None, None))))
    return changes


def render(result: DiffResult, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(asdict(result), indent=2, default=_json_number) + "\n"
    return render_markdown(result)


def _json_number(value: Any) -> int | float:
    """A field's Decimal as a JSON number, as the targets are: whole ones as integers, others
    as floats, whose shortest form is the decimal written (0.35, not 0.34999999999999997) for
    every value of up to 15 significant digits. A target (a Fraction) to the cent, rounded
    half up from its exact value as the plan's JSON has it."""
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) if value.denominator == 1 else rounded_decimal(value, 2)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    # ensure_ascii=False: "Suscripción" as written, not "Suscripci\u00f3n".
    return _one_line(json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else str(value))


def _set_change(change: FieldChange) -> str:
    """What came and went in a list whose order means nothing, after its new value: in two
    lists written in another order, one added recipient is hard to find."""
    if not (isinstance(change.old, Unordered) and isinstance(change.new, Unordered)):
        return ""
    added = list(dict.fromkeys(v for v in change.new if change.new.key(v) not in change.old.compared()))
    removed = list(dict.fromkeys(v for v in change.old if change.old.key(v) not in change.new.compared()))
    # Quoted as in the lists: `added "a", "b"`.
    parts = [f"{word} {_one_line(json.dumps(values, ensure_ascii=False)[1:-1])}"
             for word, values in (("added", added), ("removed", removed)) if values]
    return "<br>" + "; ".join(parts)


def _problem_item(problem: Problem) -> str:
    """A list item: where, in code (a file name, a field `lead->mql`, read as written), then the message."""
    where = " ".join(_span(part) for part in (problem.location, problem.field) if part)
    return f"- {where}: {_one_line(problem.message)}" if where else f"- {_one_line(problem.message)}"


# Characters a pull-request comment would read as HTML or Markdown (`<b>` made a label bold,
# `<!-- -->` hid the rest of a definition): each is shown as written, backslash-escaped.
_MARKUP = re.compile(r"([\\`*_~\[\]<>&|])")


def _one_line(text: str) -> str:
    """Text for a Markdown table cell or list item, shown as written: a newline would end the
    row, a | the cell, and markup would be rendered (a file `__x__.yaml` read bold)."""
    text = _MARKUP.sub(r"\\\1", text)
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def _span(text: str) -> str:
    """`text` as a code span, shown whole: a backtick in it (lead-value keys are free text, git
    allows one in a branch name) would end a span fenced by as many; the fence is one longer
    than its longest run of them (CommonMark strips the spaces padding it)."""
    if "`" not in text:
        return f"`{text}`"
    fence = "`" * (max(map(len, re.findall("`+", text))) + 1)
    return f"{fence} {text} {fence}"


def _code(text: str) -> str:
    """A field path as a code span in a table cell: a | still ends the cell, even in code."""
    return _span(text).replace("|", "\\|")


def _target_name(t: TargetChange) -> str:
    """A stage id, or the revenue in its currency: `revenue (USD)`, `revenue (USD → EUR)`."""
    money = " → ".join(dict.fromkeys(c for c in (t.old_currency, t.new_currency) if c))
    return f"{t.target} ({money})" if money else t.target


def _change(t: TargetChange) -> str:
    if t.old is None:
        return "new"
    if t.new is None:
        return "removed"
    if t.old_currency != t.new_currency:  # 100,000 USD against 95,000 EUR is no percentage
        return "other currency"
    if t.change_pct is None:  # a percentage of 0 is undefined: an explicit target of 0 changed
        return "from 0"
    return f"{t.change_pct:+,.1f} %"  # grouped as the targets beside it: +1,150.0 %, not +1150.0 %


def render_markdown(result: DiffResult) -> str:
    lines = [f"### funnelpact: agreement changes {_span(result.base)} → {_span(result.head)}", ""]
    if result.base_problems:
        lines += [f"**{_span(result.base)} does not validate**: the files below are left out of this comparison, so "
                  "the revisions this change has in them read as added, and their months' targets as new.", ""]
        lines += [_problem_item(p) for p in result.base_problems] + [""]
    if not result.revisions and not result.targets:
        return "\n".join(lines + ["No change to the agreements or their targets.", ""])
    for change in result.revisions:
        lines.append(f"- **{change.agreement} {change.revision}** ({_one_line(change.file)}): {change.status}")
    for change in result.revisions:
        if change.fields:
            lines += ["", f"#### {change.agreement} {change.revision}: changed fields", "",
                      "| field | old | new |", "|---|---|---|"]
            lines += [f"| {_code(f.field)} | {_cell(f.old)} | {_cell(f.new)}{_set_change(f)} |" for f in change.fields]
    if result.targets:
        lines += ["", "#### Effect on monthly targets", "",
                  "| agreement | month | target | old | new | change |", "|---|---|---|---|---|---|"]
        for t in result.targets:
            # As the plan's table, the scorecard and the pack show them: money in whole units,
            # cents only where an old and a new figure that differ would read the same.
            old, new = target_and_actual("revenue" if t.target == "revenue" else f"volume:{t.target}", t.old, t.new)
            lines.append(f"| {t.agreement} | {t.period} | {_target_name(t)} | {old} | {new} | {_change(t)} |")
    else:
        # A rate, an attainment or a limit is its KPI's target as written, shown in the fields
        # above: "no target changes" after a raised attainment read as if nothing were asked more.
        lines += ["", "No volume or revenue target changes."]
    # A window moved between revisions: the month's targets (and its alerts' channels) now
    # come from another file, which the field changes above show only as two edited windows.
    if result.moved_months:
        lines += ["", "#### Months judged by another revision", "",
                  "| agreement | month | old revision | new revision |", "|---|---|---|---|"]
        lines += [f"| {m.agreement} | {m.period} | {m.old_revision} | {m.new_revision} |" for m in result.moved_months]
    if result.new_gaps:
        lines += ["", "#### Months no revision is in force in", "",
                  "Never judged (no targets, checks or alerts); if a gap is a slip, move a window to close it.", "",
                  "| agreement | months | between |", "|---|---|---|"]
        lines += [f"| {g.agreement} | {spans(g.months)} | {g.ends} and {g.starts} |" for g in result.new_gaps]
    return "\n".join(lines) + "\n"
