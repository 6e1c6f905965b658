"""`funnelpact compile`: the agreements as Great Expectations suites (docs/checks.md).

The met/breach rule of SPEC section 4 lives here and only here: every judged (period, KPI)
becomes one expectation whose bound is target x (1 - tolerance) for an `at_least` KPI and
target x (1 + tolerance) for an `at_most` one. `pipelines.checks.validate` runs these
expectations and never compares an actual with a target itself.

The suites are plain JSON dictionaries in GX 1.x's format, written without importing
great_expectations: generation is deterministic (sorted keys, ids derived from names with
uuid5, no timestamps, no GX version stamp) so `git diff` of a target change shows exactly
the changed bound, and `--check` takes well under a second.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from pipelines.agreement.kpis import KpiTarget, family, known_kpi_ids, kpi_targets
from pipelines.agreement.model import Agreement
from pipelines.errors import InputError, Problem

FAMILIES = ("volume", "conversion", "handoff", "revenue", "data_quality")

# The KPI families that share another family's suite (the others have their own).
# Recycling is the other half of the hand-off (sales rejects an MQL back to marketing), so
# recycle_rate sits with the hand-off KPIs.
_SHARED_SUITES = {"weighted_volume": "volume", "recycle_rate": "handoff"}

# The GX severity shown in data docs for our warn/fail.
GX_SEVERITY = {"fail": "critical", "warn": "warning"}

SCORECARD_KEYS = ("agreement", "revision", "period", "kpi")

# Where the suites go inside the GX project (the file context's expectations store).
SUITES_SUBDIR = Path("gx") / "expectations"

# Every suite compile writes says so in its meta: only those are ever stale, so a suite
# written by hand in the same GX project is never removed.
GENERATED_BY = "funnelpact compile"

# Fixed namespace: expectation ids are uuid5(suite/period/kpi), stable across runs and
# across target changes, so a changed target changes only its bound and its meta.
_ID_NAMESPACE = uuid.UUID("5b1f4a8e-0c3d-4e51-9a77-6d2b8f0e4c19")


def suite_family(kpi: str) -> str:
    """The suite (one of FAMILIES) that judges a KPI id."""
    kpi_family = family(kpi)
    return _SHARED_SUITES.get(kpi_family, kpi_family)


def suite_name(agreement: str, revision: str, suite: str) -> str:
    # Neither the name nor the revision holds a dot (model.py): GX reads these two dots
    # as the folders of suite_path.
    return f"{agreement}.{revision}.{suite}"


def kpi_column(period: str, kpi: str) -> str:
    """The column of one (period, KPI) actual in the judgement batch (one row per revision)."""
    return f"{period} {kpi}"


def threshold(target: Fraction, tolerance: Decimal, direction: str) -> Fraction:
    """The bound of SPEC section 4, in exact arithmetic (0.4 x 0.95 is 0.38, not 0.37999...)."""
    tol = Fraction(tolerance)
    return target * (1 - tol) if direction == "at_least" else target * (1 + tol)


def written_bound(kpi: str, bound: Fraction) -> float | int:
    """The bound as the suite writes it and GX compares it: a double, the one nearest the
    exact bound, except where that double is the whole number just below a volume's bound.
    A volume is a whole number, so it meets from the bound's ceiling; the nearest double
    only drops to the whole number below where a double has no room for the fraction (a
    bound of 9 999 000 009 998.0001, or 114.0000000000000012 from a tolerance of
    0.04999999999999999), and 9 999 000 009 998 visits would then pass a bound they miss."""
    value = _number(bound)
    if family(kpi) == "volume" and value == math.floor(bound) != bound:
        return math.ceil(bound)
    return value


def _id(*parts: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, "/".join(parts)))


def _number(value: Fraction | Decimal) -> float | int:
    """JSON number: integers stay integers (150, not 150.0) so the files read like the YAML."""
    f = Fraction(value)
    return int(f) if f.denominator == 1 else float(f)


def _kpi_meta(t: KpiTarget) -> dict:
    return {
        "agreement": t.agreement,
        "revision": t.revision,
        "period": t.period,
        "kpi": t.kpi,
        "owner": t.owner,
        "direction": t.direction,
        "target": _number(t.target),
        "tolerance": _number(t.tolerance),
        "severity": t.severity,
    }


def _describe(t: KpiTarget, bound: float | int) -> str:
    word = "at least" if t.direction == "at_least" else "at most"
    sign = "-" if t.direction == "at_least" else "+"
    return (
        f"{t.kpi} in {t.period} ({t.owner}): {word} {bound} "
        f"= target {_number(t.target)} {sign} {_number(t.tolerance * 100)}% tolerance; a miss is {t.severity}"
    )


def kpi_expectation(suite: str, t: KpiTarget) -> dict:
    """One judged (period, KPI). Non-quarantine KPIs run on the judgement batch, where the
    actual sits in column `<period> <kpi>` of a single row: an aggregate expectation
    (min/max of one value) needs no row filter, which makes 24 months x 17 KPIs run in
    about a second instead of ~15 s with one row_condition per expectation (measured)."""
    bound = written_bound(t.kpi, threshold(t.target, t.tolerance, t.direction))
    if t.direction == "at_least":
        kind, kwargs = "expect_column_min_to_be_between", {"min_value": bound}
    else:
        kind, kwargs = "expect_column_max_to_be_between", {"max_value": bound}
    if suite_family(t.kpi) == "data_quality":
        # The data-quality suite runs on the scorecard table itself (one row per KPI).
        kwargs["column"] = "actual"
        kwargs["row_condition"] = {
            "type": "and",
            "conditions": [
                {"type": "comparison", "column": {"name": "period"}, "operator": "==", "parameter": t.period},
                {"type": "comparison", "column": {"name": "kpi"}, "operator": "==", "parameter": t.kpi},
            ],
        }
    else:
        kwargs["column"] = kpi_column(t.period, t.kpi)
    return {
        "id": _id(suite, t.period, t.kpi),
        "type": kind,
        "kwargs": kwargs,
        "meta": _kpi_meta(t),
        "severity": GX_SEVERITY[t.severity],
        "description": _describe(t, bound),
    }


def _integrity_expectations(suite: str, a: Agreement) -> list[dict]:
    """Checks on the scorecard table that make the judgement meaningful; a failure is a
    broken pipeline, not a missed target, so they always fail the run."""
    meta = {
        "agreement": a.name, "revision": a.revision, "period": None, "kpi": None,
        "owner": "shared", "direction": None, "target": None, "tolerance": None, "severity": "fail",
    }
    checks: list[tuple[str, str, dict, str]] = [
        (f"{key}_not_null", "expect_column_values_to_not_be_null", {"column": key},
         f"every scorecard row names its {key}")
        for key in SCORECARD_KEYS
    ]
    checks += [
        ("keys_unique", "expect_compound_columns_to_be_unique", {"column_list": list(SCORECARD_KEYS)},
         "one scorecard row per agreement, revision, period and KPI"),
        ("kpi_known", "expect_column_values_to_be_in_set",
         {"column": "kpi", "value_set": known_kpi_ids(a)},
         "every KPI is one the agreement defines (SPEC section 5)"),
        ("month_started", "expect_column_values_to_be_between",
         {"column": "days_elapsed", "min_value": 0},
         "no month after the as-of instant: every judged month has begun"),
        ("month_not_overrun", "expect_column_pair_values_a_to_be_greater_than_b",
         {"column_A": "days_in_month", "column_B": "days_elapsed", "or_equal": True},
         "no more days elapsed than the month has"),
        ("no_future_facts", "expect_column_pair_values_a_to_be_greater_than_b",
         {"column_A": "as_of", "column_B": "latest_fact_at", "or_equal": True,
          "ignore_row_if": "either_value_is_missing"},
         "no fact in the marts is dated after the as-of instant"),
    ]
    return [
        {
            "id": _id(suite, "check", name),
            "type": kind,
            "kwargs": kwargs,
            "meta": {**meta, "check": name},
            "severity": "critical",
            "description": text,
        }
        for name, kind, kwargs, text in checks
    ]


def agreement_suites(a: Agreement) -> list[dict]:
    """The suites of one revision: one per KPI family, in FAMILIES order."""
    by_suite: dict[str, list[dict]] = {f: [] for f in FAMILIES}
    for t in kpi_targets(a):
        if t.target is None:  # reported only: nothing to assert (docs/checks.md)
            continue
        suite = suite_family(t.kpi)
        by_suite[suite].append(kpi_expectation(suite_name(a.name, a.revision, suite), t))
    dq = suite_name(a.name, a.revision, "data_quality")
    by_suite["data_quality"] = _integrity_expectations(dq, a) + by_suite["data_quality"]
    suites = []
    for suite in FAMILIES:
        name = suite_name(a.name, a.revision, suite)
        suites.append({
            "name": name,
            "id": _id(name),
            "expectations": by_suite[suite],
            "meta": {
                "agreement": a.name,
                "revision": a.revision,
                "family": suite,
                "batch": "scorecard" if suite == "data_quality" else "judgement",
                "generated_by": GENERATED_BY,
                "source": Path(a.source_file).name if a.source_file else None,
            },
            "notes": "Generated from the agreement by `funnelpact compile`; do not edit by hand.",
        })
    return suites


def all_suites(agreements: Iterable[Agreement]) -> list[dict]:
    return [s for a in agreements for s in agreement_suites(a)]


def suite_path(agreement: str, revision: str, suite: str) -> Path:
    """Where GX's file store keeps suite acme.2026-h1.volume: acme/2026-h1/volume.json."""
    return SUITES_SUBDIR / agreement / revision / f"{suite}.json"


def suite_file(suite: dict) -> Path:
    meta = suite["meta"]
    return suite_path(meta["agreement"], meta["revision"], meta["family"])


def render(suite: dict) -> str:
    return json.dumps(suite, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def rendered_files(agreements: Iterable[Agreement]) -> dict[Path, str]:
    """Relative path under the project folder -> file text, for every generated suite."""
    return {suite_file(s): render(s) for s in all_suites(agreements)}


@dataclass(frozen=True)
class Drift:
    """How `expectations/` differs from what `sla/` compiles to."""

    changed: list[Path]
    missing: list[Path]
    stale: list[Path]

    def __bool__(self) -> bool:
        return bool(self.changed or self.missing or self.stale)

    def items(self) -> list[tuple[str, Path]]:
        """(what, relative path): changed, missing, or stale (no agreement generates it)."""
        return (
            [("changed", p) for p in self.changed]
            + [("missing", p) for p in self.missing]
            + [("stale", p) for p in self.stale]
        )

    def lines(self) -> list[str]:
        return [f"{what}: {path}" for what, path in self.items()]


def _generated_suites(out: Path) -> set[Path]:
    """The suite files under `out` that compile wrote (their meta says GENERATED_BY)."""
    root = out / SUITES_SUBDIR
    if not root.is_dir():
        return set()
    return {path.relative_to(out) for path in root.rglob("*.json") if _is_generated(path)}


# How render() writes GENERATED_BY: found in a suite file that no longer parses.
_GENERATED_MARK = json.dumps({"generated_by": GENERATED_BY})[1:-1]


def _is_generated(path: Path) -> bool:
    try:
        raw = path.read_bytes()
    except OSError:
        return False
    try:
        meta = json.loads(raw.decode("utf-8")).get("meta")
    except (ValueError, AttributeError):  # not UTF-8, not JSON, not an object
        # A suite of ours that a merge left with conflict markers, or an editor saved as
        # UTF-16, still says who wrote it: left in place, it passed --check and broke data docs.
        return any(_GENERATED_MARK.encode(encoding) in raw for encoding in ("utf-8", "utf-16-le", "utf-16-be"))
    return isinstance(meta, dict) and meta.get("generated_by") == GENERATED_BY


def drift(agreements: Iterable[Agreement], out: Path, prune: bool = True) -> Drift:
    """How `out` differs from what the agreements compile to. With `prune` the agreements
    are all those of a folder, and a generated suite none of them makes is stale; without
    it (agreements from single files, which may hold only some revisions) nothing is."""
    return _drift(rendered_files(agreements), out, prune)


def _drift(files: dict[Path, str], out: Path, prune: bool) -> Drift:
    changed, missing = [], []
    for rel, text in sorted(files.items()):
        path = out / rel
        if not path.is_file():
            missing.append(rel)
        elif not _reads_as(path, text, out):
            changed.append(rel)
    stale = sorted(_generated_suites(out) - set(files)) if prune else []
    return Drift(changed, missing, stale)


def _reads_as(path: Path, text: str, out: Path) -> bool:
    try:
        return path.read_text(encoding="utf-8") == text
    except UnicodeDecodeError:  # not UTF-8 (an editor's UTF-16 save): not what compile writes
        return False
    except OSError as exc:
        raise InputError(Problem(
            f"cannot read the suites ({exc.strerror or exc}: {exc.filename}); expected suite files this user "
            "can read", file=str(out), field="--out")) from None


def write_suites(agreements: Iterable[Agreement], out: Path, prune: bool = True) -> Drift:
    """Write every suite under `out`, with `prune` remove the stale ones (see drift), and
    make `out` a GX project if it is not one yet. Returns what it changed."""
    from pipelines.checks.context import ensure_project

    files = rendered_files(agreements)
    root = (out / SUITES_SUBDIR).resolve()
    for rel in files:
        # Validation keeps names and revisions to safe characters; an agreement built any
        # other way must still not write outside the suites folder (a revision such as
        # '../../x' or '/tmp/x' once did).
        if not (out / rel).resolve().is_relative_to(root):
            raise ValueError(f"suite file {rel} would be written outside {out / SUITES_SUBDIR}")
    try:
        ensure_project(out)
        before = _drift(files, out, prune)
        for rel in [*before.changed, *before.missing]:
            path = out / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(files[rel], encoding="utf-8")
        for rel in before.stale:
            (out / rel).unlink()
            _prune_empty_dirs((out / rel).parent, out / SUITES_SUBDIR)
    except OSError as exc:
        raise InputError(Problem(
            f"cannot write the suites ({exc.strerror or exc}: {exc.filename}); expected a folder compile "
            "can create and write into", file=str(out), field="--out")) from None
    return before


def _prune_empty_dirs(folder: Path, root: Path) -> None:
    while folder != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
