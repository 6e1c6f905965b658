"""The shipped JSON Schema, the sla/ examples' editor hint, and the light commands staying light."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import ROOT
from pipelines.cli import app

SHIPPED = ROOT / "pipelines" / "agreement" / "agreement.schema.json"
SCHEMA_HINT = "# yaml-language-server: $schema="
HEAVY = ("dagster", "dbt", "great_expectations")


def test_funnelpact_schema_prints_valid_json_equal_to_the_shipped_schema() -> None:
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["$schema"].startswith("https://json-schema.org/")
    assert printed == json.loads(SHIPPED.read_text(encoding="utf-8")), (
        "pipelines/agreement/agreement.schema.json is out of date with the model; regenerate it:\n"
        "    funnelpact schema > pipelines/agreement/agreement.schema.json"
    )


def test_the_schema_knows_the_top_level_keys_and_refuses_unknown_ones() -> None:
    schema = json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert set(schema["required"]) == {"apiVersion", "kind", "metadata", "spec"}
    assert "source_file" not in schema["properties"]
    assert schema["additionalProperties"] is False


def _schema_errors(text: str) -> list[str]:
    import jsonschema  # what editors' YAML extensions check with, in effect

    from pipelines.agreement.yaml_source import load_yaml

    validator = jsonschema.Draft202012Validator(json.loads(SHIPPED.read_text(encoding="utf-8")))
    data = json.loads(json.dumps(load_yaml(text, "agreement.yaml").data, default=float))
    return sorted(f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data))


def test_the_schema_accepts_the_shipped_agreements() -> None:
    for file in sorted((ROOT / "sla").glob("*.yaml")):
        assert _schema_errors(file.read_text(encoding="utf-8")) == [], file


@pytest.mark.parametrize(("written", "as_text"), [
    ("lead->mql: {rate: 0.30}", "lead->mql: {rate: \"0.30\"}"),
    ("lead->mql: {rate: 0.30}", "lead->mql: {rate: 30%}"),
    ("tolerance: 0.05", "tolerance: 5%"),
    ("revenue_goal: 600000", "revenue_goal: $600000"),
    ("within_hours: 4,", "within_hours: 4h,"),
    ("c_level: 3,", "c_level: '3',"),
], ids=lambda v: v)
def test_the_schema_refuses_a_number_written_as_text_as_validate_does(written: str, as_text: str, funnelpact,
                                                                      tmp_path: Path) -> None:
    """An editor checking against the schema flags what `funnelpact validate` refuses."""
    text = (ROOT / "sla" / "acme-2026-h1.yaml").read_text(encoding="utf-8")
    assert text.count(written) == 1
    file = tmp_path / "acme.yaml"
    file.write_text(text.replace(written, as_text), encoding="utf-8")
    assert funnelpact("validate", file).code == 2
    errors = _schema_errors(file.read_text(encoding="utf-8"))
    assert len(errors) == 1, errors  # the value (or an optional mapping holding it) is refused


@pytest.mark.parametrize("stage_id", ["recycled", "disqualified", "customers", "currency"])
def test_the_schema_refuses_a_stage_id_validate_refuses(stage_id: str, funnelpact, tmp_path: Path) -> None:
    """`id: recycled` passed the editor's check, and failed only at validate."""
    text = (ROOT / "sla" / "acme-2026-h1.yaml").read_text(encoding="utf-8")
    assert text.count("id: customer,") == 1
    file = tmp_path / "acme.yaml"
    file.write_text(text.replace("id: customer,", f"id: {stage_id},"), encoding="utf-8")
    assert funnelpact("validate", file).code == 2
    assert [e for e in _schema_errors(file.read_text(encoding="utf-8")) if e.startswith("spec.stages.")] != []


@pytest.mark.parametrize("currency, valid", [("USX", False), ("XYZ", False), ("EUR", True), ("HRK", True)])
def test_the_schema_knows_the_currencies_validate_knows(currency: str, valid: bool, funnelpact, tmp_path: Path) -> None:
    """`currency: USX` passed the editor's check (three capitals) and failed only at validate."""
    text = (ROOT / "sla" / "acme-2026-h1.yaml").read_text(encoding="utf-8")
    assert text.count("currency: USD") == 1
    file = tmp_path / "acme.yaml"
    file.write_text(text.replace("currency: USD", f"currency: {currency}"), encoding="utf-8")
    assert funnelpact("validate", file).code == (0 if valid else 2)
    errors = [e for e in _schema_errors(file.read_text(encoding="utf-8")) if e.startswith("spec.currency")]
    assert [e.startswith(f"spec.currency: {currency!r} is not one of ['AED', ") for e in errors] == (
        [] if valid else [True]), errors


@pytest.mark.parametrize("file", sorted((ROOT / "sla").glob("*.yaml")), ids=lambda f: f"sla/{f.name} points editors at the schema")
def test_every_sla_file_starts_with_the_schema_comment(file: Path) -> None:
    first = file.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(SCHEMA_HINT), first
    target = (file.parent / first[len(SCHEMA_HINT):].strip()).resolve()
    assert target == SHIPPED.resolve()


LIGHT_COMMANDS = {
    "validate": ["validate", "sla"],
    "plan": ["plan", "--format", "json"],
    "schema": ["schema"],
    "diff": ["diff", "HEAD"],
}


@pytest.mark.parametrize("command", sorted(LIGHT_COMMANDS), ids=lambda c: f"funnelpact {c} imports no heavy library")
def test_light_commands_import_none_of_dagster_dbt_great_expectations(command: str) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        sys.argv = ["funnelpact", *{LIGHT_COMMANDS[command]!r}]
        from pipelines.cli import main
        try:
            main()
        except SystemExit as exc:
            code = exc.code or 0
        else:
            code = 0
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})
        print("HEAVY:" + ",".join(heavy), file=sys.stderr)
        sys.exit(code)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    imported = next(line for line in done.stderr.splitlines() if line.startswith("HEAVY:"))
    assert imported == "HEAVY:", f"funnelpact {command} imported {imported[len('HEAVY:'):]}"


def test_validate_sla_completes_in_well_under_a_second() -> None:
    # Measured inside a fresh interpreter from before the first import of funnelpact to the
    # exit; the limit is 2 s because CI and dev machines are shared (~0.4 s on an idle one).
    script = textwrap.dedent(
        """
        import sys, time
        start = time.perf_counter()
        sys.argv = ["funnelpact", "validate", "sla"]
        from pipelines.cli import main
        try:
            main()
        except SystemExit as exc:
            code = exc.code or 0
        print(f"ELAPSED {time.perf_counter() - start:.3f}", file=sys.stderr)
        sys.exit(code)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    elapsed = float(done.stderr.split("ELAPSED")[1])
    print(f"funnelpact validate sla/ took {elapsed:.3f} s (imports included)")
    assert elapsed < 2.0


def test_the_schema_uses_json_schema_keywords_only() -> None:
    # pydantic writes its own gt/le/... when a validator stands between a type and its bounds.
    def keys(node):
        if isinstance(node, dict):
            for key, value in node.items():
                yield key
                yield from keys(value)
        elif isinstance(node, list):
            for item in node:
                yield from keys(item)

    schema = json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert not {"gt", "ge", "lt", "le"} & set(keys(schema))


@pytest.mark.parametrize(
    ("key", "value"),
    [("revision", "2026"), ("revision", "2026-h1"), ("revision", "1.5"), ("revision", "-5"), ("revision", "'../x'"),
     ("name", "2026"), ("name", "acme"), ("name", "'acme.x'")],
)
def test_the_schema_accepts_a_name_or_revision_exactly_when_validate_does(key: str, value: str) -> None:
    # Editors check files with the schema: a number validate reads as text must pass there too.
    import jsonschema
    import yaml

    from pipelines.agreement.load import parse_document
    from pipelines.agreement.yaml_source import load_yaml
    from pipelines.errors import InputError

    minimal = (ROOT / "tests/fixtures/sla/valid/minimal-agreement-relying-on-defaults.yaml").read_text(encoding="utf-8")
    old = {"revision": 'revision: "1"', "name": "name: minimal"}[key]
    text = minimal.replace(old, f"{key}: {value}")
    try:
        parse_document(load_yaml(text, "test.yaml"))
        valid = True
    except InputError:
        valid = False
    schema = json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert jsonschema.Draft202012Validator(schema).is_valid(yaml.safe_load(text)) == valid
