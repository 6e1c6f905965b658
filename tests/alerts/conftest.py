"""Fixtures: loopback SMTP servers and an HTTP proxy, started per test and stopped after it;
those and HTTP over TLS with a test certificate authority made once per session. The plain
HTTP one, `http`, is in tests/conftest.py: the Dagster tests use it too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .loopback import HttpRecorder, Pki, ProxyRecorder, SmtpRecorder, make_pki


@pytest.fixture
def smtp() -> Iterator[SmtpRecorder]:
    server = SmtpRecorder()
    yield server
    server.stop()


@pytest.fixture
def proxy() -> Iterator[ProxyRecorder]:
    server = ProxyRecorder()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def trusted(pki: Pki, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test CA trusted as a user trusts their company's CA: SSL_CERT_FILE, which OpenSSL
    reads when a TLS context loads its default certificates."""
    monkeypatch.setenv("SSL_CERT_FILE", str(pki.ca_file))
    return pki.ca_file


@pytest.fixture
def untrusted(monkeypatch: pytest.MonkeyPatch) -> None:
    """The system's certificate authorities only, which did not issue the test certificates
    (this machine's environment may set SSL_CERT_FILE to its own bundle)."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)


@pytest.fixture
def https(pki: Pki) -> Iterator[HttpRecorder]:
    server = HttpRecorder(context=pki.server_context())
    yield server
    server.stop()


@pytest.fixture
def smtps(pki: Pki) -> Iterator[SmtpRecorder]:
    server = SmtpRecorder(context=pki.server_context())
    yield server
    server.stop()


@pytest.fixture
def starttls(pki: Pki) -> Iterator[SmtpRecorder]:
    server = SmtpRecorder(context=pki.server_context(), starttls=True)
    yield server
    server.stop()
