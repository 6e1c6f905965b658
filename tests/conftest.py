"""Shared fixtures: a small generated company and isolated settings for the real Dagster job."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.data.generate import generate
from pipelines.settings import Settings
from tests.alerts.loopback import HttpRecorder

ROOT = Path(__file__).resolve().parents[1]

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@pytest.fixture(scope="session", autouse=True)
def loopback_bypasses_proxies() -> Iterator[None]:
    """The tests' servers are on loopback; a machine whose environment sets HTTP_PROXY or
    HTTPS_PROXY (CI machines often do, for pip) had urllib send even http://127.0.0.1 through that
    proxy, and the alert, webhook and Dagster GraphQL tests failed. NO_PROXY names loopback, what
    was in it kept; in both cases, since urllib prefers a set no_proxy and gRPC reads only that
    one; on os.environ, so the subprocesses the tests start see it too."""
    names = [n.strip() for key in ("no_proxy", "NO_PROXY") for n in os.environ.get(key, "").split(",")]
    value = ",".join(dict.fromkeys(n for n in [*names, *LOOPBACK] if n))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("no_proxy", value)
        patch.setenv("NO_PROXY", value)
        yield


@pytest.fixture
def http() -> Iterator[HttpRecorder]:
    """A loopback HTTP server that records the POSTs it gets (Slack, webhook: tests/alerts/loopback.py)."""
    server = HttpRecorder()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,000 contacts over 2026: enough for every KPI to have figures, seconds to build."""
    out = tmp_path_factory.mktemp("company") / "data"
    generate(out, contacts=2000, seed=3)
    return out


@pytest.fixture
def settings(tmp_path: Path, company: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    sla = tmp_path / "sla"
    shutil.copytree(ROOT / "sla", sla)
    home = tmp_path / ".funnelpact"
    env = {
        "FUNNELPACT_SLA_DIR": str(sla),
        "FUNNELPACT_DATA_DIR": str(company),
        "FUNNELPACT_HOME": str(home),
        "FUNNELPACT_DUCKDB_PATH": str(home / "warehouse.duckdb"),
        "DAGSTER_HOME": str(home / "dagster"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for secret in ("FUNNELPACT_SLACK_WEBHOOK", "FUNNELPACT_SMTP_URL", "FUNNELPACT_ALERT_WEBHOOK"):
        monkeypatch.delenv(secret, raising=False)
    monkeypatch.chdir(tmp_path)
    return Settings.from_env()


MINIMAL_AGREEMENT = ROOT / "tests" / "fixtures" / "sla" / "valid" / "minimal-agreement-relying-on-defaults.yaml"


@pytest.fixture
def agreement_file():
    """write(folder, name, timezone, first, last): the minimal valid agreement
    (tests/fixtures/sla/valid) under another name, timezone and window; returns its path."""

    def write(folder: Path, name: str, timezone: str, first: str, last: str) -> Path:
        text = (MINIMAL_AGREEMENT.read_text()
                .replace("name: minimal", f"name: {name}")
                .replace("timezone: UTC", f"timezone: {timezone}")
                .replace("effective: {from: 2026-01, to: 2026-03}", f"effective: {{from: {first}, to: {last}}}"))
        path = folder / f"{name}.yaml"
        path.write_text(text)
        return path

    return write


@pytest.fixture
def without_root_override():
    """run(code, *args): Python code in a child process for which file permissions hold. Root
    reads and writes any file (CAP_DAC_OVERRIDE): under root the child runs without those
    capabilities (util-linux setpriv), elsewhere as it is. Returns the CompletedProcess."""
    import os
    import subprocess
    import sys

    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            # Failed, not skipped: a skip turned every unreadable-file test green under root.
            pytest.fail("root reads any file, and setpriv (util-linux) is not here to drop that: install util-linux "
                        "or run the tests as another user")
        prefix = [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]

    def run(code: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*prefix, sys.executable, "-c", code, *args], capture_output=True, text=True,
                              timeout=120)

    return run
