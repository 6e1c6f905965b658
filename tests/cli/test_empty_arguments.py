"""An empty value (`--out "$OUT"` with OUT unset) is bad input, exit 2, naming the option: as a
path it was the current folder (generate wrote its five tables there, validate read it), and an
empty --as-of judged as of now, without a word, what was meant to be judged as of the past."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import app


@pytest.mark.parametrize("args, named", [
    (["generate", "--out", "", "--contacts", "5"], "--out"),
    (["generate", "--out=", "--contacts", "5"], "--out"),
    (["backfill", "--from", "2026-01", "--to", "2026-02", "--as-of", ""], "--as-of"),
    (["run", "--data", ""], "--data"),
    (["plan", "-f", ""], "-f"),
    (["validate", ""], "an argument"),
], ids=lambda value: " ".join(repr(a) if a == "" else a for a in value) if isinstance(value, list) else "")
def test_an_empty_value_is_refused_before_anything_is_read_or_written(
        args: list[str], named: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert f"{named} is empty" in said or f"for {named}: it is empty" in said, said
    assert list(tmp_path.iterdir()) == [], "nothing is written into the current folder"
