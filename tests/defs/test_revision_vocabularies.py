"""Each revision reads lifecycle values with its own vocabulary, through real runs: the CLI's
`run --format json` (loader, agreement tables, dbt, Great Expectations) over a few hand-made
contacts, with the agreements of tests/fixtures/sla/valid/.

The renamed stage (`renamed-stage-listing-the-old-id-as-a-crm-value`): tiny h1 (2026-01..06)
has the stages lead, sql (crm_values salesqualifiedlead), customer; h2 (2026-07..12) renames
sql to sal and lists sql and SalesQualifiedLead under it. Europe/Berlin; every event is
mid-month (UTC), far from the month bounds.

    C1  lead 03-10, sql 03-12                  h1 March: lead, sql
    C2  lead 03-11, SalesQualifiedLead 03-15   h1 March: lead, sql (a CRM value of sql)
    C3  lead 08-05, sql 08-07                  h2 August: lead, sal (h2's `sql` is sal)
    C4  lead 08-06, salesqualifiedlead 08-09   h2 August: lead, sal
    C5  lead 08-10, sal 08-12                  h2 August: lead, sal (its id)
    C6  lead 08-11, customer 08-20             h2 August: lead, sal implied, customer
    C7  lead 08-12, accepted 08-14             `accepted`: no revision knows it (quarantined)
"""

from __future__ import annotations

import json
import shutil
import textwrap
from html import escape
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipelines.cli import app

pytestmark = pytest.mark.slow

VALID = Path(__file__).resolve().parents[1] / "fixtures" / "sla" / "valid"
RENAMED = VALID / "renamed-stage-listing-the-old-id-as-a-crm-value"
TWO_AGREEMENTS = VALID / "two-agreements-giving-one-crm-value-two-stages"

CONTACTS = "contact_id,created_at,source,persona,seniority,country\n" + "".join(
    f"C{n},2026-01-01T00:00:00Z,organic,,,DE\n" for n in range(1, 8))


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """run(sla, events, first, last, as_of) -> (volumes, payload): `funnelpact run --format
    json` over the contacts and these lifecycle events, in a private home and warehouse;
    volumes maps (agreement, revision, period, stage) to the volume KPI's actual."""
    home = tmp_path / ".funnelpact"
    for key, value in {"FUNNELPACT_HOME": home, "FUNNELPACT_DUCKDB_PATH": home / "warehouse.duckdb",
                       "DAGSTER_HOME": home / "dagster"}.items():
        monkeypatch.setenv(key, str(value))
    for secret in ("FUNNELPACT_SLACK_WEBHOOK", "FUNNELPACT_SMTP_URL", "FUNNELPACT_ALERT_WEBHOOK"):
        monkeypatch.delenv(secret, raising=False)
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    (data / "contacts.csv").write_text(CONTACTS)

    def _run(sla: Path, events: str, first: str, last: str, as_of: str):
        file, text = data / "lifecycle_events.csv", "contact_id,stage,occurred_at,reason\n" + textwrap.dedent(events)
        if not file.exists() or file.read_text() != text:  # rewritten, the file alone makes a full reload
            file.write_text(text)
        result = CliRunner().invoke(app, ["run", "--sla", str(sla), "--data", str(data), "--from", first,
                                          "--to", last, "--as-of", as_of, "--format", "json"])
        assert result.exit_code in (0, 1), result.output
        payload = json.loads(result.stdout)
        volumes = {(r["agreement"], r["revision"], r["period"], r["kpi"].removeprefix("volume:")): r["actual"]
                   for r in payload["results"] if r["kpi"].startswith("volume:")}
        return volumes, payload

    return _run


RENAMED_EVENTS = """\
    C1,lead,2026-03-10T10:00:00Z,
    C1,sql,2026-03-12T10:00:00Z,
    C2,lead,2026-03-11T10:00:00Z,
    C2,SalesQualifiedLead,2026-03-15T10:00:00Z,
    C3,lead,2026-08-05T10:00:00Z,
    C3,sql,2026-08-07T10:00:00Z,
    C4,lead,2026-08-06T10:00:00Z,
    C4,salesqualifiedlead,2026-08-09T10:00:00Z,
    C5,lead,2026-08-10T10:00:00Z,
    C5,sal,2026-08-12T10:00:00Z,
    C6,lead,2026-08-11T10:00:00Z,
    C6,customer,2026-08-20T10:00:00Z,
    C7,lead,2026-08-12T10:00:00Z,
    C7,accepted,2026-08-14T10:00:00Z,
    """


def test_a_renamed_stage_judges_each_half_with_its_own_vocabulary(run) -> None:
    volumes, payload = run(RENAMED, RENAMED_EVENTS, "2026-03", "2026-08", "2026-09-15T00:00:00Z")
    assert {k[3]: v for k, v in volumes.items() if k[2] == "2026-03"} == {"lead": 2, "sql": 2, "customer": 0}
    assert {k[3]: v for k, v in volumes.items() if k[2] == "2026-08"} == {"lead": 5, "sal": 4, "customer": 1}
    assert {k[1] for k in volumes if k[2] == "2026-03"} == {"h1"} and {k[1] for k in volumes if k[2] == "2026-08"} == {"h2"}
    assert payload["data_quality"]["by_reason"] == {"unknown_stage": 1}  # C7's `accepted`
    assert payload["data_quality"]["unknown_stage_values"] == {"accepted": 1}, "the value to list, not only a count"
    assert payload["warnings"] == []


def test_a_value_the_new_revision_forgets_is_warned_and_listing_it_brings_its_events_back(run, tmp_path: Path) -> None:
    """h2 first renames sql without listing it: C3's `sql` event counts for no stage of h2 (the
    run says so). Then h2 lists `sql`, and `accepted` too: the same events count, and C7's
    quarantined `accepted` event is loaded again (the known values changed: a full reload)."""
    sla = tmp_path / "sla"
    shutil.copytree(RENAMED, sla)
    h2 = sla / "tiny-h2.yaml"
    listed = "crm_values: [sql, SalesQualifiedLead]"
    assert listed in h2.read_text()
    h2.write_text(h2.read_text().replace(listed, "crm_values: [SalesQualifiedLead]"))
    volumes, payload = run(sla, RENAMED_EVENTS, "2026-08", "2026-08", "2026-09-15T00:00:00Z")
    assert volumes[("tiny", "h2", "2026-08", "sal")] == 3  # C4, C5, C6: not C3
    warning = ("lifecycle events 2026-08 (tiny h2): 1 event 'sql' counts for no stage: h2 does not list the value, "
               "which h1 maps onto a stage; list it in a stage's crm_values if it still means one (docs/agreement.md)")
    assert payload["warnings"] == [warning]
    assert payload["data_quality"]["by_reason"] == {"unknown_stage": 1}
    # The review pack says so in its data-quality section.
    report = CliRunner().invoke(app, ["report", "--sla", str(sla), "--month", "2026-08", "--out",
                                      str(tmp_path / "review.html"), "--as-of", "2026-09-15T00:00:00Z"])
    assert report.exit_code == 0, report.output
    page = (tmp_path / "review.html").read_text()
    assert f'<p class="banner" data-warning="stage-values">{escape(warning)}</p>' in page[page.index('id="data-quality"'):]
    assert ("<p data-unknown-stage-values>Lifecycle values no agreement lists (<code>unknown_stage</code>): "
            f"{escape(repr('accepted'))} 1.") in page
    table = CliRunner().invoke(app, ["run", "--sla", str(sla), "--from", "2026-08", "--to", "2026-08",
                                     "--as-of", "2026-09-15T00:00:00Z"])
    assert "unknown_stage: lifecycle values no agreement lists: 'accepted' 1; list one in a stage's crm_values" \
        in " ".join(table.stdout.split()), table.stdout

    h2.write_text(h2.read_text().replace("crm_values: [SalesQualifiedLead]", "crm_values: [sql, SalesQualifiedLead, accepted]"))
    volumes, payload = run(sla, RENAMED_EVENTS, "2026-08", "2026-08", "2026-09-15T00:00:00Z")
    assert volumes[("tiny", "h2", "2026-08", "sal")] == 5  # C3 to C7
    assert payload["warnings"] == []
    assert payload["data_quality"]["by_reason"] == {} and payload["data_quality"]["unknown_stage_values"] == {}


def test_the_warning_about_a_forgotten_value_agrees_with_its_counts() -> None:
    """One event counts, two count; one revision maps, two map."""
    from pipelines.warehouse.summary import unmapped_stage_values

    with duckdb.connect() as con:
        con.execute("create schema marts")
        con.execute("create table marts.unmapped_stage_events as select * from (values "
                    "('tiny', 'h3', '2026-08', 'sql', 1, 'h1'), ('tiny', 'h3', '2026-08', 'won', 2, 'h1, h2'), "
                    "('tiny', 'h3', '2026-09', 'sql', 5, 'h1')) "
                    "as t(agreement, revision, period, stage_value, events, mapped_by)")
        lines = unmapped_stage_values(con, ["2026-08"])
    assert [line.split(": ", 1)[1].split(";")[0] for line in lines] == [
        "1 event 'sql' counts for no stage: h3 does not list the value, which h1 maps onto a stage",
        "2 events 'won' count for no stage: h3 does not list the value, which h1, h2 map onto a stage"]


def test_two_agreements_read_the_same_events_each_with_its_own_vocabulary(run) -> None:
    """acme: lead, sql (salesqualifiedlead), customer (won); beta: signup (lead), trial,
    customer. One warehouse judges both; March 2026 in Europe/Berlin.

        C1  lead, sql          acme: lead, sql             beta: signup (sql is acme's)
        C2  lead, trial        acme: lead (trial is beta's) beta: signup, trial
        C3  lead, customer     acme: lead, sql, customer   beta: signup, trial, customer
        C4  signup             acme: nothing               beta: signup
        C5  lead, won          acme: lead, sql, customer   beta: signup (`won` is acme's only)
    """
    events = """\
        C1,lead,2026-03-10T10:00:00Z,
        C1,sql,2026-03-12T10:00:00Z,
        C2,lead,2026-03-11T10:00:00Z,
        C2,trial,2026-03-13T10:00:00Z,
        C3,lead,2026-03-12T10:00:00Z,
        C3,customer,2026-03-20T10:00:00Z,
        C4,signup,2026-03-14T10:00:00Z,
        C5,lead,2026-03-15T10:00:00Z,
        C5,won,2026-03-25T10:00:00Z,
        """
    volumes, payload = run(TWO_AGREEMENTS, events, "2026-03", "2026-03", "2026-04-15T00:00:00Z")
    assert {k[0] + ":" + k[3]: v for k, v in volumes.items()} == {
        "acme:lead": 4, "acme:sql": 3, "acme:customer": 2,
        "beta:signup": 5, "beta:trial": 2, "beta:customer": 1}
    assert payload["data_quality"]["by_reason"] == {}
    # Another agreement's values count for no stage here: kept in the mart, not warned about.
    assert payload["warnings"] == []
    with duckdb.connect(str(Path(".funnelpact") / "warehouse.duckdb"), read_only=True) as con:
        unmapped = con.execute("select agreement, stage_value, events, mapped_by from marts.unmapped_stage_events "
                               "order by all").fetchall()
    assert unmapped == [("acme", "signup", 1, None), ("acme", "trial", 1, None),
                        ("beta", "sql", 1, None), ("beta", "won", 1, None)]


def test_a_value_a_revision_ignores_is_loaded_counted_for_no_stage_and_not_warned(run, tmp_path: Path) -> None:
    """C7's `accepted`: h1 maps it onto sql, h2 lists it in ignored_crm_values. Its August
    event was quarantined when no revision knew it, and "counts for no stage: h2 does not list
    the value, which h1 maps" when only h1 did: h2 says it is none of its stages."""
    sla = tmp_path / "sla"
    shutil.copytree(RENAMED, sla)
    h1, h2 = sla / "tiny-h1.yaml", sla / "tiny-h2.yaml"
    h1.write_text(h1.read_text().replace("crm_values: [salesqualifiedlead]", "crm_values: [salesqualifiedlead, accepted]"))
    h2.write_text(h2.read_text().replace("  conversion:\n", "  ignored_crm_values: [Accepted, evangelist]\n  conversion:\n"))
    # C7's Evangelist event: a value only h2's list knows, loaded (not quarantined) for no stage.
    events = RENAMED_EVENTS + "C7,Evangelist,2026-08-16T10:00:00Z,\n"
    volumes, payload = run(sla, events, "2026-08", "2026-08", "2026-09-15T00:00:00Z")
    assert payload["data_quality"]["by_reason"] == {} and payload["data_quality"]["unknown_stage_values"] == {}
    assert payload["warnings"] == []
    assert volumes[("tiny", "h2", "2026-08", "sal")] == 4, "C3 to C6: C7's ignored event counts for no stage"
    assert volumes[("tiny", "h2", "2026-08", "lead")] == 5

    # Without the list, the same event is h1's vocabulary that h2 forgot: the run says so.
    h2.write_text(h2.read_text().replace("  ignored_crm_values: [Accepted, evangelist]\n", ""))
    _, payload = run(sla, RENAMED_EVENTS, "2026-08", "2026-08", "2026-09-15T00:00:00Z")
    assert [w.split(":")[0] for w in payload["warnings"]] == ["lifecycle events 2026-08 (tiny h2)"]
    assert "'accepted' counts for no stage" in payload["warnings"][0]
