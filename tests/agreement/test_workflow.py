"""The pull-request workflow for sla/ runs the commands this repository documents."""

from __future__ import annotations

import yaml

from conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "sla.yml"


def _workflow() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def test_it_runs_on_pull_requests_that_touch_sla_or_its_suites() -> None:
    assert _workflow()["on"] == {"pull_request": {"paths": ["sla/**", "expectations/**"]}}


def test_it_fails_when_the_committed_suites_are_not_what_sla_compiles_to() -> None:
    # docs/checks.md: `compile --check` is the CI check; the workflow ran validate and diff only,
    # so a pull request that changed a target without recompiling passed.
    steps = _workflow()["jobs"]["validate-and-diff"]["steps"]
    (check,) = [s for s in steps if "funnelpact compile" in s.get("run", "")]
    assert check["run"] == "funnelpact compile --check"
    assert "if" not in check and "continue-on-error" not in check  # its failure fails the job


def test_it_checks_out_full_history_validates_and_diffs_against_the_base_branch() -> None:
    steps = _workflow()["jobs"]["validate-and-diff"]["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    python = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert python["with"]["python-version"] == "3.11"
    script = "\n".join(s.get("run", "") for s in steps)
    assert "pip install ." in script
    assert "funnelpact validate sla/" in script
    assert 'funnelpact diff "origin/${BASE_REF}" --format markdown > diff.md' in script
    diff_step = next(s for s in steps if "funnelpact diff" in s.get("run", ""))
    assert diff_step["env"]["BASE_REF"] == "${{ github.base_ref }}"


def test_it_comments_with_github_script_and_no_third_party_action() -> None:
    workflow = _workflow()
    steps = workflow["jobs"]["validate-and-diff"]["steps"]
    uses = [s["uses"].split("@")[0] for s in steps if "uses" in s]
    assert uses == ["actions/checkout", "actions/setup-python", "actions/github-script"]
    comment = steps[-1]["with"]["script"]
    assert "updateComment" in comment and "createComment" in comment  # one comment, updated
    assert workflow["permissions"]["pull-requests"] == "write"
