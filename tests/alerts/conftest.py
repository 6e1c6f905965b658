"""Fixtures: loopback HTTP and SMTP servers, started per test and stopped after it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .loopback import HttpRecorder, SmtpRecorder


@pytest.fixture
def http() -> Iterator[HttpRecorder]:
    server = HttpRecorder()
    yield server
    server.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpRecorder]:
    server = SmtpRecorder()
    yield server
    server.stop()
