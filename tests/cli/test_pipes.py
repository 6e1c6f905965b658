"""Output read by a program that stops early (`funnelpact plan | head -3`) ends the command as
it would have ended, with its own exit code: not exit 1, a fail-severity breach (SPEC section 7)
or `compile --check`'s stale suites, and not "failed unexpectedly ... this is a bug", exit 3."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def funnelpact_into_a_closed_pipe(*args: str, closed: str = "stdout") -> subprocess.CompletedProcess:
    """The command with stdout (or stderr) a pipe whose reader has already gone: every write
    to it fails with EPIPE, as when `head` has read its lines and exited."""
    read, write = os.pipe()
    os.close(read)
    try:
        streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, closed: write}
        env = {**os.environ, "FUNNELPACT_SLA_DIR": str(ROOT / "sla")}
        return subprocess.run([sys.executable, "-c", "from pipelines.cli import main; main()", *args],
                              text=True, cwd=ROOT, env=env, timeout=120, **streams)
    finally:
        os.close(write)


@pytest.mark.parametrize("args", [["plan"], ["plan", "--format", "json"], ["plan", "--format", "csv"], ["schema"],
                                  ["validate"], ["compile", "--check"], ["--help"], ["plan", "--help"]],
                         ids=lambda args: f"funnelpact {' '.join(args)} piped into a reader that left")
def test_a_reader_that_leaves_early_changes_neither_the_exit_code_nor_the_messages(args: list[str]) -> None:
    done = funnelpact_into_a_closed_pipe(*args)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_bad_input_is_still_exit_2_when_stderr_s_reader_has_left() -> None:
    done = funnelpact_into_a_closed_pipe("plan", "--month", "2026-13", closed="stderr")
    assert done.returncode == 2
    assert done.stdout == ""


@pytest.mark.parametrize(("args", "closed"), [([], "stdout"), (["plan", "--no-such-option"], "stderr")],
                         ids=["funnelpact without a command, its help piped", "a usage error, stderr piped"])
def test_typer_s_own_help_and_usage_errors_keep_their_exit_code_2_when_the_reader_has_left(args, closed) -> None:
    # typer prints these on consoles of its own, which ended with exit 1, a fail-severity breach.
    done = funnelpact_into_a_closed_pipe(*args, closed=closed)
    assert done.returncode == 2
    assert (done.stderr if closed == "stdout" else done.stdout) == ""
