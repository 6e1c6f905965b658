"""A run of the CLI on a full disk: a real limit, not a mock. The run is a child process under
RLIMIT_FSIZE (what `ulimit -f` sets), so a file that grows past it fails to grow as on a full
disk (EFBIG instead of ENOSPC, both handled alike), unprivileged as in CI. The limit lets dbt
parse the project (its manifest is ~1 MB) and stops Dagster's run index, which the run's planned
materialisations grow past it before the load starts: a failure outside the job's steps."""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
from pathlib import Path

LIMIT = 2_000_000  # bytes a file may grow to


def _file_size_limit() -> None:
    # Ignored, SIGXFSZ no longer kills the process: the write fails with EFBIG.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def run_on_a_full_dagster_home(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """`funnelpact <args>` in a child process whose Dagster home fills up. Use a copy of the dbt
    project (tests/defs/dbt_copy.py): the repository's dbt.log may be past the limit."""
    return subprocess.run([sys.executable, "-c", "from pipelines.cli import main; main()", *args],
                          capture_output=True, text=True, cwd=cwd, preexec_fn=_file_size_limit, timeout=300)
