"""docs/agreement.md keeps in step with the model: every key documented, no stale key, example valid."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction

import pytest
from pydantic import BaseModel

from conftest import ROOT
from pipelines.agreement.kpis import policy
from pipelines.agreement.load import parse_document
from pipelines.agreement.model import Agreement
from pipelines.agreement.plan import plan_agreement
from pipelines.agreement.yaml_source import load_yaml

DOC = ROOT / "docs" / "agreement.md"
TEXT = DOC.read_text(encoding="utf-8")


def _unwrap(annotation: typing.Any) -> list[typing.Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [a for arg in typing.get_args(annotation) for a in _unwrap(arg)]
    return [annotation]


def model_keys(annotation: typing.Any = Agreement, prefix: str = "") -> Iterator[tuple[str, typing.Any]]:
    """Every key path of the file format: `[]` for list items, `*` for mapping values."""
    for candidate in _unwrap(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            for name, info in candidate.model_fields.items():
                if info.exclude:  # source_file: where it was loaded from, not a key
                    continue
                path = f"{prefix}.{info.alias or name}" if prefix else info.alias or name
                yield path, info
                yield from model_keys(info.annotation, path)
        elif typing.get_origin(candidate) is list:
            yield from model_keys(typing.get_args(candidate)[0], prefix + "[]")
        elif typing.get_origin(candidate) is dict:
            yield from model_keys(typing.get_args(candidate)[1], prefix + ".*")


KEYS = dict(model_keys())  # a path shared by alert channels (`channel`) counts once
DOC_ROWS = {m.group(1): m.group(0) for m in re.finditer(r"^\| `([^`]+)` \|.*$", TEXT, re.MULTILINE)}


def test_the_walk_finds_the_whole_model() -> None:
    # Guards the walk itself: nested models, lists, mappings and the alert union.
    for path in ("spec.stages[].id", "spec.conversion.*.window_days", "spec.alerts[].smtp_url_env",
                 "spec.alerts[].url_env", "metadata.owners.sales.email", "spec.effective.from"):
        assert path in KEYS
    assert "source_file" not in KEYS
    assert len(KEYS) > 55


@pytest.mark.parametrize("path", sorted(KEYS), ids=lambda p: f"{p} is documented")
def test_every_key_of_the_model_has_a_row_in_the_docs(path: str) -> None:
    assert path in DOC_ROWS, f"docs/agreement.md has no table row starting with | `{path}` |"
    columns = [c.strip() for c in DOC_ROWS[path].strip("|").split("|")]
    assert len(columns) == 4 and columns[1], f"row of {path} needs: key | meaning | default | example"


@pytest.mark.parametrize(
    "path", sorted(p for p in DOC_ROWS if "." in p or p in ("apiVersion", "kind", "metadata", "spec")),
    ids=lambda p: f"{p} in the docs exists in the model",
)
def test_every_documented_key_exists_in_the_model(path: str) -> None:
    # (KPI ids such as `volume:<stage>` have no dot and are not selected.)
    assert path in KEYS, f"docs/agreement.md documents {path}, which the model does not have"


@pytest.mark.parametrize(
    "path",
    sorted(p for p, info in KEYS.items() if isinstance(info.default, (str, int, Decimal)) and not isinstance(info.default, bool)),
    ids=lambda p: f"the default of {p} is stated",
)
def test_scalar_defaults_are_stated_in_the_default_column(path: str) -> None:
    default = str(KEYS[path].default)
    columns = [c.strip() for c in DOC_ROWS[path].strip("|").split("|")]
    assert default in columns[2], f"the default of {path} is {default}; the docs say {columns[2]!r}"


@pytest.mark.parametrize("path", sorted(p for p, info in KEYS.items() if info.is_required()), ids=lambda p: f"{p} is marked required")
def test_required_keys_say_so(path: str) -> None:
    assert "required" in DOC_ROWS[path]


def _yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", TEXT, re.DOTALL)


def test_the_complete_example_is_a_valid_agreement_that_uses_every_documented_section() -> None:
    example = next(b for b in _yaml_blocks() if "apiVersion" in b)
    agreement = parse_document(load_yaml(example, "docs/agreement.md"))
    written = set(re.findall(r"\b([a-z_A-Z]+):", example))
    leaves = {p.rsplit(".", 1)[-1].removesuffix("[]") for p in KEYS}
    assert leaves - written == set(), "keys missing from the complete example"
    # The worked example's table is the plan of this revision.
    months = {m.period: m for m in plan_agreement(agreement)}
    assert months["2026-01"].targets == {"visit": 16836, "lead": 337, "mql": 102, "sql": 41, "opportunity": 21, "customer": 7}
    assert months["2026-03"].targets["mql"] == 150 and months["2026-06"].customers == Fraction(10)


def test_the_policy_example_gives_the_results_the_docs_state() -> None:
    example = next(b for b in _yaml_blocks() if "apiVersion" in b)
    agreement = parse_document(load_yaml(example, "docs/agreement.md"))
    assert "`volume:visit` is (0.05, warn), `volume:mql` is (0.05, fail), `revenue` is (0.05, fail)" in TEXT
    assert policy(agreement, "volume:visit") == (Decimal("0.05"), "warn")
    assert policy(agreement, "volume:mql") == (Decimal("0.05"), "fail")
    assert policy(agreement, "revenue") == (Decimal("0.05"), "fail")


def test_the_met_rule_the_docs_state_is_the_bound_compile_writes() -> None:
    from pipelines.checks.compile import threshold

    assert "at most target · (1 + tolerance)" in TEXT and "met up to 0.2625" in TEXT
    assert threshold(Fraction("0.25"), Decimal("0.05"), "at_most") == Fraction("0.2625")
    assert "at least target · (1 − tolerance)" in TEXT
    assert threshold(Fraction(150), Decimal("0.05"), "at_least") == Fraction("142.5")


# Each message the page quotes, and the edit of the shipped file it names that the page says gives it.
QUOTED_EDITS = {
    "spec.conversion.lead->mql.rate": ("lead->mql: {rate: 0.30}", "lead->mql: {rate: 30}"),
    "spec.seasonality.2026-01": ("seasonality: {2026-01: 0.8, 2026-06: 1.2}", "seasonality: {2026-01: 80, 2026-06: 120}"),
    "spec.effective": ("effective: {from: 2026-07,", "effective: {from: 2026-08,"),
}


@pytest.mark.parametrize("quoted", re.findall(r"^(?:error|warning) sla/\S+ .*$", TEXT, re.MULTILINE),
                         ids=lambda q: q.split()[2])
def test_a_quoted_message_is_what_validate_prints_for_the_edit_the_page_describes(quoted, funnelpact, tmp_path,
                                                                                 monkeypatch) -> None:
    """A reader who makes the edit in the shipped file sees the line the page shows."""
    file = ROOT / quoted.split()[1].split(":")[0]
    assert file.parent == ROOT / "sla" and file.is_file(), "quote a shipped file, as a reader would edit it"
    old, new = QUOTED_EDITS[quoted.split()[2].removesuffix(":")]
    text = file.read_text(encoding="utf-8")
    assert old in text
    (tmp_path / "sla").mkdir()
    for shipped in (ROOT / "sla").glob("*.yaml"):  # the other revisions too: a warning may be about them all
        (tmp_path / "sla" / shipped.name).write_bytes(shipped.read_bytes())
    (tmp_path / "sla" / file.name).write_text(text.replace(old, new), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    run = funnelpact("validate")
    assert quoted in run.err.splitlines(), run.err


def test_every_key_plan_prints_as_json_is_named_on_the_page() -> None:
    """`plan --format json` gained `currency` and `explicit` after the page was written: a key
    a reader finds in the output is one the page explains."""
    from pipelines.agreement.plan import plan_window
    from pipelines.cli.plan_output import plan_json

    example = next(b for b in _yaml_blocks() if "apiVersion" in b)
    agreement = parse_document(load_yaml(example, "docs/agreement.md"))
    printed = plan_json(plan_agreement(agreement), [plan_window(agreement)])
    keys = set(printed) | {k for part in printed.values() for item in part for k in item}
    assert {k for k in keys if f"`{k}`" not in TEXT} == set()


def test_every_field_diff_prints_as_json_is_named_on_the_page() -> None:
    import dataclasses

    from pipelines.agreement.diff import DiffResult, FieldChange, Gap, RevisionChange, TargetChange

    fields = {f.name for cls in (DiffResult, RevisionChange, FieldChange, TargetChange, Gap)
              for f in dataclasses.fields(cls)}
    assert {f for f in fields if f"`{f}`" not in TEXT} == set()
