"""Ctrl-C is exit code 130 and one line, also when it lands where Python cannot raise it."""

from __future__ import annotations

import subprocess
import sys

DYING = """
import sys
from pipelines.cli import quiet_interrupts
sys.unraisablehook = quiet_interrupts
class Dying:
    def __init__(self, error):
        self.error = error
    def __del__(self):
        raise self.error
Dying(KeyboardInterrupt())
Dying(ValueError("a real bug"))
"""


def test_an_interrupt_inside_a_finalizer_prints_no_traceback_and_other_errors_still_do() -> None:
    # An interrupted run printed "Exception ignored in: <function WeakSet.__init__.<locals>._remove …>",
    # "Traceback (most recent call last)" and "KeyboardInterrupt" above "funnelpact: interrupted".
    done = subprocess.run([sys.executable, "-c", DYING], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "KeyboardInterrupt" not in done.stderr
    assert "ValueError: a real bug" in done.stderr


def test_main_installs_the_hook() -> None:
    code = ("import sys; import pipelines.cli as cli; sys.argv = ['funnelpact', 'schema']\n"
            "try: cli.main()\nexcept SystemExit: pass\n"
            "assert sys.unraisablehook is cli.quiet_interrupts")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
