"""Dagster's local compute logs, whose mirroring processes do not take the terminal's Ctrl-C.

While a run's output is captured, Dagster mirrors each captured stream back to the terminal
with a `tail -F` and a Python watcher that stops the tail if the run dies. They are started in
funnelpact's process group, so a Ctrl-C at the terminal reached them as well, and each watcher
printed a KeyboardInterrupt traceback under funnelpact's own "interrupted". They are started
with SIGINT blocked (a signal mask is inherited, a handler is not): they still stop when the
run ends, or dies, as before. The run itself gets its Ctrl-C: blocked only while they start,
a SIGINT is held, not lost.

Same files in the same place: the Dagster UI, and an instance without this class, read them
unchanged. Configured in the dagster.yaml funnelpact writes (pipelines/defs/instance.py).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

from dagster._core.storage.compute_log_manager import CapturedLogContext
from dagster._core.storage.local_compute_log_manager import LocalComputeLogManager
from dagster._serdes import ConfigurableClassData


@contextmanager
def _sigint_blocked() -> Iterator[None]:
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class MirroredComputeLogManager(LocalComputeLogManager):
    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
                          ) -> MirroredComputeLogManager:
        return cls(inst_data=inst_data, **config_value)  # Dagster's builds a LocalComputeLogManager

    @contextmanager
    def capture_logs(self, log_key: Sequence[str]) -> Iterator[CapturedLogContext]:
        with ExitStack() as stack:
            with _sigint_blocked():  # what starts the mirroring processes
                context = stack.enter_context(super().capture_logs(log_key))
            yield context
