"""Shared helpers of the agreement tests: run `funnelpact` the way its console script does."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "sla"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def funnelpact(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Call the console-script entry point in-process, from the repository root.

    `pipelines.cli.main` is what the `funnelpact` script runs, exit code and all (its
    command group turns an InputError into one line per problem and exit code 2), so that
    is what these tests drive. In-process keeps 60 fixture runs at a fraction of a second
    each on a shared 2-core machine.
    """
    from pipelines.cli import main

    monkeypatch.chdir(ROOT)

    def run(*args: str | Path) -> Run:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["funnelpact", *map(str, args)])
        with pytest.raises(SystemExit) as exited:
            main()
        out, err = capsys.readouterr()
        code = exited.value.code
        return Run(code=code if isinstance(code, int) else 1 if code else 0, out=out, err=err)

    return run
