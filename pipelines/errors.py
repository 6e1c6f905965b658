"""Errors the command line turns into a clear message and exit code 2."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is and what was expected."""

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    field: str | None = None

    @property
    def location(self) -> str:
        """file:line:column, as much of it as is known."""
        where = self.file or ""
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return where

    def __str__(self) -> str:
        prefix = " ".join(p for p in (self.location, self.field) if p)
        return f"{prefix}: {self.message}" if prefix else self.message


def visible(name: str) -> str:
    """A name as a message lists it: as written, or quoted with its invisible characters
    escaped when it holds any ('\\ufeffcontact_id': a second byte-order mark, a zero-width
    space). Listed as written, it read exactly as the column the message said was missing."""
    return name if name.isprintable() else repr(name)


# Exit codes beyond SPEC §7's 0, 1 (a fail-severity breach) and 2 (bad input): a scheduler
# must tell a missed target from a pipeline that did not finish.
EXIT_FAILED = 3          # the run failed for another reason than bad input (its log says why)
EXIT_INTERRUPTED = 130   # Ctrl-C / SIGINT, the shells' convention (128 + 2)


def interrupted_query(cls_name: str, message: str) -> bool:
    """Ctrl-C while DuckDB runs a query: DuckDB raises RuntimeError('Query interrupted') in
    place of the KeyboardInterrupt (in a Dagster step, of DagsterExecutionInterruptedError),
    and a command the user stopped read as a crash (exit 3, "this is a bug")."""
    # InterruptException: DuckDB's own class for it, in the releases that raise one.
    return cls_name in ("RuntimeError", "InterruptException") and message.strip() == "Query interrupted"


class InputError(Exception):
    """Bad input (agreement, data directory, arguments): exit code 2.

    Carries every problem found, so a user fixes them all in one go.
    """

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
