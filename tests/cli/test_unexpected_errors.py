"""An error funnelpact did not expect (a bug) is one line and exit 3, not Python's traceback and
exit 1, which SPEC section 7 gives to a missed target (and `compile --check` to stale suites)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pipelines.cli import app


@pytest.fixture
def broken_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    # A bug planted where nothing in the environment can cause it: the schema is built in code.
    def render_schema() -> str:
        raise KeyError("properties")

    monkeypatch.setattr("pipelines.agreement.schema.render_schema", render_schema)


def test_a_bug_is_one_line_and_exit_3(broken_schema: None) -> None:
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 3, result.output
    said = " ".join(result.output.split())
    assert ("error funnelpact failed unexpectedly (KeyError: 'properties'); this is a bug: run the command "
            "again with --debug for the traceback, and report it") in said
    assert "Traceback" not in said


def test_debug_shows_the_traceback_and_keeps_the_exit_code(broken_schema: None) -> None:
    result = CliRunner().invoke(app, ["--debug", "schema"])
    assert result.exit_code == 3
    assert "Traceback (most recent call last)" in result.output and "render_schema" in result.output


def test_click_s_own_ends_keep_their_codes() -> None:
    assert CliRunner().invoke(app, ["plan", "--format", "yaml"]).exit_code == 2  # a usage error
    assert CliRunner().invoke(app, ["schema", "--help"]).exit_code == 0
