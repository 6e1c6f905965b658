"""`funnelpact diff` on a temporary git repository."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.agreement import load_agreements
from pipelines.agreement.diff import flatten
from pipelines.cli import app

ROOT = Path(__file__).resolve().parents[2]


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(ROOT / "sla", tmp_path / "sla")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.com", "add", "sla")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A", "sla")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", message)


def run_diff(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["diff", *args])
    return result.exit_code, result.output


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"fixture text {old!r} not found in {path}"
    path.write_text(text.replace(old, new))


def test_a_changed_rate_shows_the_field_and_every_affected_target(repo: Path) -> None:
    edit(repo / "sla/acme-2026-h2.yaml", "lead->mql: {rate: 0.25}", "lead->mql: {rate: 0.20}")
    code, out = run_diff("HEAD", "--format", "json")
    assert code == 0, out
    result = json.loads(out)
    [change] = result["revisions"]
    assert (change["revision"], change["status"]) == ("2026-h2", "changed")
    # Numbers are JSON numbers, as the targets are.
    assert [(f["field"], f["old"], f["new"]) for f in change["fields"]] == [
        ("spec.conversion.lead->mql.rate", 0.25, 0.2)
    ]
    changed = {(t["period"], t["target"]): (t["old"], t["new"]) for t in result["targets"]}
    # Only visit and lead sit above lead->mql in the funnel: nothing else may move.
    assert {target for _, target in changed} == {"visit", "lead"}
    assert {period for period, _ in changed} == {f"2026-{m:02d}" for m in range(7, 13)}
    # July: customers = 720000*1/6.2/12000; lead = ceil(customers / (0.20*0.5*0.5*0.33)).
    assert changed[("2026-07", "lead")] == (470, 587)


def test_a_number_written_another_way_is_no_change(repo: Path) -> None:
    path = repo / "sla/acme-2026-h1.yaml"
    edit(path, "recycling: {max_rate: 0.35", "recycling: {max_rate: 0.350")
    edit(path, "revenue_goal: 600000", "revenue_goal: 600000.0")
    edit(path, "within_hours: 4", "within_hours: 4.0")
    code, out = run_diff("HEAD")
    assert code == 0, out
    assert "No change to the agreements or their targets." in out


def test_a_changed_number_is_shown_as_written_and_as_a_json_number(repo: Path) -> None:
    path = repo / "sla/acme-2026-h1.yaml"
    edit(path, "recycling: {max_rate: 0.35", "recycling: {max_rate: 0.300")
    edit(path, "within_hours: 4", "within_hours: 2.5")
    edit(path, "revenue_goal: 600000", "revenue_goal: 660000.0")
    edit(path, "2026-03: {mql: 150}", "2026-03: {mql: 160}")
    code, out = run_diff("HEAD")
    assert code == 0, out
    assert "| `spec.recycling.max_rate` | 0.35 | 0.300 |" in out
    assert "| `spec.handoff.first_touch.within_hours` | 4 | 2.5 |" in out
    assert "| `spec.revenue_goal` | 600000 | 660000.0 |" in out
    code, out = run_diff("HEAD", "--format", "json")
    fields = {f["field"]: (f["old"], f["new"]) for f in json.loads(out)["revisions"][0]["fields"]}
    assert fields == {
        "spec.recycling.max_rate": (0.35, 0.3),
        "spec.handoff.first_touch.within_hours": (4, 2.5),
        "spec.revenue_goal": (600000, 660000),
        "spec.targets.2026-03.mql": (150, 160),
    }
    assert '"old": 0.35,' in out  # the number as written, not 0.34999999999999997


def test_markdown_is_a_pull_request_comment_with_percent_changes(repo: Path) -> None:
    edit(repo / "sla/acme-2026-h1.yaml", "revenue_goal: 600000", "revenue_goal: 660000")
    code, out = run_diff("HEAD")
    assert code == 0, out
    assert "| `spec.revenue_goal` | 600000 | 660000 |" in out
    assert "| acme | 2026-02 | revenue (USD) | 100,000 | 110,000 | +10.0 % |" in out
    # March's MQL target is explicit in the agreement: a bigger goal must not move it.
    assert "| acme | 2026-03 | mql |" not in out


def february_revenue_with_goal(repo: Path, goal: str) -> tuple[str, float | None]:
    """The Markdown comment and February's JSON change_pct when H1's goal of 600 000 becomes `goal`."""
    edit(repo / "sla/acme-2026-h1.yaml", "revenue_goal: 600000", f"revenue_goal: {goal}")
    code, markdown = run_diff("HEAD")
    assert code == 0, markdown
    code, out = run_diff("HEAD", "--format", "json")
    [february] = [t for t in json.loads(out)["targets"] if (t["period"], t["target"]) == ("2026-02", "revenue")]
    return markdown, february["change_pct"]


def test_a_change_over_a_thousand_percent_groups_its_thousands_as_the_targets_beside_it(repo: Path) -> None:
    # A goal of 600 000 raised to 7 500 000 read "+1150.0 %" beside "1,250,000".
    markdown, change_pct = february_revenue_with_goal(repo, "7500000")
    assert "| acme | 2026-02 | revenue (USD) | 100,000 | 1,250,000 | +1,150.0 % |" in markdown, markdown
    assert change_pct == 1150.0  # JSON keeps the number


def test_a_revenue_target_says_its_currency_and_a_change_of_currency_is_no_percentage(repo: Path) -> None:
    # "| revenue | 100,000 | 100,000 |" said nothing of the money; a revision moving to EUR
    # with the same goal read as no change at all, and one with another goal as a percentage.
    edit(repo / "sla/acme-2026-h1.yaml", "currency: USD", "currency: EUR")
    code, out = run_diff("HEAD")
    assert code == 0, out
    assert "| acme | 2026-02 | revenue (USD → EUR) | 100,000 | 100,000 | other currency |" in out, out
    assert "| acme | 2026-02 | mql |" not in out, out  # the volumes are no money: unchanged
    code, out = run_diff("HEAD", "--format", "json")
    [february] = [t for t in json.loads(out)["targets"] if (t["period"], t["target"]) == ("2026-02", "revenue")]
    assert (february["old_currency"], february["new_currency"], february["change_pct"]) == ("USD", "EUR", None)


def _next_half_year(repo: Path) -> str:
    """The H2 revision's text as a revision 2027-h1 for the first half of 2027."""
    text = (repo / "sla/acme-2026-h2.yaml").read_text()
    return text.replace("revision: 2026-h2", "revision: 2027-h1").replace(
        "effective: {from: 2026-07, to: 2026-12}", "effective: {from: 2027-01, to: 2027-06}"
    ).replace("seasonality: {2026-08: 0.7, 2026-11: 1.2, 2026-12: 1.3}", "seasonality: {}")


def test_an_added_revision_is_listed_with_its_new_months(repo: Path) -> None:
    (repo / "sla/acme-2027-h1.yaml").write_text(_next_half_year(repo))
    commit(repo, "add 2027-h1")
    code, out = run_diff("HEAD~1", "HEAD", "--format", "json")
    assert code == 0, out
    result = json.loads(out)
    assert [(c["revision"], c["status"]) for c in result["revisions"]] == [("2027-h1", "added")]
    new_months = {t["period"] for t in result["targets"] if t["old"] is None}
    assert new_months == {f"2027-{m:02d}" for m in range(1, 7)}
    # New months, which no revision judged before: none moved from one revision to another.
    code, out = run_diff("HEAD~1", "HEAD")
    assert code == 0 and "| acme | 2027-01 |" in out, out
    assert "Months judged by another revision" not in out, out


def test_a_removed_stage_shows_the_stage_and_its_targets_going(repo: Path) -> None:
    path = repo / "sla/acme-2026-h2.yaml"
    text = path.read_text()
    start = text.index("    - {id: opportunity")
    end = text.index("    - {id: customer")
    text = text[:start] + text[end:]
    text = text.replace(
        "    sql->opportunity: {rate: 0.50}\n    opportunity->customer: {rate: 0.33, method: cohort, window_days: 90}",
        "    sql->customer: {rate: 0.165, method: cohort, window_days: 120}",
    )
    path.write_text(text)
    code, out = run_diff("HEAD", "--format", "json")
    assert code == 0, out
    result = json.loads(out)
    fields = {f["field"]: (f["old"], f["new"]) for f in result["revisions"][0]["fields"]}
    assert fields["spec.stages[opportunity].label"] == ("Opportunities", None)
    removed = [t for t in result["targets"] if t["target"] == "opportunity"]
    assert len(removed) == 6 and all(t["new"] is None for t in removed)


def test_an_invalid_head_reports_validation_errors_and_exits_2(repo: Path) -> None:
    edit(repo / "sla/acme-2026-h2.yaml", "lead->mql: {rate: 0.25}", "lead->mql: {rate: 2.5}")
    code, out = run_diff("HEAD")
    assert code == 2
    assert "acme-2026-h2.yaml" in out and "lead->mql.rate" in out and "(0, 1]" in out


def test_an_unknown_revision_exits_2_naming_the_argument_that_gave_it(repo: Path) -> None:
    code, out = run_diff("no-such-branch")
    assert code == 2
    assert "error BASE: unknown git revision 'no-such-branch'" in out
    code, out = run_diff("HEAD", "no-such-branch")
    assert code == 2
    assert "error HEAD: unknown git revision 'no-such-branch'" in out


def test_a_folder_without_agreements_on_either_side_exits_2(repo: Path) -> None:
    code, out = run_diff("HEAD", "--sla", "nowhere")
    assert code == 2
    assert "no agreement files under nowhere at HEAD nor at the working tree" in " ".join(out.split())


def test_a_folder_outside_any_git_repository_exits_2(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("elsewhere")
    code, out = run_diff("HEAD", "--sla", str(outside))
    assert code == 2
    assert "is not inside a git repository" in " ".join(out.split())


def test_diff_started_outside_the_repository_says_where_it_looked_for_sla(
        repo: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """An analyst in their home folder: no sla/ there, no repository either. It said 'sla is
    not inside a git repository', as if a folder sla existed; validate and plan say where to run."""
    monkeypatch.delenv("FUNNELPACT_SLA_DIR", raising=False)
    monkeypatch.chdir(tmp_path_factory.mktemp("home"))
    code, out = run_diff("HEAD")
    assert code == 2
    assert " ".join(out.split()) == (
        "error --sla: no folder sla here, nor a git repository around it: diff compares the agreement files git "
        "keeps (the default folder, sla/ in the current directory: run from the repository root, give the folder "
        "as --sla DIR (validate DIR), or set $FUNNELPACT_SLA_DIR)")


def test_a_target_that_changes_from_zero_reads_from_0_in_markdown_and_null_in_json(repo: Path) -> None:
    edit(repo / "sla/acme-2026-h1.yaml", "2026-03: {mql: 150}", "2026-03: {mql: 150, sql: 0}")
    commit(repo, "no SQL target in March")
    edit(repo / "sla/acme-2026-h1.yaml", "2026-03: {mql: 150, sql: 0}", "2026-03: {mql: 150, sql: 40}")
    code, out = run_diff("HEAD")
    assert code == 0, out
    assert "| acme | 2026-03 | sql | 0 | 40 | from 0 |" in out
    code, out = run_diff("HEAD", "--format", "json")
    [change] = json.loads(out)["targets"]
    assert (change["old"], change["new"], change["change_pct"]) == (0, 40, None)


def test_a_change_of_exactly_half_a_tenth_of_a_percent_rounds_half_up_like_every_figure(repo: Path) -> None:
    # Explicit March targets 160 -> 162 is +1.25 % exactly, and 160 -> 158 is -1.25 %: half
    # up (away from zero), as the plan and the report round, not the "+1.2 %" of rounding the
    # double 1.25 half to even.
    edit(repo / "sla/acme-2026-h1.yaml", "2026-03: {mql: 150}", "2026-03: {mql: 160, sql: 160}")
    commit(repo, "160 MQLs and SQLs in March")
    edit(repo / "sla/acme-2026-h1.yaml", "2026-03: {mql: 160, sql: 160}", "2026-03: {mql: 162, sql: 158}")
    code, out = run_diff("HEAD")
    assert code == 0, out
    assert "| acme | 2026-03 | mql | 160 | 162 | +1.3 % |" in out
    assert "| acme | 2026-03 | sql | 160 | 158 | -1.3 % |" in out
    code, out = run_diff("HEAD", "--format", "json")
    changes = {c["target"]: c["change_pct"] for c in json.loads(out)["targets"]}
    assert changes == {"mql": 1.3, "sql": -1.3}


def test_a_change_to_one_of_two_alerts_on_the_same_channel_is_shown(repo: Path) -> None:
    first = "    - {channel: email, to: [revops@acme.example], smtp_url_env: FUNNELPACT_SMTP_URL}\n"
    second = "    - {channel: email, to: [cro@acme.example], smtp_url_env: FUNNELPACT_SMTP_URL}\n"
    edit(repo / "sla/acme-2026-h1.yaml", first, first + second)
    code, out = run_diff("HEAD", "--format", "json")
    assert code == 0, out
    [change] = json.loads(out)["revisions"]
    # The second alert is added; the first keeps its key, so it reads as no change.
    assert [(f["field"], f["old"], f["new"]) for f in change["fields"]] == [
        ("spec.alerts[email[1]].channel", None, "email"),
        ("spec.alerts[email[1]].smtp_url_env", None, "FUNNELPACT_SMTP_URL"),
        ("spec.alerts[email[1]].to", None, ["cro@acme.example"]),
    ]
    commit(repo, "a second e-mail alert")
    edit(repo / "sla/acme-2026-h1.yaml", "to: [revops@acme.example]", "to: [sales-ops@acme.example]")
    code, out = run_diff("HEAD", "--format", "json")
    assert code == 0, out
    [change] = json.loads(out)["revisions"]
    assert [(f["field"], f["old"], f["new"]) for f in change["fields"]] == [
        ("spec.alerts[email].to", ["revops@acme.example"], ["sales-ops@acme.example"])
    ]
    # A channel used once keeps its plain key.
    assert "spec.alerts[slack].webhook_url_env" in flatten(load_agreements(repo / "sla")[0])


def test_alerts_on_one_channel_are_matched_by_what_they_say_not_their_order(repo: Path) -> None:
    path = repo / "sla/acme-2026-h1.yaml"
    first = "    - {channel: email, to: [revops@acme.example], smtp_url_env: FUNNELPACT_SMTP_URL}\n"
    second = "    - {channel: email, to: [cro@acme.example], smtp_url_env: FUNNELPACT_SMTP_URL}\n"
    edit(path, first, first + second)
    commit(repo, "two e-mail alerts")
    # Swapped: each alert is still there as it was. By position, both read as re-addressed.
    edit(path, first + second, second + first)
    code, out = run_diff("HEAD", "--format", "json")
    assert code == 0 and json.loads(out)["revisions"] == [], out
    commit(repo, "swapped")
    # BASE's second removed: only it goes, the first is unchanged.
    edit(path, first, "")
    code, out = run_diff("HEAD", "--format", "json")
    assert code == 0, out
    [change] = json.loads(out)["revisions"]
    assert [(f["field"], f["old"], f["new"]) for f in change["fields"]] == [
        ("spec.alerts[email[1]].channel", "email", None),
        ("spec.alerts[email[1]].smtp_url_env", "FUNNELPACT_SMTP_URL", None),
        ("spec.alerts[email[1]].to", ["revops@acme.example"], None),
    ]
    # An alert edited, and another moved before it: the edited one reads as its field changed.
    edit(path, second, first + second.replace("cro@", "ceo@"))
    code, out = run_diff("HEAD", "--format", "json")
    assert code == 0, out
    [change] = json.loads(out)["revisions"]
    assert [(f["field"], f["old"], f["new"]) for f in change["fields"]] == [
        ("spec.alerts[email].to", ["cro@acme.example"], ["ceo@acme.example"])
    ]


# Two e-mail alerts of H1, as BASE has them in the tests below.
REVOPS = "{channel: email, to: [revops@acme.example], smtp_url_env: FUNNELPACT_SMTP_URL}"
CRO = "{channel: email, to: [cro@acme.example], smtp_url_env: FUNNELPACT_SMTP_URL}"


def _email_alerts(repo: Path, base: list[str], head: list[str]) -> list[tuple[str, object, object]]:
    """Commits H1 with the e-mail alerts `base`, writes `head` in their place and diffs the two:
    each changed field as JSON gives it, checked against the Markdown's table row for row."""
    path = repo / "sla/acme-2026-h1.yaml"

    def write(alerts: list[str]) -> None:
        text = path.read_text()
        start, end = text.index("    - {channel: email"), text.index("    - {channel: log}")
        path.write_text(text[:start] + "".join(f"    - {a}\n" for a in alerts) + text[end:])

    before = path.read_text()
    write(base)
    if path.read_text() != before:  # BASE as the fixture has it: nothing to commit
        commit(repo, "e-mail alerts")
    write(head)
    code, out = run_diff("HEAD", "--format", "json")
    assert code == 0, out
    revisions = json.loads(out)["revisions"]
    fields = [(f["field"], f["old"], f["new"]) for r in revisions for f in r["fields"]]
    code, markdown = run_diff("HEAD")
    assert code == 0, markdown
    rows = [line.split(" | ")[0] for line in markdown.splitlines() if line.startswith("| `")]
    assert rows == [f"| `{name}`" for name, _, _ in fields], markdown
    if not fields:
        assert "No change to the agreements or their targets." in markdown, markdown
    return fields


def _removed(key: str, to: str) -> list[tuple[str, object, object]]:
    return [(f"spec.alerts[{key}].channel", "email", None),
            (f"spec.alerts[{key}].smtp_url_env", "FUNNELPACT_SMTP_URL", None),
            (f"spec.alerts[{key}].to", [to], None)]


def test_removing_the_first_e_mail_alert_and_editing_the_second_reads_as_just_that(repo: Path) -> None:
    """By order, the second alert, edited, read as the first re-addressed and the second removed."""
    edited = CRO.replace("[cro@acme.example]", "[cro@acme.example, ceo@acme.example]")
    assert _email_alerts(repo, [REVOPS, CRO], [edited]) == [
        ("spec.alerts[email[1]].to", ["cro@acme.example"], ["cro@acme.example", "ceo@acme.example"]),
        *_removed("email", "revops@acme.example"),
    ]
    # Its sender set instead: the alert still names the same recipients.
    edit(repo / "sla/acme-2026-h1.yaml", "to: [cro@acme.example, ceo@acme.example]",
         "to: [cro@acme.example], sender: sla@acme.example")
    code, out = run_diff("HEAD", "--format", "json")
    assert code == 0, out
    assert [(f["field"], f["old"], f["new"]) for f in json.loads(out)["revisions"][0]["fields"]] == [
        ("spec.alerts[email[1]].sender", None, "sla@acme.example"),
        *_removed("email", "revops@acme.example"),
    ]


def test_editing_the_first_e_mail_alert_and_removing_the_second_reads_as_just_that(repo: Path) -> None:
    edited = REVOPS.replace("}", ", sender: sla@acme.example}")
    assert _email_alerts(repo, [REVOPS, CRO], [edited]) == [
        ("spec.alerts[email[1]].channel", "email", None),
        ("spec.alerts[email[1]].smtp_url_env", "FUNNELPACT_SMTP_URL", None),
        ("spec.alerts[email[1]].to", ["cro@acme.example"], None),
        ("spec.alerts[email].sender", None, "sla@acme.example"),
    ]


def test_two_e_mail_alerts_edited_and_swapped_each_read_as_its_own_edit(repo: Path) -> None:
    revops = REVOPS.replace("[revops@acme.example]", "[revops@acme.example, ops@acme.example]")
    cro = CRO.replace("FUNNELPACT_SMTP_URL", "FUNNELPACT_SMTP_URL_EXEC")
    assert _email_alerts(repo, [REVOPS, CRO], [cro, revops]) == [
        ("spec.alerts[email[1]].smtp_url_env", "FUNNELPACT_SMTP_URL", "FUNNELPACT_SMTP_URL_EXEC"),
        ("spec.alerts[email].to", ["revops@acme.example"], ["revops@acme.example", "ops@acme.example"]),
    ]


def test_an_e_mail_alert_added_before_an_edited_one_reads_as_added_not_as_the_edit(repo: Path) -> None:
    """By order, the new alert took the old one's name (re-addressed) and the edited one read as added."""
    added = "{channel: email, to: [ceo@acme.example], smtp_url_env: FUNNELPACT_SMTP_URL}"
    edited = REVOPS.replace("}", ", sender: sla@acme.example}")
    assert _email_alerts(repo, [REVOPS], [added, edited]) == [
        ("spec.alerts[email[1]].channel", None, "email"),
        ("spec.alerts[email[1]].smtp_url_env", None, "FUNNELPACT_SMTP_URL"),
        ("spec.alerts[email[1]].to", None, ["ceo@acme.example"]),
        ("spec.alerts[email].sender", None, "sla@acme.example"),
    ]


def test_swapped_or_identical_e_mail_alerts_are_no_change(repo: Path) -> None:
    assert _email_alerts(repo, [REVOPS, CRO, REVOPS], [CRO, REVOPS, REVOPS]) == []
    code, out = run_diff("HEAD", "--format", "json")
    assert code == 0 and json.loads(out)["revisions"] == [], out


def test_an_alert_sharing_less_than_half_its_fields_with_any_is_another_alert(repo: Path) -> None:
    """Recipients and server both changed, beside another alert of the channel: nothing says it
    is the old alert, so it reads as removed and a new one added. Half is enough: a Slack alert
    re-pointed is still edited."""
    other = "{channel: email, to: [ceo@acme.example], smtp_url_env: FUNNELPACT_SMTP_URL_EXEC}"
    assert _email_alerts(repo, [REVOPS, CRO], [other, CRO]) == [
        ("spec.alerts[email[2]].channel", None, "email"),
        ("spec.alerts[email[2]].smtp_url_env", None, "FUNNELPACT_SMTP_URL_EXEC"),
        ("spec.alerts[email[2]].to", None, ["ceo@acme.example"]),
        *_removed("email", "revops@acme.example"),
    ]
    edit(repo / "sla/acme-2026-h1.yaml", "webhook_url_env: FUNNELPACT_SLACK_WEBHOOK",
         "webhook_url_env: FUNNELPACT_SLACK_WEBHOOK_SALES")
    code, out = run_diff("HEAD", "--format", "json")
    assert code == 0, out
    assert ("spec.alerts[slack].webhook_url_env", "FUNNELPACT_SLACK_WEBHOOK", "FUNNELPACT_SLACK_WEBHOOK_SALES") in [
        (f["field"], f["old"], f["new"]) for f in json.loads(out)["revisions"][0]["fields"]]


def test_a_channels_only_alert_rewritten_is_that_alert_edited(repo: Path) -> None:
    """One e-mail alert before and one after, recipients and server both changed: there is no
    other alert it could be, so its fields read as changed, not `email` removed and an
    `email[1]` added as if a second alert had appeared."""
    other = "{channel: email, to: [ceo@acme.example], smtp_url_env: FUNNELPACT_SMTP_URL_EXEC}"
    assert _email_alerts(repo, [REVOPS], [other]) == [
        ("spec.alerts[email].smtp_url_env", "FUNNELPACT_SMTP_URL", "FUNNELPACT_SMTP_URL_EXEC"),
        ("spec.alerts[email].to", ["revops@acme.example"], ["ceo@acme.example"]),
    ]


def test_an_edit_as_like_two_removed_alerts_is_paired_with_the_first_of_them(repo: Path) -> None:
    """Both alerts removed and a third written, as like either (its recipient new, its server
    theirs): which was edited cannot be told, so the order of BASE decides, every run alike."""
    ceo = "{channel: email, to: [ceo@acme.example], smtp_url_env: FUNNELPACT_SMTP_URL}"
    assert _email_alerts(repo, [REVOPS, CRO], [ceo]) == [
        *_removed("email[1]", "cro@acme.example"),
        ("spec.alerts[email].to", ["revops@acme.example"], ["ceo@acme.example"]),
    ]


def test_crm_values_are_compared_as_the_loader_matches_them(repo: Path) -> None:
    """Case, surrounding blanks and Unicode form change nothing a run matches: no change."""
    path = repo / "sla/acme-2026-h1.yaml"
    edit(path, "crm_values: [lead, subscriber]", "crm_values: [Lead, ' SUBSCRIBER']")
    code, out = run_diff("HEAD", "--format", "json")
    assert code == 0 and json.loads(out)["revisions"] == [], out
    edit(path, "crm_values: [Lead, ' SUBSCRIBER']", "crm_values: [Lead, newsletter]")
    code, out = run_diff("HEAD")
    assert code == 0, out
    # `Lead` is the `lead` it replaced: only what a run matches differently is named.
    assert '<br>added "newsletter"; removed "subscriber" |' in out, out


def test_a_committed_file_with_a_non_ascii_name_is_compared(repo: Path) -> None:
    # git quotes such names ("sla/acme-2027-h1-m\303\251xico.yaml") unless asked for -z.
    (repo / "sla/acme-2027-h1-méxico.yaml").write_text(_next_half_year(repo))
    commit(repo, "add 2027-h1")
    code, out = run_diff("HEAD~1", "HEAD", "--format", "json")
    assert code == 0, out
    [change] = json.loads(out)["revisions"]
    assert (change["revision"], change["status"], change["file"]) == ("2027-h1", "added", "HEAD:sla/acme-2027-h1-méxico.yaml")
    code, out = run_diff("HEAD")  # committed and in the working tree: no change
    assert code == 0, out
    assert "No change to the agreements or their targets." in out


def test_a_committed_file_with_an_upper_case_extension_is_compared(repo: Path) -> None:
    # Saved on Windows as ACME-2027-H1.YAML: skipped, its months read as no change at all.
    (repo / "sla/ACME-2027-H1.YAML").write_text(_next_half_year(repo))
    commit(repo, "add 2027-h1")
    code, out = run_diff("HEAD~1", "HEAD", "--format", "json")
    assert code == 0, out
    [change] = json.loads(out)["revisions"]
    assert (change["revision"], change["status"], change["file"]) == ("2027-h1", "added", "HEAD:sla/ACME-2027-H1.YAML")
    code, out = run_diff("HEAD")
    assert code == 0 and "No change to the agreements or their targets." in out, out


def test_an_agreement_linked_into_the_folder_is_compared_through_its_link(repo: Path) -> None:
    """A revision kept elsewhere in the repository and linked into sla/: git gave the link's
    own text ("../shared/acme-2026-h2.yaml"), so the change was refused (exit 2, "expected a
    mapping") and, against the working tree, the base read as not validating."""
    (repo / "shared").mkdir()
    (repo / "sla/acme-2026-h2.yaml").rename(repo / "shared/acme-2026-h2.yaml")
    (repo / "sla/acme-2026-h2.yaml").symlink_to("../shared/acme-2026-h2.yaml")
    git(repo, "add", "-A", "sla", "shared")
    commit(repo, "link h2")
    code, out = run_diff("HEAD~1", "HEAD")
    assert code == 0 and "No change to the agreements or their targets." in out, out
    edit(repo / "shared/acme-2026-h2.yaml", "revenue_goal: 720000", "revenue_goal: 744000")
    git(repo, "add", "shared")
    commit(repo, "raise the h2 goal")
    for args in (("HEAD~1", "HEAD"), ("HEAD~2",)):
        code, out = run_diff(*args, "--format", "json")
        assert code == 0, out
        result = json.loads(out)
        assert result["base_problems"] == [], out
        [change] = result["revisions"]
        assert [(f["field"], f["old"], f["new"]) for f in change["fields"]] == [("spec.revenue_goal", 720000, 744000)]


def _linked_folder(repo: Path) -> str:
    """h2 moved to shared/ and the folder linked into sla/ (sla/shared -> ../shared), next to
    a linked folder without agreements (not in the way), committed; the error it must give."""
    (repo / "shared").mkdir(), (repo / "schemas").mkdir()
    (repo / "sla/acme-2026-h2.yaml").rename(repo / "shared/acme-2026-h2.yaml")
    (repo / "schemas/notes.json").write_text("{}")
    (repo / "sla/schemas").symlink_to("../schemas")
    (repo / "sla/shared").symlink_to("../shared")
    git(repo, "add", "-A", "sla", "shared", "schemas")
    commit(repo, "link the shared folder")
    return ("sla/shared: is a symbolic link to the folder ../shared, which funnelpact does not read into: "
            "expected agreement files, or links to files; link each file, or name the folder itself")


def test_a_linked_folder_of_agreements_at_a_revision_is_refused_as_in_the_working_tree(repo: Path) -> None:
    """ls-tree does not go into a linked folder: at a git revision its revision (h2) read as
    removed, where validate and the working tree refuse the link."""
    message = _linked_folder(repo)
    code, out = run_diff("HEAD~1", "HEAD")
    assert code == 2, out
    assert out.strip() == f"error HEAD:{message}", out
    code, out = run_diff("HEAD~1")  # the working tree, as validate says it (the link's full path)
    assert code == 2, out
    assert out.strip() == f"error {repo}/{message}", out


def test_a_linked_folder_of_agreements_in_base_is_listed_among_base_problems(repo: Path) -> None:
    message = _linked_folder(repo)
    (repo / "sla/shared").unlink()
    (repo / "sla/acme-2026-h2.yaml").symlink_to("../shared/acme-2026-h2.yaml")  # the link each file fix
    commit(repo, "link the file")
    code, out = run_diff("HEAD~1", "HEAD", "--format", "json")
    assert code == 0, out
    result = json.loads(out)
    assert [(p["file"], p["message"]) for p in result["base_problems"]] == [
        ("HEAD~1:sla/shared", message.split(": ", 1)[1])]


def test_a_link_to_another_file_of_the_folder_is_that_file_read_once(repo: Path) -> None:
    # validate reads sla/current.yaml -> acme-2026-h2.yaml once; diff read it twice, at a git
    # revision, and refused the change as a revision defined twice.
    (repo / "sla/current.yaml").symlink_to("acme-2026-h2.yaml")
    commit(repo, "point at the revision in force")
    code, out = run_diff("HEAD~1", "HEAD")
    assert code == 0 and "No change to the agreements or their targets." in out, out
    code, out = run_diff("HEAD")
    assert code == 0 and "No change to the agreements or their targets." in out, out


def test_a_committed_link_git_cannot_follow_to_an_agreement_is_named(repo: Path) -> None:
    (repo / "sla/acme-2027-h1.yaml").symlink_to("../shared/acme-2027-h1.yaml")
    commit(repo, "link to nothing")
    code, out = run_diff("HEAD~1", "HEAD")
    assert code == 2, out
    assert ("HEAD:sla/acme-2027-h1.yaml: cannot read the file: it is a symbolic link to a file HEAD does not hold "
            "(../shared/acme-2027-h1.yaml); expected the agreement file it links to, kept in the repository") in out, out


def test_a_working_tree_file_diff_may_not_read_exits_2_naming_it(repo: Path, without_root_override) -> None:
    # It ended in "funnelpact failed unexpectedly (PermissionError …); this is a bug", exit 3.
    path = repo / "sla/acme-2026-h1.yaml"
    path.chmod(0)
    try:
        done = without_root_override("from pipelines.cli import main; main()", "diff", "HEAD")
    finally:
        path.chmod(0o644)
    assert done.returncode == 2, done.stderr
    assert ("error sla/acme-2026-h1.yaml: cannot read the file (Permission denied): expected an agreement file "
            "funnelpact can read") in done.stderr, done.stderr


def test_a_multi_line_value_stays_in_its_markdown_table_cell(repo: Path) -> None:
    edit(repo / "sla/acme-2026-h1.yaml", 'definition: "The deal is closed-won."',
         'definition: "The deal is closed-won\\nand | invoiced."')
    code, out = run_diff("HEAD")
    assert code == 0, out
    [row] = [line for line in out.splitlines() if "spec.stages[customer].definition" in line]
    assert row == "| `spec.stages[customer].definition` | The deal is closed-won. | The deal is closed-won<br>and \\| invoiced. |"


def test_a_list_of_non_ascii_crm_values_reads_as_written_in_the_markdown(repo: Path) -> None:
    """A list is shown as JSON; its accents and scripts must read as the file writes them,
    not as \\u escapes a reviewer cannot read."""
    edit(repo / "sla/acme-2026-h1.yaml", "crm_values: [lead, subscriber]",
         'crm_values: [lead, subscriber, "Suscripción", "リード"]')
    code, out = run_diff("HEAD")
    assert code == 0, out
    [row] = [line for line in out.splitlines() if "spec.stages[lead].crm_values" in line]
    assert row.split(" | ")[2] == '\\["lead", "subscriber", "Suscripción", "リード"\\]<br>added "Suscripción", "リード" |', row


def test_markup_in_a_value_is_shown_as_written_not_rendered_in_the_markdown(repo: Path) -> None:
    """A pull-request comment renders HTML and Markdown: `<b>` made bold, `<!-- -->` hid the
    rest of the cell, `*x*` turned italic; the reviewer must read what the file says."""
    edit(repo / "sla/acme-2026-h1.yaml", 'definition: "The deal is closed-won."',
         'definition: "Won <b>and</b> <!-- paid --> *x* `y` [l](u) & a_b_ ~z~ \\\\"')
    edit(repo / "sla/acme-2026-h1.yaml", "seniority: {c_level: 3,", "seniority: {c`level: 3,")
    code, out = run_diff("HEAD")
    assert code == 0, out
    [row] = [line for line in out.splitlines() if "spec.stages[customer].definition" in line]
    new = row.split(" | ")[2]
    assert new == (r"Won \<b\>and\</b\> \<!-- paid --\> \*x\* \`y\` \[l\](u) \& a\_b\_ \~z\~ \\ |"), row
    # A backtick in a key does not end the field's code span.
    assert "| `` spec.lead_value.seniority.c`level `` |" in out, out


def test_an_agreement_that_is_not_utf8_is_named_with_its_line_on_either_side(repo: Path) -> None:
    """A file saved as Latin-1: a traceback (exit 1) on the git side and in the working tree."""
    path = repo / "sla/acme-2026-h1.yaml"
    path.write_bytes(path.read_bytes().replace(b"Marta Ruiz", "Márta Ruiz".encode("latin-1")))
    expected = ":10: byte 0xe1 is not UTF-8 text: expected the file saved as UTF-8"  # marketing's owner
    code, out = run_diff("HEAD")
    assert code == 2, out
    assert f"sla/acme-2026-h1.yaml{expected}" in out and "Traceback" not in out
    commit(repo, "latin-1")
    code, out = run_diff("HEAD~1", "HEAD")
    assert code == 2, out
    assert f"HEAD:sla/acme-2026-h1.yaml{expected}" in out and "Traceback" not in out
    # Saved again as UTF-8, the fix gets its diff, the old file named with its line.
    path.write_text(path.read_bytes().decode("latin-1"))
    code, out = run_diff("HEAD")
    assert code == 0, out
    assert f"- `HEAD:sla/acme-2026-h1.yaml:10`: {expected[5:]}" in out and "2026-h1** (sla/acme-2026-h1.yaml): added" in out, out


def test_markdown_names_the_months_that_move_to_another_revision(repo: Path) -> None:
    """JSON had old_revision/new_revision; the pull-request comment showed only two edited
    windows, not that June's targets and alert channels now come from the other file."""
    edit(repo / "sla/acme-2026-h1.yaml", "effective: {from: 2026-01, to: 2026-06}", "effective: {from: 2026-01, to: 2026-05}")
    edit(repo / "sla/acme-2026-h2.yaml", "effective: {from: 2026-07, to: 2026-12}", "effective: {from: 2026-06, to: 2026-12}")
    edit(repo / "sla/acme-2026-h1.yaml", "seasonality: {2026-01: 0.8, 2026-06: 1.2}", "seasonality: {2026-01: 0.8}")
    code, out = run_diff("HEAD")
    assert code == 0, out
    section = out[out.index("#### Months judged by another revision"):]
    assert "| acme | 2026-06 | 2026-h1 | 2026-h2 |" in section
    assert section.count("| acme |") == 1  # one line per month, not one per target


def test_a_raised_attainment_is_not_called_no_target_change(repo: Path) -> None:
    """The first-touch attainment is the hand-off KPI's target: 'No monthly target changes.'
    under it read as if sales were asked nothing more."""
    edit(repo / "sla/acme-2026-h2.yaml", "first_touch: {within_hours: 2, attainment: 0.90}",
         "first_touch: {within_hours: 2, attainment: 0.95}")
    code, out = run_diff("HEAD")
    assert code == 0, out
    assert "| `spec.handoff.first_touch.attainment` | 0.90 | 0.95 |" in out, out
    assert out.rstrip().endswith("No volume or revenue target changes."), out
    assert "No monthly target changes" not in out


def test_months_that_move_to_another_revision_are_named_even_when_no_target_changes(repo: Path) -> None:
    """H2 relabelled 2026-h2b, every figure as it was: its six months now go to other suites
    and alerts, and the diff said only 'No monthly target changes.' (the section was read
    from the targets that changed)."""
    edit(repo / "sla/acme-2026-h2.yaml", "revision: 2026-h2", "revision: 2026-h2b")
    code, out = run_diff("HEAD")
    assert code == 0, out
    assert "No volume or revenue target changes." in out
    section = out[out.index("#### Months judged by another revision"):]
    assert [line for line in section.splitlines() if line.startswith("| acme |")] == [
        f"| acme | 2026-{m:02d} | 2026-h2 | 2026-h2b |" for m in range(7, 13)]
    code, out = run_diff("HEAD", "--format", "json")
    moved = json.loads(out)["moved_months"]
    assert moved[0] == {"agreement": "acme", "period": "2026-07", "old_revision": "2026-h2", "new_revision": "2026-h2b"}
    assert [m["period"] for m in moved] == [f"2026-{m:02d}" for m in range(7, 13)]


def test_a_change_that_opens_a_gap_between_revisions_says_those_months_are_never_judged(repo: Path) -> None:
    """H2 starting in August instead of July: validate warns, but CI comments the diff alone
    on a pull request that validates, and the diff showed July's targets 'removed' without
    saying that no revision judges July any more."""
    edit(repo / "sla/acme-2026-h2.yaml", "effective: {from: 2026-07, to: 2026-12}", "effective: {from: 2026-08, to: 2026-12}")
    code, out = run_diff("HEAD")
    assert code == 0, out
    section = out[out.index("#### Months no revision is in force in"):]
    assert "| acme | 2026-07 | 2026-h1 and 2026-h2 |" in section, section
    code, out = run_diff("HEAD", "--format", "json")
    assert json.loads(out)["new_gaps"] == [{"agreement": "acme", "months": ["2026-07"], "ends": "2026-h1",
                                            "starts": "2026-h2"}]
    # Once merged, the gap is no news: a later change elsewhere does not list it again.
    commit(repo, "h2 from August")
    edit(repo / "sla/acme-2026-h2.yaml", "lead->mql: {rate: 0.25}", "lead->mql: {rate: 0.26}")
    code, out = run_diff("HEAD")
    assert code == 0 and "Months no revision is in force in" not in out, out


def test_a_changed_revenue_target_is_rounded_to_cents_from_its_exact_value(repo: Path) -> None:
    # February's revenue becomes exactly 100 000.015: 100 000.02 rounded half up, where
    # rounding the double nearest it gave 100 000.01.
    edit(repo / "sla/acme-2026-h1.yaml", "revenue_goal: 600000", "revenue_goal: 600000.09")
    code, out = run_diff("HEAD", "--format", "json")
    assert code == 0, out
    revenue = {t["period"]: t["new"] for t in json.loads(out)["targets"] if t["target"] == "revenue"}
    assert revenue["2026-02"] == 100000.02


def test_a_revenue_target_near_the_limit_is_rounded_from_its_exact_value_in_the_comment(repo: Path) -> None:
    # Months of ~1.7 x 10^14, where a double is a multiple of 1/32: figures formatted from one
    # were off. February is exactly 999 999 999 999 999.99 / 6 = 166 666 666 666 666.665.
    edit(repo / "sla/acme-2026-h1.yaml", "revenue_goal: 600000", "revenue_goal: 999999999999999.99")
    code, out = run_diff("HEAD")
    assert code == 0, out
    assert "| acme | 2026-02 | revenue (USD) | 100,000 | 166,666,666,666,667 |" in out, out
    code, out = run_diff("HEAD", "--format", "json")
    [february] = [t for t in json.loads(out)["targets"] if (t["period"], t["target"]) == ("2026-02", "revenue")]
    assert february["new"] == 166666666666666.67  # JSON keeps the cents


def plan_of(month: str) -> str:
    return CliRunner().invoke(app, ["plan", "--month", month, "--format", "table"], env={"COLUMNS": "200"}).output


def test_revenue_targets_read_in_whole_units_as_the_plan_and_the_scorecard_show_them(repo: Path) -> None:
    """The comment showed "116,129.03" where `plan`, the scorecard, the pack and the alerts
    show 116,129 for the same month: two targets, to a reviewer. In whole units, rounded half
    up from the exact figure: February's new 110 000.495 is 110,000, where rounding the cents
    first (110 000.50) read 110,001."""
    plan_before = plan_of("2026-07")
    edit(repo / "sla/acme-2026-h1.yaml", "revenue_goal: 600000", "revenue_goal: 660002.97")
    # July: 744 000 over H2's weights (6.2), from 116 129.03 to 120 000.
    edit(repo / "sla/acme-2026-h2.yaml", "revenue_goal: 720000", "revenue_goal: 744000")
    code, out = run_diff("HEAD")
    assert code == 0, out
    assert "| acme | 2026-02 | revenue (USD) | 100,000 | 110,000 | +10.0 % |" in out, out
    assert "| acme | 2026-07 | revenue (USD) | 116,129 | 120,000 | +3.3 % |" in out, out
    assert "│ 116,129 │" in plan_before and "│ 120,000 │" in plan_of("2026-07"), plan_before
    # JSON keeps the cents.
    code, out = run_diff("HEAD", "--format", "json")
    revenue = {t["period"]: (t["old"], t["new"]) for t in json.loads(out)["targets"] if t["target"] == "revenue"}
    assert revenue["2026-02"] == (100000, 110000.5) and revenue["2026-07"] == (116129.03, 120000)


def test_revenue_targets_that_differ_only_in_cents_show_their_cents(repo: Path) -> None:
    # February 100 000 -> 100 000.01: in whole units both read 100,000, a change of nothing.
    markdown, _ = february_revenue_with_goal(repo, "600000.06")
    assert "| acme | 2026-02 | revenue (USD) | 100,000.00 | 100,000.01 | +0.0 % |" in markdown, markdown


def test_revenue_targets_that_differ_by_less_than_a_cent_show_the_decimals_that_tell_them_apart(repo: Path) -> None:
    # docs/agreement.md: H2's goal raised by 0.01 moves July (1/6.2 of it) by 0.0016.
    edit(repo / "sla/acme-2026-h2.yaml", "revenue_goal: 720000", "revenue_goal: 720000.01")
    code, out = run_diff("HEAD")
    assert code == 0, out
    assert "| acme | 2026-07 | revenue (USD) | 116,129.032 | 116,129.034 | +0.0 % |" in out, out


def test_git_missing_from_the_path_is_named_not_read_as_no_repository(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(repo / "bin-without-git"))
    code, out = run_diff("HEAD")
    assert code == 2, out
    assert "git is not installed" in out and "not inside a git repository" not in out, out


def test_a_repository_git_refuses_to_read_is_named_with_gits_advice(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CI container's checkout belongs to another user: git refuses it ('dubious ownership')
    and says which safe.directory to add; diff said the folder was not in a repository."""
    # git's own switch for its tests (git >= 2.35.2): the check as if the owner differed.
    monkeypatch.setenv("GIT_TEST_ASSUME_DIFFERENT_OWNER", "1")
    code, out = run_diff("HEAD")
    assert code == 2, out
    assert "dubious ownership" in out and "safe.directory" in out, out
    assert "not inside a git repository" not in out, out


def test_a_folder_outside_any_git_repository_is_named_so_whatever_gits_language(
        repo: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    # git says "Kein Git-Repository" in German: diff reads git's answer in English.
    monkeypatch.setenv("LANGUAGE", "de")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    outside = tmp_path_factory.mktemp("elsewhere")
    code, out = run_diff("HEAD", "--sla", str(outside))
    assert code == 2, out
    assert "is not inside a git repository" in " ".join(out.split()), out


def test_a_cut_too_small_for_a_tenth_of_a_percent_keeps_its_minus_sign(repo: Path) -> None:
    # February's revenue 100 000 -> 99 999.99 is -0.00001 %: it read "+0.0 %", a rise.
    markdown, change_pct = february_revenue_with_goal(repo, "599999.94")
    assert "| acme | 2026-02 | revenue (USD) | 100,000.00 | 99,999.99 | -0.0 % |" in markdown, markdown
    assert str(change_pct) == "-0.0"


def test_file_and_git_revision_names_are_shown_as_written_in_the_markdown(repo: Path) -> None:
    """`__x__` in a file name read bold and `*h2*` italic; a backtick in a branch name (git
    allows one) ended the heading's code span, a double one the wider span used for it."""
    (repo / "sla/acme-2026-h2.yaml").rename(repo / "sla/__acme*h2*.yaml")
    commit(repo, "a file name with markup")
    git(repo, "branch", "before``then", "HEAD~1")
    edit(repo / "sla/__acme*h2*.yaml", "average_deal_size: 12000", "average_deal_size: 10000")
    code, out = run_diff("before``then")
    assert code == 0, out
    assert out.startswith("### funnelpact: agreement changes ``` before``then ``` → `working tree`\n"), out
    assert "- **acme 2026-h2** (sla/\\_\\_acme\\*h2\\*.yaml): changed\n" in out, out


def test_run_from_a_subfolder_without_sla_it_says_where_it_looked_and_what_to_do(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """validate and plan say the default folder is sla/ in the current directory; diff named
    only 'dbt_project/sla', from a subfolder where git itself works."""
    monkeypatch.delenv("FUNNELPACT_SLA_DIR", raising=False)
    (repo / "dbt_project").mkdir()
    monkeypatch.chdir(repo / "dbt_project")
    code, out = run_diff("HEAD")
    assert code == 2, out
    text = " ".join(out.split())
    assert "no agreement files under dbt_project/sla at HEAD nor at the working tree" in text, out
    assert "sla/ in the current directory: run from the repository root, give the folder as --sla DIR" in text, out


def test_a_first_entry_in_an_empty_mapping_is_one_added_field_not_the_mapping_removed(repo: Path) -> None:
    """Adding H2's first explicit target read as `spec.targets` {} -> — (targets removed)
    above the target added; an empty mapping is the default, no field of its own."""
    edit(repo / "sla/acme-2026-h2.yaml", "  handoff:\n", "  targets: {2026-09: {mql: 150}}\n  handoff:\n")
    edit(repo / "sla/acme-2026-h2.yaml", "seasonality: {2026-08: 0.7, 2026-11: 1.2, 2026-12: 1.3}", "seasonality: {}")
    code, out = run_diff("HEAD", "--format", "json")
    assert code == 0, out
    [change] = json.loads(out)["revisions"]
    assert [(f["field"], f["old"], f["new"]) for f in change["fields"]] == [
        ("spec.seasonality.2026-08", 0.7, None),
        ("spec.seasonality.2026-11", 1.2, None),
        ("spec.seasonality.2026-12", 1.3, None),
        ("spec.targets.2026-09.mql", None, 150),
    ]


def _recipients_and_ignored_values(repo: Path) -> Path:
    """H1 with two e-mail recipients and two ignored CRM values, committed: lists to reorder."""
    path = repo / "sla/acme-2026-h1.yaml"
    edit(path, "to: [revops@acme.example]", "to: [revops@acme.example, cro@acme.example]")
    edit(path, "  stages:\n", "  ignored_crm_values: [evangelist, other]\n  stages:\n")
    commit(repo, "two recipients, two ignored values")
    return path


def test_reordering_a_list_whose_order_means_nothing_is_no_change(repo: Path) -> None:
    """A stage's CRM values, the ignored values, the recycle reasons, the review audience and
    an e-mail alert's recipients are sets: reordered, each read as a changed field."""
    path = _recipients_and_ignored_values(repo)
    edit(path, "crm_values: [lead, subscriber]", "crm_values: [subscriber, lead]")
    edit(path, "ignored_crm_values: [evangelist, other]", "ignored_crm_values: [other, evangelist]")
    edit(path, "reasons: [no_budget, wrong_persona, not_ready, no_response]",
         "reasons: [wrong_persona, no_budget, no_response, not_ready]")
    edit(path, "audience: [marketing, sales, revops]", "audience: [revops, sales, marketing]")
    edit(path, "to: [revops@acme.example, cro@acme.example]", "to: [cro@acme.example, revops@acme.example]")
    code, out = run_diff("HEAD")
    assert code == 0, out
    assert "No change to the agreements or their targets." in out, out
    code, out = run_diff("HEAD", "--format", "json")
    assert code == 0 and json.loads(out)["revisions"] == [], out


def test_a_value_added_to_or_removed_from_a_reordered_set_is_shown_and_named(repo: Path) -> None:
    path = _recipients_and_ignored_values(repo)
    edit(path, "to: [revops@acme.example, cro@acme.example]", "to: [ceo@acme.example, revops@acme.example]")
    edit(path, "crm_values: [lead, subscriber]", "crm_values: [subscriber, Suscripción, lead]")
    code, out = run_diff("HEAD", "--format", "json")
    assert code == 0, out
    [change] = json.loads(out)["revisions"]
    # Both lists as written: what the file said, and what it says.
    assert [(f["field"], f["old"], f["new"]) for f in change["fields"]] == [
        ("spec.alerts[email].to", ["revops@acme.example", "cro@acme.example"], ["ceo@acme.example", "revops@acme.example"]),
        ("spec.stages[lead].crm_values", ["lead", "subscriber"], ["subscriber", "Suscripción", "lead"]),
    ]
    code, out = run_diff("HEAD")
    assert code == 0, out
    # The values that came and went, named: no hunting for them in two reordered lists.
    assert ('| `spec.alerts[email].to` | \\["revops@acme.example", "cro@acme.example"\\] '
            '| \\["ceo@acme.example", "revops@acme.example"\\]<br>added "ceo@acme.example"; '
            'removed "cro@acme.example" |') in out, out
    assert '| \\["subscriber", "Suscripción", "lead"\\]<br>added "Suscripción" |' in out, out


def test_a_base_that_does_not_validate_still_gets_a_diff_naming_what_it_could_not_read(repo: Path) -> None:
    """main holds a broken H2 (or one valid under older rules): the pull request fixing it got
    no diff at all (exit 2 on BASE), exactly when reviewers need one."""
    h1, h2 = repo / "sla/acme-2026-h1.yaml", repo / "sla/acme-2026-h2.yaml"
    edit(h2, "lead->mql: {rate: 0.25}", "lead->mql: {rate: 2.5}")
    commit(repo, "a rate written as a percentage")
    # The pull request fixes H2 and changes H1's goal.
    edit(h2, "lead->mql: {rate: 2.5}", "lead->mql: {rate: 0.25}")
    edit(h1, "revenue_goal: 600000", "revenue_goal: 660000")
    code, out = run_diff("HEAD")
    assert code == 0, out
    head, rest = out.split("\n- **acme", 1)  # what BASE could not read comes first
    assert "`HEAD` does not validate" in head, out
    [problem] = [line for line in head.splitlines() if line.startswith("- `HEAD:sla/acme-2026-h2.yaml:")]
    assert "` `spec.conversion.lead->mql.rate`: " in problem and "(0, 1\\]" in problem, problem
    # H1 is compared as usual; the H2 BASE could not read reads as added, its months as new.
    assert " 2026-h1** (sla/acme-2026-h1.yaml): changed" in rest, out
    assert "- **acme 2026-h2** (sla/acme-2026-h2.yaml): added" in out, out
    assert "| acme | 2026-02 | revenue (USD) | 100,000 | 110,000 | +10.0 % |" in out, out
    assert "| acme | 2026-07 | revenue (USD) | — | 116,129 | new |" in out, out
    code, out = run_diff("HEAD", "--format", "json")
    assert code == 0, out
    result = json.loads(out)
    [problem] = result["base_problems"]
    assert (problem["file"], problem["field"]) == ("HEAD:sla/acme-2026-h2.yaml", "spec.conversion.lead->mql.rate")
    assert problem["line"] == (h2.read_text().split("\n").index("    lead->mql: {rate: 0.25}") + 1)
    assert "(0, 1]" in problem["message"]
    assert [(c["revision"], c["status"]) for c in result["revisions"]] == [("2026-h1", "changed"), ("2026-h2", "added")]
    # A HEAD that does not validate is the pull request's own problem: exit 2, as validate says.
    edit(h2, "lead->mql: {rate: 0.25}", "lead->mql: {rate: 3}")
    code, out = run_diff("HEAD")
    assert code == 2 and "lead->mql.rate" in out and "does not validate" not in out, out


def test_a_base_whose_windows_overlap_leaves_out_the_file_named_and_compares_the_rest(repo: Path) -> None:
    """A cross-file problem names one of its two files: the other is compared as usual."""
    h2 = repo / "sla/acme-2026-h2.yaml"
    edit(h2, "effective: {from: 2026-07, to: 2026-12}", "effective: {from: 2026-06, to: 2026-12}")
    commit(repo, "H2 from June, over H1's June")
    edit(h2, "effective: {from: 2026-06, to: 2026-12}", "effective: {from: 2026-07, to: 2026-12}")
    code, out = run_diff("HEAD", "--format", "json")
    assert code == 0, out
    result = json.loads(out)
    [problem] = result["base_problems"]
    assert problem["file"] == "HEAD:sla/acme-2026-h2.yaml" and "overlaps 2026-h1" in problem["message"], problem
    assert [(c["revision"], c["status"]) for c in result["revisions"]] == [("2026-h2", "added")]
    assert {t["period"] for t in result["targets"]} == {f"2026-{m:02d}" for m in range(7, 13)}


def test_a_broken_base_file_the_pull_request_deletes_is_named_above_no_change(repo: Path) -> None:
    (repo / "sla/acme-draft.yaml").write_text("apiVersion: funnelpact/v1\nkind: Agreement\nmetadata: {name: acme\n")
    commit(repo, "a draft that is not YAML")
    (repo / "sla/acme-draft.yaml").unlink()
    code, out = run_diff("HEAD")
    assert code == 0, out
    assert out.index("`HEAD` does not validate") < out.index("No change to the agreements or their targets."), out
    assert "- `HEAD:sla/acme-draft.yaml:" in out, out


def test_with_a_base_that_does_not_validate_every_gap_of_head_is_listed(repo: Path) -> None:
    """BASE's months between its readable revisions include those of the file it could not
    read: a gap the fix leaves there read as an old one, and was not listed."""
    (repo / "sla/acme-2027-h1.yaml").write_text(_next_half_year(repo))
    h2 = repo / "sla/acme-2026-h2.yaml"
    edit(h2, "lead->mql: {rate: 0.25}", "lead->mql: {rate: 2.5}")
    commit(repo, "2027-h1, and H2 broken")
    # The fix starts H2 a month late: July is judged by no revision.
    edit(h2, "lead->mql: {rate: 2.5}", "lead->mql: {rate: 0.25}")
    edit(h2, "effective: {from: 2026-07, to: 2026-12}", "effective: {from: 2026-08, to: 2026-12}")
    edit(h2, "seasonality: {2026-08: 0.7, 2026-11: 1.2, 2026-12: 1.3}", "seasonality: {}")
    code, out = run_diff("HEAD", "--format", "json")
    assert code == 0, out
    assert json.loads(out)["new_gaps"] == [{"agreement": "acme", "months": ["2026-07"], "ends": "2026-h1",
                                            "starts": "2026-h2"}]


def test_an_editor_s_lock_and_macos_side_files_committed_beside_an_agreement_are_not_compared(repo: Path) -> None:
    """At a git revision the files are named by their path in the repository (sla/._x.yaml),
    not by their name: an AppleDouble file or an editor's lock that reached a commit failed
    diff as an agreement, while validate and every run skip it."""
    (repo / "sla/._acme-2026-h2.yaml").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")
    (repo / "sla/.#acme-2026-h2.yaml").symlink_to("analyst@laptop.4242:1764000000")
    commit(repo, "side files")
    edit(repo / "sla/acme-2026-h2.yaml", "lead->mql: {rate: 0.25}", "lead->mql: {rate: 0.20}")
    code, out = run_diff("HEAD", "--format", "json")
    assert code == 0, out
    assert not json.loads(out)["base_problems"], out
    # The same at a revision compared as HEAD.
    commit(repo, "rate")
    code, out = run_diff("HEAD~1", "HEAD", "--format", "json")
    assert code == 0 and not json.loads(out)["base_problems"], out
