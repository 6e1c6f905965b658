"""Which month the demo reviews, for any day it is run on."""

from __future__ import annotations

import os

import pytest

from pipelines.demo import _month_to_review


@pytest.mark.parametrize(("first", "last", "current", "expected"), [
    ("2026-01", "2026-11", "2026-11", "2026-10"),   # inside the window: the month just closed
    ("2026-01", "2026-01", "2026-01", "2026-01"),   # the first month: nothing closed yet
    ("2026-01", "2026-12", "2027-02", "2026-12"),   # the window has ended: its last month
    ("2026-01", "2026-12", "2027-01", "2026-12"),
])
def test_the_demo_reviews_the_last_closed_month_of_the_agreements(first, last, current, expected):
    # `last` is already capped at the current month by the demo.
    assert _month_to_review(first, min(last, current), current) == expected


@pytest.mark.parametrize("name", ["H2.YAML", "acme/h2.yaml"], ids=["upper-case extension", "in a subfolder"])
def test_the_demo_runs_the_project_s_agreements_wherever_validate_finds_them(tmp_path, monkeypatch, name):
    """A glob of the demo's own (sla/*.y*ml) passed over them and ran the shipped example."""
    from pipelines.demo import REPO_SLA, demo_sla_dir

    monkeypatch.chdir(tmp_path)
    assert demo_sla_dir() == REPO_SLA  # no sla/ here: the shipped example
    (tmp_path / "sla" / name).parent.mkdir(parents=True)
    (tmp_path / "sla" / name).write_text("apiVersion: funnelpact/v1\n")
    assert demo_sla_dir() == (tmp_path / "sla").resolve()


@pytest.mark.slow  # the whole pipeline over every month of sla/ up to today: ~40 s
def test_the_demo_runs_with_no_set_up_and_writes_the_pack_it_names(tmp_path, monkeypatch):
    """SPEC section 7's `funnelpact demo`: no test ran it (test_help leaves its example to
    the pipeline tests, which run `run`, `backfill` and `report`, not `demo`)."""
    import re

    from typer.testing import CliRunner

    from pipelines.cli import app

    from tests.alerts.loopback import HttpRecorder, SmtpRecorder

    monkeypatch.chdir(tmp_path)  # no sla/ here: the shipped example
    for name in ("DAGSTER_HOME", "FUNNELPACT_HOME", "FUNNELPACT_DUCKDB_PATH", "FUNNELPACT_ALERT_CHANNELS"):
        monkeypatch.delenv(name, raising=False)
    # The example's Slack and mail channels, their secrets set in this shell as on a machine
    # where the team's real runs are configured: made-up breaches must not reach them.
    slack, mail = HttpRecorder(), SmtpRecorder()
    monkeypatch.setenv("FUNNELPACT_SLACK_WEBHOOK", slack.url("/slack"))
    monkeypatch.setenv("FUNNELPACT_SMTP_URL", mail.url())
    try:
        result = CliRunner().invoke(app, ["demo", "--dir", "out", "--contacts", "300"])
    finally:
        slack.stop()
        mail.stop()
    assert (slack.posts, mail.mails) == ([], [])
    assert "FUNNELPACT_ALERT_CHANNELS" not in os.environ  # set for the demo's run only
    # Exit 0 whatever the statuses (its --help): the synthetic company misses targets.
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    done = re.search(r"demo done in \d+ s: (\d+) KPI judgements over 2026-01\.\.(\d{4}-\d\d), (\d+) breaches", said)
    assert done and int(done.group(1)) > 0 and int(done.group(3)) > 0, said
    [month] = re.findall(r"writing the review pack for (\d{4}-\d\d)", said)
    # The scorecard shows two months of many: said so, with the count "demo done" gives.
    assert (f"the scorecard of {month} (the month the pack reviews) and {done.group(2)} (the latest); all "
            f"{done.group(1)} judgements of 2026-01..{done.group(2)} are in the warehouse") in said, said
    assert [p.name for p in (tmp_path / "out").glob("*.html")] == [f"review-{month}.html"]
    page = (tmp_path / "out" / f"review-{month}.html").read_text(encoding="utf-8")
    assert f"Written by funnelpact for {month} at " in page
    assert (tmp_path / "out" / ".funnelpact" / "warehouse.duckdb").is_file()
    assert f"DAGSTER_HOME={tmp_path / 'out' / '.funnelpact' / 'dagster'}" in result.output
    assert "FUNNELPACT_ALERT_CHANNELS=log" in result.output  # the UI's runs of the demo too
