"""docs/checks.md stays true: every result field and option documented, the example real."""

from __future__ import annotations

import dataclasses
import json
import re

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
