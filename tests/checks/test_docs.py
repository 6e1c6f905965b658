"""docs/checks.md stays true: every result field and option documented, the example real."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime

import click
import typer

from pipelines.checks.compile import all_suites
from pipelines.agreement.kpis import STATUSES
from pipelines.checks.validate import KpiResult
from pipelines.cli import check_cmds

from .conftest import ROOT

DOC = (ROOT / "docs" / "checks.md").read_text(encoding="utf-8")


def test_every_result_field_and_status_is_documented() -> None:
    for f in dataclasses.fields(KpiResult):
        assert f"`{f.name}`" in DOC, f.name
    for status in STATUSES:
        assert f"`{status}`" in DOC, status


def test_every_compile_option_is_documented() -> None:
    app = typer.Typer()
    app.callback()(lambda: None)
    check_cmds.register(app)
    command = typer.main.get_command(app).commands["compile"]
    for param in command.params:
        if isinstance(param, click.Option) and param.name != "help":
            assert f"`{param.opts[0]}`" in DOC, param.opts[0]


def test_the_example_expectation_is_the_generated_one(agreements) -> None:
    example = json.loads(re.search(r"```json\n(.*?)```", DOC, re.S).group(1))
    generated = {e["id"]: e for s in all_suites(agreements) for e in s["expectations"]}
    assert generated[example["id"]] == example


def test_the_run_json_example_has_the_keys_run_prints() -> None:
    """The documented `run --format json` object is the one scorecard_json writes: its keys,
    a result's fields, and the data-quality keys, so a reader parsing it is not misled."""
    import duckdb

    from pipelines.cli.scorecard_output import PUBLIC_FIELDS, scorecard_json
    from pipelines.warehouse.summary import data_quality_summary

    example = json.loads(next(b for b in re.findall(r"```json\n(.*?)```", DOC, re.S) if '"run_id"' in b))
    printed = json.loads(scorecard_json(datetime(2026, 3, 12, 6, tzinfo=UTC), ["2026-03"], [{}],
                                        data_quality_summary(duckdb.connect()), "run-id", []))
    assert list(example) == list(printed)
    assert list(example["results"][0]) == list(printed["results"][0]) == list(PUBLIC_FIELDS)
    assert list(example["data_quality"]) == list(printed["data_quality"])
    # The fields of KpiResult that the run's JSON leaves out are the ones the page names.
    left_out = re.search(r"`KpiResult` fields\s+below but (.*?);", DOC, re.S).group(1)
    assert set(re.findall(r"`(\w+)`", left_out)) == {f.name for f in dataclasses.fields(KpiResult)} - set(PUBLIC_FIELDS)
