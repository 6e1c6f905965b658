"""Ctrl-C is exit code 130 and one line, also when it lands where Python cannot raise it."""

from __future__ import annotations

import subprocess
import sys

DYING = """
import sys, threading
from pipelines.cli import quiet_interrupts
sys.unraisablehook = quiet_interrupts
class Dying:
    def __init__(self, error):
        self.error = error
    def __del__(self):
        raise self.error
# Another thread: how defs.dbt.stop_builds stops dbt's build, which may land in a finalizer there.
stopped = threading.Thread(target=lambda: Dying(KeyboardInterrupt()))
stopped.start()
stopped.join()
Dying(ValueError("a real bug"))
print("went on")
"""


def test_a_stop_inside_a_finalizer_of_another_thread_prints_no_traceback_and_other_errors_still_do() -> None:
    # An interrupted run printed "Exception ignored in: <function WeakSet.__init__.<locals>._remove …>",
    # "Traceback (most recent call last)" and "KeyboardInterrupt" above "funnelpact: interrupted".
    done = subprocess.run([sys.executable, "-c", DYING], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "went on\n"
    assert "KeyboardInterrupt" not in done.stderr
    assert "ValueError: a real bug" in done.stderr


CTRL_C_IN_A_FINALIZER = """
import os, signal, sys, time
import pipelines.agreement.schema
import pipelines.cli

class Collected:
    def __del__(self):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while a garbage collection runs finalizers
        for _ in range(1000):  # Python raises KeyboardInterrupt in here, where it cannot propagate
            pass

def render_schema():
    Collected()
    time.sleep(30)  # the rest of the command, which the Ctrl-C stops
    return "{}"

pipelines.agreement.schema.render_schema = render_schema
sys.argv = ["funnelpact", "schema"]
pipelines.cli.main()
"""


def test_ctrl_c_that_lands_in_a_finalizer_of_the_main_thread_still_interrupts_the_command() -> None:
    # It was dropped without a word: a run interrupted while Python collected Dagster's and
    # dbt's objects went on, sent its alerts and exited 1 like a missed target.
    done = subprocess.run([sys.executable, "-c", CTRL_C_IN_A_FINALIZER], capture_output=True, text=True, timeout=60)
    assert done.returncode == 130, (done.stdout, done.stderr)
    assert done.stdout == "", "the command stopped where it was interrupted"
    assert done.stderr == "funnelpact: interrupted\n"


def test_main_installs_the_hook() -> None:
    code = ("import sys; import pipelines.cli as cli; sys.argv = ['funnelpact', 'schema']\n"
            "try: cli.main()\nexcept SystemExit: pass\n"
            "assert sys.unraisablehook is cli.quiet_interrupts")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


# What DuckDB raises when Ctrl-C lands in a query it is running. Raised here rather than by a
# real Ctrl-C: DuckDB 2.0 misses about half of them (the query runs on), so that test would not
# be deterministic.
DUCKDB_INTERRUPTED_QUERY = """
import sys
import pipelines.agreement.schema
import pipelines.cli

def render_schema():
    raise RuntimeError("Query interrupted")

pipelines.agreement.schema.render_schema = render_schema
sys.argv = ["funnelpact", "schema"]
pipelines.cli.main()
"""


def test_ctrl_c_while_duckdb_runs_a_query_is_an_interruption_not_a_bug() -> None:
    # It read "funnelpact failed unexpectedly (RuntimeError: Query interrupted); this is a bug", exit 3.
    done = subprocess.run([sys.executable, "-c", DUCKDB_INTERRUPTED_QUERY], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 130, (done.stdout, done.stderr)
    assert done.stderr == "funnelpact: interrupted\n"
