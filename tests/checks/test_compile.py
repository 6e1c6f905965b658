"""Suite generation: deterministic, one expectation per judged (period, KPI), committed.

No great_expectations here except where a test says so: compiling is plain Python.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pipelines.agreement import load_agreements
from pipelines.checks.compile import (
    SUITES_SUBDIR,
    all_suites,
    drift,
    rendered_files,
    suite_file,
    suite_path,
    threshold,
    write_suites,
)
from pipelines.cli import check_cmds

from .conftest import ROOT, SLA

H1 = SLA / "acme-2026-h1.yaml"
META_KEYS = {"agreement", "revision", "period", "kpi", "owner", "target", "tolerance", "severity", "direction"}


def variant(tmp_path: Path, old: str, new: str, source: Path = H1) -> list:
    text = source.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {source.name}"
    path = tmp_path / f"variant-{abs(hash(new))}" / source.name
    path.parent.mkdir()
    path.write_text(text.replace(old, new), encoding="utf-8")
    return load_agreements(path)


def expectations_by_id(agreements) -> dict[str, dict]:
    return {e["id"]: e for s in all_suites(agreements) for e in s["expectations"]}


def changed(before, after) -> dict[str, tuple[dict, dict]]:
    a, b = expectations_by_id(before), expectations_by_id(after)
    assert a.keys() == b.keys(), "a target change must not add or remove expectations"
    return {i: (a[i], b[i]) for i in a if a[i] != b[i]}


def test_the_committed_suites_match_sla() -> None:
    found = drift(load_agreements(SLA), ROOT / "expectations")
    assert not found, "expectations/ is out of date: run `funnelpact compile`\n" + "\n".join(found.lines())


def test_compiling_twice_gives_the_same_bytes(agreements) -> None:
    assert rendered_files(agreements) == rendered_files(load_agreements(SLA))


def test_an_explicit_target_changes_exactly_its_expectation(tmp_path) -> None:
    before = load_agreements(H1)
    after = variant(tmp_path, "2026-03: {mql: 150}", "2026-03: {mql: 150, sql: 70}")
    diff = changed(before, after)
    assert len(diff) == 1
    (old, new), = diff.values()
    assert (new["meta"]["period"], new["meta"]["kpi"]) == ("2026-03", "volume:sql")
    assert new["meta"]["target"] == 70 and new["kwargs"]["min_value"] == 66.5
    assert old["meta"]["target"] != 70 and old["id"] == new["id"]


def test_the_mql_target_also_moves_the_weighted_mql_target(tmp_path) -> None:
    # kpis.py: weighted MQL volume is judged against the MQL volume target.
    before = load_agreements(H1)
    after = variant(tmp_path, "2026-03: {mql: 150}", "2026-03: {mql: 160}")
    diff = changed(before, after)
    assert {(n["meta"]["period"], n["meta"]["kpi"]) for _, n in diff.values()} == {
        ("2026-03", "volume:mql"), ("2026-03", "weighted_volume:mql"),
    }
    assert {(o["kwargs"]["min_value"], n["kwargs"]["min_value"]) for o, n in diff.values()} == {(142.5, 152)}


def test_a_rate_changes_exactly_the_expectations_of_its_kpi(tmp_path) -> None:
    before = load_agreements(H1)
    after = variant(tmp_path, "recycling: {max_rate: 0.35", "recycling: {max_rate: 0.30")
    diff = changed(before, after)
    assert {(n["meta"]["kpi"], n["meta"]["period"]) for _, n in diff.values()} == {
        ("recycle_rate", m) for m in before[0].months()
    }
    assert {n["kwargs"]["max_value"] for _, n in diff.values()} == {0.315}  # 0.30 x 1.05


def test_a_conversion_rate_moves_its_expectations_and_the_volumes_above_it(tmp_path) -> None:
    # The reverse funnel: a better mql->sql rate needs fewer MQLs, leads and visits, and
    # changes nothing below (sql, opportunity, customer) nor any other KPI.
    before = load_agreements(H1)
    after = variant(tmp_path, "mql->sql: {rate: 0.40", "mql->sql: {rate: 0.50")
    kpis = {n["meta"]["kpi"] for _, n in changed(before, after).values()}
    assert kpis == {"conversion:mql->sql", "volume:visit", "volume:lead", "volume:mql", "weighted_volume:mql"}


def test_a_target_change_is_a_small_git_diff(tmp_path) -> None:
    before = rendered_files(load_agreements(H1))
    after = rendered_files(variant(tmp_path, "2026-03: {mql: 150}", "2026-03: {mql: 150, sql: 70}"))
    diffs = {p: (before[p], after[p]) for p in before if before[p] != after[p]}
    assert list(diffs) == [suite_path("acme", "2026-h1", "volume")]
    old, new = (t.splitlines() for t in diffs[suite_path("acme", "2026-h1", "volume")])
    changed_lines = [(a.strip(), b.strip()) for a, b in zip(old, new) if a != b]
    assert len(old) == len(new) and len(changed_lines) == 3  # description, bound, meta.target


def test_every_expectation_explains_itself(agreements) -> None:
    for suite in all_suites(agreements):
        assert suite["expectations"], suite["name"]
        for e in suite["expectations"]:
            assert META_KEYS <= e["meta"].keys(), (suite["name"], e["meta"])
            assert e["meta"]["agreement"] == "acme" and e["meta"]["severity"] in ("warn", "fail")
            assert e["severity"] == {"warn": "warning", "fail": "critical"}[e["meta"]["severity"]]


def test_one_suite_per_revision_and_family_with_one_expectation_per_judged_month_and_kpi(agreements) -> None:
    suites = {s["name"]: s for s in all_suites(agreements)}
    assert sorted(suites) == sorted(
        f"acme.{r}.{f}" for r in ("2026-h1", "2026-h2")
        for f in ("volume", "conversion", "handoff", "revenue", "data_quality")
    )
    judged = [e for s in suites.values() for e in s["expectations"] if e["meta"]["kpi"]]
    assert len(judged) == 12 * 17  # every KPI of acme has a target
    assert len({(e["meta"]["revision"], e["meta"]["period"], e["meta"]["kpi"]) for e in judged}) == len(judged)
    checks = {e["meta"]["check"] for e in suites["acme.2026-h1.data_quality"]["expectations"] if not e["meta"]["kpi"]}
    assert {"keys_unique", "no_future_facts", "agreement_not_null", "kpi_not_null"} <= checks


@pytest.mark.parametrize(
    ("direction", "bound"), [("at_least", 142.5), ("at_most", 157.5)], ids=["at_least-is-below", "at_most-is-above"]
)
def test_the_bound_is_the_target_widened_by_the_tolerance(direction, bound) -> None:
    from decimal import Decimal
    from fractions import Fraction

    assert float(threshold(Fraction(150), Decimal("0.05"), direction)) == bound


def test_a_kpi_without_a_target_gets_no_expectation(tmp_path) -> None:
    no_recycling = variant(tmp_path, "  recycling: {max_rate: 0.35, ", "  recycling: {")
    kpis = {e["meta"]["kpi"] for e in expectations_by_id(no_recycling).values()}
    assert "recycle_rate" not in kpis and "handoff:first_touch" in kpis


def test_write_removes_suites_no_agreement_generates(tmp_path, agreements) -> None:
    out = tmp_path / "expectations"
    write_suites(agreements, out)
    assert (out / "gx" / "great_expectations.yml").exists() and (out / ".gitignore").exists()
    h1_only = [a for a in agreements if a.revision == "2026-h1"]
    assert [str(p) for p in drift(h1_only, out).stale][:1] == ["gx/expectations/acme/2026-h2/conversion.json"]
    write_suites(h1_only, out)
    assert not drift(h1_only, out)
    assert not (out / "gx" / "expectations" / "acme" / "2026-h2").exists()


def test_compile_names_each_suite_it_writes_and_removes_and_a_second_run_none(tmp_path) -> None:
    # It said "1 suite(s) written, 5 removed": which five, a reviewer had to find in git status.
    out = tmp_path / "expectations"
    runner = CliRunner()
    assert runner.invoke(_app(), ["compile", "--sla", str(SLA), "--out", str(out)]).exit_code == 0
    sla = tmp_path / "sla"
    sla.mkdir()
    (sla / H1.name).write_text(H1.read_text(encoding="utf-8").replace("{mql: 150}", "{mql: 160}"), encoding="utf-8")
    result = runner.invoke(_app(), ["compile", "--sla", str(sla), "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = [" ".join(line.split()) for line in result.output.splitlines()]
    assert lines == [
        f"updated {out / suite_path('acme', '2026-h1', 'volume')}",
        *(f"removed {out / suite_path('acme', '2026-h2', family)} (no agreement in {sla} generates it any more)"
          for family in ("conversion", "data_quality", "handoff", "revenue", "volume")),
        f"compiled 1 revision(s) into {out}: 1 suite(s) written, 5 removed",
    ]
    result = runner.invoke(_app(), ["compile", "--sla", str(sla), "--out", str(out)])
    assert " ".join(result.output.split()) == (
        f"compiled 1 revision(s) into {out}: 0 suite(s) written, 0 removed; already up to date")


def test_compiling_one_file_writes_its_suites_and_removes_none(tmp_path) -> None:
    # sla/ holds acme's two revisions in two files: compiling the H1 file deleted every H2
    # suite as "stale", and, into another project, every other agreement's.
    out = tmp_path / "expectations"
    runner = CliRunner()
    assert runner.invoke(_app(), ["compile", "--sla", str(SLA), "--out", str(out)]).exit_code == 0
    before = {p: p.read_text() for p in (out / SUITES_SUBDIR).rglob("*.json")}
    h1_volume = out / suite_path("acme", "2026-h1", "volume")
    h1_volume.unlink()
    result = runner.invoke(_app(), ["compile", "--sla", str(H1), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 suite(s) written" in result.output and "none removed" in " ".join(result.output.split())
    assert {p: p.read_text() for p in (out / SUITES_SUBDIR).rglob("*.json")} == before
    # --check of one file judges that file's suites only: the H2 suites are not "stale".
    result = runner.invoke(_app(), ["compile", "--sla", str(H1), "--out", str(out), "--check"])
    assert result.exit_code == 0, result.output
    h1_volume.write_text(h1_volume.read_text().replace("142.5", "140"))
    result = runner.invoke(_app(), ["compile", "--sla", str(H1), "--out", str(out), "--check"])
    assert result.exit_code == 1 and "volume.json" in result.output and "stale" not in result.output


def test_only_suites_funnelpact_generated_count_as_stale(tmp_path, agreements) -> None:
    out = tmp_path / "expectations"
    write_suites(agreements, out)
    own = out / SUITES_SUBDIR / "team" / "checks.json"  # a suite someone wrote in the same project
    own.parent.mkdir(parents=True)
    own.write_text(json.dumps({"name": "team.checks", "expectations": [], "meta": {}}))
    h1_only = [a for a in agreements if a.revision == "2026-h1"]
    found = drift(h1_only, out)
    assert found.stale and all("2026-h2" in str(p) for p in found.stale)
    write_suites(h1_only, out)
    assert own.exists() and not drift(h1_only, out)


@pytest.mark.parametrize("spoil", ["merge-conflict", "utf-16"])
def test_a_stale_suite_a_merge_or_an_editor_left_unreadable_is_still_stale(tmp_path, agreements, spoil) -> None:
    # The H2 revision is gone from sla/, and git left its volume suite with conflict markers
    # (or an editor saved it as UTF-16): compile kept it, --check said "up to date", and
    # `compile --data-docs` then failed with "JSONDecodeError …; this is a bug".
    out = tmp_path / "expectations"
    write_suites(agreements, out)
    h1_only = [a for a in agreements if a.revision == "2026-h1"]
    volume = out / suite_path("acme", "2026-h2", "volume")
    text = volume.read_text(encoding="utf-8")
    if spoil == "merge-conflict":
        volume.write_text(f"<<<<<<< HEAD\n{text}=======\n{text.replace('142.5', '140')}>>>>>>> other\n",
                          encoding="utf-8")
    else:
        volume.write_text(text, encoding="utf-16")
    assert suite_path("acme", "2026-h2", "volume") in drift(h1_only, out).stale
    write_suites(h1_only, out)
    assert not volume.exists() and not drift(h1_only, out)


def _app() -> typer.Typer:
    app = typer.Typer()
    app.callback()(lambda: None)
    check_cmds.register(app)
    return app


def test_compile_check_exits_1_when_sla_and_expectations_disagree(tmp_path) -> None:
    runner = CliRunner()
    out = tmp_path / "expectations"
    assert runner.invoke(_app(), ["compile", "--sla", str(SLA), "--out", str(out), "--check"]).exit_code == 1
    result = runner.invoke(_app(), ["compile", "--sla", str(SLA), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert runner.invoke(_app(), ["compile", "--sla", str(SLA), "--out", str(out), "--check"]).exit_code == 0
    volume = out / suite_path("acme", "2026-h1", "volume")
    volume.write_text(volume.read_text().replace("142.5", "140"))
    result = runner.invoke(_app(), ["compile", "--sla", str(SLA), "--out", str(out), "--check"])
    assert result.exit_code == 1 and "volume.json" in result.output


def test_compile_check_with_data_docs_is_refused_writing_nothing(tmp_path) -> None:
    """--check says it writes nothing, yet with --data-docs an up-to-date OUT got the data docs."""
    from pipelines.cli import app

    out = tmp_path / "expectations"
    assert CliRunner().invoke(app, ["compile", "--sla", str(SLA), "--out", str(out)]).exit_code == 0
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    result = CliRunner().invoke(app, ["compile", "--sla", str(SLA), "--out", str(out), "--check", "--data-docs"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error --data-docs: --check writes nothing and --data-docs writes the data docs")
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before


def test_an_out_folder_compile_cannot_write_exits_2_naming_out(tmp_path) -> None:
    from pipelines.cli import app

    (tmp_path / "afile").write_text("x")
    (tmp_path / "gx-is-a-file").mkdir()
    (tmp_path / "gx-is-a-file" / "gx").write_text("x")
    for out in (tmp_path / "afile" / "sub", tmp_path / "gx-is-a-file"):
        result = CliRunner().invoke(app, ["compile", "--sla", str(SLA), "--out", str(out)])
        assert result.exit_code == 2, result.output
        assert f"{out} --out: cannot write the suites (" in result.stderr
        assert "Traceback" not in result.output


COMPILE = "from pipelines.cli import main; main()"


def test_a_stale_suite_compile_may_not_remove_exits_2_naming_out(tmp_path, agreements, without_root_override) -> None:
    # Removing the suites of a revision no longer in sla/ from a read-only folder ended in
    # "funnelpact failed unexpectedly (PermissionError …); this is a bug", exit 3.
    out = tmp_path / "expectations"
    write_suites(agreements, out)
    sla = tmp_path / "sla"
    sla.mkdir()
    (sla / H1.name).write_text(H1.read_text(encoding="utf-8"), encoding="utf-8")
    h2 = out / SUITES_SUBDIR / "acme" / "2026-h2"
    h2.chmod(0o555)
    try:
        done = without_root_override(COMPILE, "compile", "--sla", str(sla), "--out", str(out))
    finally:
        h2.chmod(0o755)
    assert done.returncode == 2, done.stderr
    assert f"{out} --out: cannot write the suites (Permission denied: {h2}/" in done.stderr
    assert "bug" not in done.stderr and "Traceback" not in done.stderr


def test_compile_check_of_a_suite_it_may_not_read_exits_2_naming_it(tmp_path, agreements, without_root_override) -> None:
    out = tmp_path / "expectations"
    write_suites(agreements, out)
    volume = out / suite_path("acme", "2026-h1", "volume")
    volume.chmod(0)
    try:
        done = without_root_override(COMPILE, "compile", "--sla", str(SLA), "--out", str(out), "--check")
    finally:
        volume.chmod(0o644)
    assert done.returncode == 2, done.stderr
    assert f"{out} --out: cannot read the suites (Permission denied: {volume})" in done.stderr
    assert "bug" not in done.stderr and "Traceback" not in done.stderr


def test_a_suite_file_that_is_not_utf8_is_out_of_date_and_rewritten(tmp_path) -> None:
    # An editor that saves UTF-16 (Windows PowerShell's `>`) made --check and compile fail
    # with "UnicodeDecodeError …; this is a bug", exit 3.
    runner = CliRunner()
    out = tmp_path / "expectations"
    assert runner.invoke(_app(), ["compile", "--sla", str(SLA), "--out", str(out)]).exit_code == 0
    volume = out / suite_path("acme", "2026-h1", "volume")
    written = volume.read_text(encoding="utf-8")
    volume.write_text(written, encoding="utf-16")
    result = runner.invoke(_app(), ["compile", "--sla", str(SLA), "--out", str(out), "--check"])
    assert result.exit_code == 1, result.output
    assert f"{volume}: changed" in " ".join(result.output.split())
    result = runner.invoke(_app(), ["compile", "--sla", str(SLA), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert volume.read_text(encoding="utf-8") == written


def test_every_compile_option_is_documented() -> None:
    import click

    command = typer.main.get_command(_app()).commands["compile"]
    assert command.epilog and "funnelpact compile" in command.epilog
    for param in command.params:
        if isinstance(param, click.Option) and param.name != "help":
            assert param.help, param.name


def test_compiling_does_not_import_great_expectations() -> None:
    code = (
        "import sys; from pipelines.agreement import load_agreements; "
        "from pipelines.checks.compile import rendered_files; import pipelines.cli.check_cmds; "
        f"rendered_files(load_agreements({str(SLA)!r})); "
        "assert 'great_expectations' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow  # imports great_expectations: ~3 s
def test_great_expectations_reads_the_generated_files_as_written(tmp_path, agreements) -> None:
    from pipelines.checks.context import file_context

    write_suites(agreements, tmp_path)
    context = file_context(tmp_path)
    name = "acme.2026-h1.data_quality"
    loaded = context.suites.get(name).to_json_dict()
    written = json.loads((tmp_path / suite_path("acme", "2026-h1", "data_quality")).read_text())
    assert loaded["expectations"] == written["expectations"]
    assert loaded["id"] == written["id"]


def _sla_with(tmp_path: Path, **replacements: str) -> Path:
    """sla/acme-2026-h1.yaml in tmp_path/sla with its metadata changed: {file name: (old, new)}."""
    sla = tmp_path / "sla"
    sla.mkdir()
    text = H1.read_text(encoding="utf-8")
    for name, (old, new) in replacements.items():
        assert old in text
        (sla / name).write_text(text.replace(old, new), encoding="utf-8")
    return sla


@pytest.mark.parametrize(
    "revision", ["'../../../../escaped'", "'{tmp}/escaped'", "'x.y'", "'.hidden'", "'a\\b'"],
    ids=["a relative path", "an absolute path", "a dot", "a leading dot", "a backslash"],
)
def test_compile_refuses_a_revision_that_is_not_a_plain_folder_name_and_writes_nothing(tmp_path, revision) -> None:
    from pipelines.cli import app

    revision = revision.replace("{tmp}", str(tmp_path))
    sla = _sla_with(tmp_path, **{"bad.yaml": ("revision: 2026-h1", f"revision: {revision}")})
    result = CliRunner().invoke(app, ["compile", "--sla", str(sla), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "metadata.revision" in result.output and "is not a valid revision label" in result.output
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["bad.yaml"]


def test_compile_refuses_agreements_whose_suites_would_share_a_name(tmp_path) -> None:
    # acme.x 2026 and acme x.2026 were both suite acme.x.2026.volume: one revision's
    # suites overwrote the other's. Dots are out of names and revisions now.
    from pipelines.cli import app

    sla = _sla_with(tmp_path, **{
        "one.yaml": ("name: acme\n  revision: 2026-h1", "name: acme.x\n  revision: '2026'"),
        "two.yaml": ("name: acme\n  revision: 2026-h1", "name: acme\n  revision: x.2026"),
    })
    result = CliRunner().invoke(app, ["compile", "--sla", str(sla), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "one.yaml:7:3 metadata.name: 'acme.x' is not a valid agreement name" in result.output
    assert "two.yaml:8:3 metadata.revision: 'x.2026' is not a valid revision label" in result.output
    assert not (tmp_path / "out").exists()


def test_suites_are_never_written_outside_the_suites_folder(tmp_path, agreements) -> None:
    # An agreement that did not come through validation (model_copy does not validate).
    h1 = next(a for a in agreements if a.revision == "2026-h1")
    escaping = h1.model_copy(update={"metadata": h1.metadata.model_copy(update={"revision": "../../../escaped"})})
    with pytest.raises(ValueError, match="outside"):
        write_suites([escaping], tmp_path / "out")
    assert list(tmp_path.rglob("*")) == []


def test_a_suite_file_is_where_gx_looks_for_its_name(agreements) -> None:
    for suite in all_suites(agreements):
        # GX's file store makes each dot of a suite name a folder.
        gx_file = SUITES_SUBDIR.joinpath(*suite["name"].split(".")).with_suffix(".json")
        assert suite_file(suite) == gx_file


def test_compile_refuses_rates_whose_targets_no_suite_can_hold(tmp_path) -> None:
    # Rates of 1e-200 made a 400-digit visit target, and compile died with an OverflowError.
    from pipelines.cli import app

    tiny = ROOT / "tests" / "fixtures" / "sla" / "invalid" / "rates-so-small-that-targets-reach-10-to-the-15-are-refused.yaml"
    result = CliRunner().invoke(app, ["compile", "--sla", str(tiny), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "spec.conversion.visit->lead.rate: with this rate the visit target" in result.output
    assert not (tmp_path / "out").exists()
