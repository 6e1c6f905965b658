"""Which month the demo reviews, for any day it is run on."""

from __future__ import annotations

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
