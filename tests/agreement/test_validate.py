"""`funnelpact validate`: every invalid fixture exits 2 with the message its `# expect:` lines name.

An invalid fixture is a file in tests/fixtures/sla/invalid/, or a folder there whose files are
only wrong together (overlapping revisions). Each `# expect: <file>:<line>:<col> <field>: <text>`
comment is the start of one error line `funnelpact validate` must print, `<file>` standing for
the file's path; the run must print exactly as many errors as there are expectations.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT

INVALID = FIXTURES / "invalid"
VALID = FIXTURES / "valid"
EXPECT = re.compile(r"^# expect: (.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Case:
    target: Path  # relative to the repository root, as a user would type it
    expected: tuple[str, ...]

    @property
    def id(self) -> str:
        return self.target.stem.replace("-", " ")


def _expectations(file: Path) -> list[str]:
    shown = file.relative_to(ROOT).as_posix()
    return [e.replace("<file>", shown) for e in EXPECT.findall(file.read_text(encoding="utf-8"))]


def _cases() -> list[Case]:
    cases = []
    for entry in sorted(INVALID.iterdir()):
        files = sorted(entry.glob("*.yaml")) if entry.is_dir() else [entry]
        expected = [e for f in files for e in _expectations(f)]
        cases.append(Case(entry.relative_to(ROOT), tuple(expected)))
    return cases


CASES = _cases()


def test_there_is_an_invalid_fixture_for_at_least_30_rules() -> None:
    assert len(CASES) >= 30, [c.id for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_an_invalid_agreement_exits_2_naming_file_line_field_and_expectation(case: Case, funnelpact) -> None:
    assert case.expected, f"{case.target} has no '# expect:' line"
    run = funnelpact("validate", case.target)
    assert run.code == 2, run.out + run.err
    errors = run.err.splitlines()
    assert all(line.startswith("error ") for line in errors), run.err
    for expected in case.expected:
        assert any(line.startswith(f"error {expected}") for line in errors), (
            f"expected a line starting with\n  error {expected}\ngot\n{run.err}"
        )
    # Exactly the expected problems: no follow-on noise from one mistake.
    assert len(errors) == len(case.expected), run.err
    assert "Traceback" not in run.err
    assert run.out == ""


def test_several_problems_in_one_file_are_all_reported_in_one_run_in_line_order(funnelpact) -> None:
    run = funnelpact("validate", INVALID / "several-problems-are-reported-at-once.yaml")
    assert run.code == 2
    lines = run.err.splitlines()
    assert len(lines) == 3, run.err
    assert [re.search(r"\.yaml:(\d+):", line).group(1) for line in lines] == ["14", "15", "20"]
    assert "timezone" in lines[0] and "currency" in lines[1] and "rate" in lines[2]


def test_problems_of_several_files_are_reported_in_one_run(funnelpact) -> None:
    first = INVALID / "rate-of-zero-is-not-a-rate.yaml"
    second = INVALID / "unknown-timezone-is-refused.yaml"
    run = funnelpact("validate", first, second)
    assert run.code == 2
    assert f"{first}:19:17 spec.conversion.lead->mql.rate" in run.err
    assert f"{second}:13:3 spec.timezone" in run.err


def test_a_valid_file_next_to_an_invalid_one_still_fails_the_run(funnelpact) -> None:
    run = funnelpact("validate", VALID / "minimal-agreement-relying-on-defaults.yaml", INVALID / "wrong-kind-is-refused.yaml")
    assert run.code == 2
    assert "kind 'Contract' is not supported" in run.err


def test_a_file_named_twice_is_read_once_and_does_not_clash_with_itself(funnelpact) -> None:
    run = funnelpact("validate", "sla", "sla/acme-2026-h1.yaml")
    assert run.code == 0, run.err
    assert run.out.count("acme-2026-h1.yaml") == 1


def test_a_file_in_the_folder_with_an_upper_case_extension_is_validated(funnelpact, tmp_path: Path) -> None:
    (tmp_path / "acme-2026-h1.yaml").write_bytes((ROOT / "sla" / "acme-2026-h1.yaml").read_bytes())
    (tmp_path / "ACME-2026-H2.YML").write_bytes((ROOT / "sla" / "acme-2026-h2.yaml").read_bytes())
    (tmp_path / "notes.md").write_text("not an agreement", encoding="utf-8")
    run = funnelpact("validate", tmp_path)
    assert run.code == 0, run.err
    assert f"ok {tmp_path / 'ACME-2026-H2.YML'}: acme 2026-h2" in run.out
    assert len(run.out.splitlines()) == 2, run.out


def test_an_editor_s_lock_and_macos_side_files_in_the_folder_are_not_read_as_agreements(
        funnelpact, tmp_path: Path) -> None:
    """Emacs's lock of an unsaved buffer (a link to nowhere) and macOS's AppleDouble file failed
    validate, and every run, as agreements."""
    (tmp_path / "acme-2026-h1.yaml").write_bytes((ROOT / "sla" / "acme-2026-h1.yaml").read_bytes())
    (tmp_path / ".#acme-2026-h1.yaml").symlink_to("analyst@laptop.4242:1764000000")
    (tmp_path / "._acme-2026-h1.yaml").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")
    run = funnelpact("validate", tmp_path)
    assert run.code == 0, run.err
    assert run.out.strip() == f"ok {tmp_path / 'acme-2026-h1.yaml'}: acme 2026-h1 (2026-01..2026-06, 6 stages)", run.out
    # A hidden agreement file that is none of those is still read.
    (tmp_path / ".acme-2026-h2.yaml").write_bytes((ROOT / "sla" / "acme-2026-h2.yaml").read_bytes())
    assert "acme 2026-h2" in funnelpact("validate", tmp_path).out


def test_a_linked_folder_of_agreements_is_named_not_skipped(funnelpact, tmp_path: Path) -> None:
    """rglob does not go into a linked folder: the revision in it was neither validated nor judged."""
    shared, sla = tmp_path / "shared", tmp_path / "sla"
    shared.mkdir(), sla.mkdir(), (tmp_path / "schemas").mkdir()
    (sla / "acme-2026-h1.yaml").write_bytes((ROOT / "sla" / "acme-2026-h1.yaml").read_bytes())
    (shared / "acme-2026-h2.yaml").write_bytes((ROOT / "sla" / "acme-2026-h2.yaml").read_bytes())
    (tmp_path / "schemas" / "notes.json").write_text("{}")
    (sla / "schemas").symlink_to("../schemas")  # holds no agreement: not in the way
    (sla / "shared").symlink_to("../shared")
    run = funnelpact("validate", sla)
    assert run.code == 2, run.out
    assert run.err.strip() == (f"error {sla / 'shared'}: is a symbolic link to the folder ../shared, which "
                               "funnelpact does not read into: expected agreement files, or links to files; link "
                               "each file, or name the folder itself")
    (sla / "shared").unlink()
    (sla / "acme-2026-h2.yaml").symlink_to("../shared/acme-2026-h2.yaml")
    run = funnelpact("validate", sla)
    assert run.code == 0, run.err
    assert "acme 2026-h2" in run.out


def test_a_link_whose_agreement_is_gone_is_named_not_skipped(funnelpact, tmp_path: Path) -> None:
    """A revision linked into the folder from a checkout that is not there: skipped, validate
    said ok for the others and a run judged its months by no revision at all."""
    (tmp_path / "acme-2026-h1.yaml").write_bytes((ROOT / "sla" / "acme-2026-h1.yaml").read_bytes())
    (tmp_path / "acme-2026-h2.yaml").symlink_to("../shared/acme-2026-h2.yaml")
    (tmp_path / "loop-a.yaml").symlink_to("loop-b.yaml")  # and a pair that loops: read without end
    (tmp_path / "loop-b.yaml").symlink_to("loop-a.yaml")
    run = funnelpact("validate", tmp_path)
    assert run.code == 2, run.out
    assert run.err.splitlines() == [
        f"error {tmp_path / 'acme-2026-h2.yaml'}: cannot read the file (No such file or directory): it is a "
        "symbolic link to ../shared/acme-2026-h2.yaml; expected the agreement file it links to",
        f"error {tmp_path / 'loop-a.yaml'}: cannot read the file (Too many levels of symbolic links): it is a "
        "symbolic link to loop-b.yaml; expected the agreement file it links to",
        f"error {tmp_path / 'loop-b.yaml'}: cannot read the file (Too many levels of symbolic links): it is a "
        "symbolic link to loop-a.yaml; expected the agreement file it links to",
    ], run.err


def test_a_file_validate_may_not_read_exits_2_naming_it(tmp_path: Path, without_root_override) -> None:
    file = tmp_path / "acme-2026-h1.yaml"
    file.write_bytes((ROOT / "sla" / "acme-2026-h1.yaml").read_bytes())
    file.chmod(0)
    try:
        done = without_root_override("from pipelines.cli import main; main()", "validate", str(tmp_path))
    finally:
        file.chmod(0o644)
    assert done.returncode == 2, done.stderr
    assert done.stderr == (f"error {file}: cannot read the file (Permission denied): expected an agreement file "
                           "funnelpact can read\n"), done.stderr


@pytest.mark.parametrize("old, new, expected", [
    ("apiVersion: funnelpact/v1", "apiVersion: 1.0", "4:1 apiVersion: unsupported apiVersion 1.0: expected 'funnelpact/v1'"),
    ("kind: Agreement", "kind: yes", "5:1 kind: kind true is not supported: expected 'Agreement'"),
    ("- {channel: log}", "- {channel: on}", "53:8 spec.alerts[2].channel: unknown channel true: expected 'slack', 'email', 'webhook', 'log'"),
])
def test_a_wrong_version_kind_or_channel_is_shown_as_yaml_writes_it(
        funnelpact, tmp_path: Path, old: str, new: str, expected: str) -> None:
    # They read "unsupported apiVersion Decimal('1.0')", "kind True", "unknown channel 'True'".
    text = (ROOT / "sla" / "acme-2026-h1.yaml").read_text(encoding="utf-8")
    assert old in text
    file = tmp_path / "acme.yaml"
    file.write_text(text.replace(old, new), encoding="utf-8")
    run = funnelpact("validate", file)
    assert run.code == 2
    assert run.err == f"error {file}:{expected}\n", run.err


def test_a_missing_path_exits_2_naming_it(funnelpact) -> None:
    run = funnelpact("validate", "sla/no-such-agreement.yaml")
    assert run.code == 2
    assert "sla/no-such-agreement.yaml: no such file or folder" in run.err


def test_a_file_that_is_not_utf8_is_named_with_its_line(funnelpact, tmp_path: Path) -> None:
    file = tmp_path / "latin1.yaml"
    file.write_bytes((ROOT / "sla" / "acme-2026-h1.yaml").read_bytes().replace(b"Marta Ruiz", b"M\xe1rta Ruiz"))
    run = funnelpact("validate", file)
    assert run.code == 2
    assert f"{file}:10: byte 0xe1 is not UTF-8 text: expected the file saved as UTF-8" in run.err


def test_a_file_far_larger_than_any_agreement_is_refused_before_it_is_parsed(funnelpact, tmp_path: Path) -> None:
    """A pull request can bring any file into sla/: 4 MB of a long list took validate 8 s and
    665 MB (composing YAML costs ~170 bytes a value), 40 MB would exhaust a CI runner, before
    the 100,000-value limit spoke. An agreement is a few kilobytes."""
    file = tmp_path / "huge.yaml"
    text = (ROOT / "sla" / "acme-2026-h1.yaml").read_text(encoding="utf-8")
    file.write_text(text + "padding: [" + "x, " * 400_000 + "x]\n", encoding="utf-8")
    run = funnelpact("validate", file)
    assert run.code == 2
    assert f"error {file}: the file is 1,2" in run.err
    assert "characters long: expected an Agreement document of at most 1,048,576 characters" in run.err


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_a_file_saved_as_utf16_is_named_as_such(funnelpact, tmp_path: Path, encoding: str) -> None:
    file = tmp_path / "unicode.yaml"
    text = (ROOT / "sla" / "acme-2026-h1.yaml").read_text(encoding="utf-8")
    file.write_bytes(("\ufeff" if encoding.endswith("be") else "").encode(encoding) + text.encode(encoding))
    run = funnelpact("validate", file)
    assert run.code == 2
    assert run.err.strip() == (f"error {file}:1: the file is saved as UTF-16 (it starts with a UTF-16 byte-order "
                               "mark): expected the file saved as UTF-8")


@pytest.mark.parametrize("separator", ["\u2028", "\u0085", "\u2029"], ids=["LS", "NEL", "PS"])
def test_a_line_separator_pasted_into_a_label_does_not_move_the_lines_named_after_it(
        funnelpact, tmp_path: Path, separator: str) -> None:
    """YAML 1.1 breaks lines at U+2028, U+0085 and U+2029 too; an editor, git and a pull
    request do not. A mistake below a label pasted with one is named on its own line, with
    its column, also in a file saved with a byte-order mark."""
    text = (ROOT / "sla" / "acme-2026-h1.yaml").read_text(encoding="utf-8")
    text = text.replace("label: Marketing qualified", f'label: "Marketing{separator}qualified"')
    text = text.replace("lead->mql: {rate: 0.30}", "lead->mql: {rate: 30}")
    line = next(i for i, t in enumerate(text.split("\n"), 1) if "rate: 30}" in t)
    file = tmp_path / "pasted.yaml"
    file.write_text("\ufeff" + text, encoding="utf-8")
    run = funnelpact("validate", file)
    assert run.code == 2
    assert f"{file}:{line}:17 spec.conversion.lead->mql.rate: 30 is not a rate" in run.err, run.err


@pytest.mark.parametrize("separator", ["\u2028", "\x85", "\u2029"], ids=["LS", "NEL", "PS"])
def test_a_line_break_only_yaml_sees_in_a_comment_is_named_on_its_own_line(
        funnelpact, tmp_path: Path, separator: str) -> None:
    """In a comment it ends the comment, and the rest of it is read as a value: the error
    named line 39 ("mapping values are not allowed … check the indentation of this line"),
    where nothing is wrong, not line 38, which holds the character no editor shows. (NEL is
    what "…" in Windows-1252 becomes when the file is read as Latin-1.)"""
    text = (ROOT / "sla" / "acme-2026-h1.yaml").read_text(encoding="utf-8")
    old = "2026-03: {mql: 150}          # webinar series in March"
    assert old in text
    file = tmp_path / "pasted.yaml"
    file.write_text(text.replace(old, f"2026-03: {{mql: 150}}          # webinar series{separator}in March"), encoding="utf-8")
    run = funnelpact("validate", file)
    assert run.code == 2
    assert run.err.startswith(f"error {file}:38:50: invalid YAML: the invisible character U+{ord(separator):04X} here is "
                              "a line break to YAML, not to editors: delete it (YAML then finds at line 39"), run.err


@pytest.mark.parametrize("character", ["\x07", "\x00", "\x1b"], ids=["BEL", "NUL", "ESC"])
def test_a_control_character_is_named_with_its_line_and_column(funnelpact, tmp_path: Path, character: str) -> None:
    """YAML refuses control characters anywhere; the message was libyaml's, two lines long,
    'in "<unicode string>", position 913', with no line."""
    text = (ROOT / "sla" / "acme-2026-h1.yaml").read_text(encoding="utf-8")
    text = "# Acuerdo de nivel de servicio: Ventas ↔ Marketing\n" + text.replace(
        "label: Marketing qualified", f"label: Marketing{character}qualified")
    line = next(i for i, t in enumerate(text.split("\n"), 1) if character in t)
    file = tmp_path / "pasted.yaml"
    file.write_text(text, encoding="utf-8")
    run = funnelpact("validate", file)
    assert run.code == 2
    assert run.err == (f"error {file}:{line}:33: invalid YAML: the character U+{ord(character):04X} is not "
                       "allowed (YAML holds no control characters): delete it\n"), run.err


def test_a_folder_without_agreements_exits_2(funnelpact, tmp_path: Path) -> None:
    run = funnelpact("validate", tmp_path)
    assert run.code == 2
    assert "no agreement files (*.yaml, *.yml) found" in run.err


@pytest.mark.parametrize("entry", sorted(VALID.iterdir()), ids=lambda f: f.stem.replace("-", " ") + " is valid")
def test_a_valid_fixture_validates(entry: Path, funnelpact) -> None:
    """A file, or a folder whose files are valid together (revisions, agreements side by side)."""
    run = funnelpact("validate", entry)
    assert run.code == 0, run.err
    files = sorted(entry.glob("*.yaml")) if entry.is_dir() else [entry]
    assert sorted(line.split(":")[0] for line in run.out.splitlines()) == [f"ok {f}" for f in files], run.out


def test_the_shipped_examples_in_sla_validate(funnelpact) -> None:
    run = funnelpact("validate")  # default path: sla/
    assert run.code == 0, run.err
    assert "ok sla/acme-2026-h1.yaml: acme 2026-h1 (2026-01..2026-06, 6 stages)" in run.out
    assert "ok sla/acme-2026-h2.yaml: acme 2026-h2 (2026-07..2026-12, 6 stages)" in run.out
    assert "warning" not in run.err


def _rewritten(source: Path, file: Path, *replacements: tuple[str, str]) -> Path:
    """`source` saved as `file` with each (old, new) replaced; each old must be there, or the
    test would check the file unchanged."""
    text = source.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, f"{old!r} not in {source}"
        text = text.replace(old, new)
    file.write_text(text, encoding="utf-8")
    return file


def _with_seasonality(tmp_path: Path, seasonality: str) -> Path:
    text = (ROOT / "sla" / "acme-2026-h1.yaml").read_text(encoding="utf-8")
    assert "seasonality: {2026-01: 0.8, 2026-06: 1.2}" in text
    file = tmp_path / "acme.yaml"
    file.write_text(text.replace("{2026-01: 0.8, 2026-06: 1.2}", seasonality), encoding="utf-8")
    return file


def test_seasonality_written_as_percentages_next_to_months_not_named_is_valid_with_a_warning(funnelpact, tmp_path: Path) -> None:
    file = _with_seasonality(tmp_path, "{2026-01: 80, 2026-06: 120}")
    run = funnelpact("validate", file)
    assert run.code == 0, run.err
    assert run.out.startswith(f"ok {file}:")
    # 80 of 80 + 120 + 4 months weighing 1: 39 % of the goal, not 0.8 of a plain month's.
    assert run.err.strip() == (
        f"warning {file}:18:17 spec.seasonality.2026-01: 2026-01 weighs 80, 2026-06 weighs 120, "
        "while the 4 month(s) not named weigh 1: 2026-01 takes 39% of the window's goal. If the "
        "weights are percentages, write 0.8 for 80%, or name every month of the window")


@pytest.mark.parametrize("seasonality", [
    "{2026-01: 80, 2026-02: 90, 2026-03: 100, 2026-04: 100, 2026-05: 110, 2026-06: 120}",  # all named: relative
    "{2026-01: 0.8, 2026-06: 9.99}",  # large, but not percentage-like
])
def test_seasonality_weights_that_split_as_written_get_no_warning(funnelpact, tmp_path: Path, seasonality: str) -> None:
    run = funnelpact("validate", _with_seasonality(tmp_path, seasonality))
    assert run.code == 0, run.err
    assert run.err == ""


def test_months_between_two_revisions_are_valid_with_a_warning_naming_the_gap(funnelpact, tmp_path: Path) -> None:
    (tmp_path / "h1.yaml").write_bytes((ROOT / "sla" / "acme-2026-h1.yaml").read_bytes())
    h2 = (ROOT / "sla" / "acme-2026-h2.yaml").read_text(encoding="utf-8")
    assert "effective: {from: 2026-07, to: 2026-12}" in h2
    (tmp_path / "h2.yaml").write_text(h2.replace("from: 2026-07", "from: 2026-08"), encoding="utf-8")
    run = funnelpact("validate", tmp_path)
    assert run.code == 0, run.err
    assert run.err.strip() == (
        f"warning {tmp_path / 'h2.yaml'}:13:3 spec.effective: no revision of acme is in force in 2026-07: "
        f"2026-h1 ends 2026-06 ({tmp_path / 'h1.yaml'}) and 2026-h2 starts 2026-08, so 2026-07 is not "
        "judged; if the gap is a slip, start 2026-h2 in 2026-07")


def _with_money(tmp_path: Path, goal: str, deal_size: str, currency: str = "USD") -> Path:
    text = (ROOT / "sla" / "acme-2026-h1.yaml").read_text(encoding="utf-8")
    for old, new in (("revenue_goal: 600000", f"revenue_goal: {goal}"), ("average_deal_size: 12000", f"average_deal_size: {deal_size}"),
                     ("currency: USD", f"currency: {currency}")):
        assert old in text
        text = text.replace(old, new)
    file = tmp_path / "acme.yaml"
    file.write_text(text, encoding="utf-8")
    return file


def test_a_sum_written_with_a_dot_between_thousands_is_valid_with_a_warning(funnelpact, tmp_path: Path) -> None:
    """600.000 for 600 000, as Germany or Brazil write it: YAML reads 600, and the goal asked
    for a thousandth of the customers without a word."""
    file = _with_money(tmp_path, "600.000", "12.000")
    file.write_text(file.read_text(encoding="utf-8").replace("{mql: 150}", "{mql: 150, visit: 120.000}"), encoding="utf-8")
    run = funnelpact("validate", file)
    assert run.code == 0, run.err
    assert run.err.splitlines() == [
        f"warning {file}:16:3 spec.revenue_goal: 600.000 is read as 600, the dot a decimal point: if it separates "
        "thousands, write 600000",
        f"warning {file}:17:3 spec.average_deal_size: 12.000 is read as 12, the dot a decimal point: if it separates "
        "thousands, write 12000",
        # An explicit target too: the model reads 120.000 as the whole number 120.
        f"warning {file}:38:25 spec.targets.2026-03.visit: 120.000 is read as 120, the dot a decimal point: if it "
        "separates thousands, write 120000",
    ]


@pytest.mark.parametrize("written, meant", [
    ("USX", "USD"),  # a letter from USD and from UGX: the code that keeps the country, US
    ("GPB", "GBP"),  # two letters swapped
    ("usd", "USD"),
    ("hrk", "HRK"),  # a withdrawn code is valid in capitals, as older revisions are
    ("yen", "JPY"),  # not YER, the Yemeni rial, a letter away
    ("RMB", "CNY"),  # not RUB
    ("euro", "EUR"),
    ("XYZ", None),
    ("BTC", None),  # not BTN, the ngultrum, a letter away
])
def test_a_currency_that_is_no_iso_4217_code_is_told_the_code_it_most_likely_meant(written: str, meant: str | None) -> None:
    from pipelines.agreement.currencies import CURRENCIES, WITHDRAWN, meant_currency

    assert meant_currency(written) == meant
    assert meant is None or meant in CURRENCIES or meant in WITHDRAWN


@pytest.mark.parametrize("currency, year, warned", [
    ("HRK", 2022, None),  # the kuna, in force before the euro replaced it: history, as written
    ("HRK", 2023, "HRK was replaced by EUR from 2023-01, and this revision is in force until 2023-06: "
                  "if its sums are in EUR, write currency: EUR"),
    ("BGN", 2025, None),
    ("BGN", 2026, "BGN was replaced by EUR from 2026-01, and this revision is in force until 2026-06: "
                  "if its sums are in EUR, write currency: EUR"),
])
def test_a_withdrawn_currency_is_valid_and_warned_of_only_in_a_revision_in_force_after_it_went(
        funnelpact, tmp_path: Path, currency: str, year: int, warned: str | None) -> None:
    """sla/ keeps every revision: one of 2022 in kuna must keep validating after the euro came."""
    file = _with_money(tmp_path, "600000", "12000", currency)
    text = file.read_text(encoding="utf-8").replace("2026-", f"{year}-")  # the window, its months
    file.write_text(text, encoding="utf-8")
    run = funnelpact("validate", file)
    assert run.code == 0, run.err
    line = next(n for n, text in enumerate(text.splitlines(), 1) if "currency:" in text)
    assert run.err.strip() == (f"warning {file}:{line}:3 spec.currency: {warned}" if warned else "")


def test_every_withdrawn_currency_names_a_current_successor_and_no_code_is_both() -> None:
    from pipelines.agreement.currencies import CURRENCIES, WITHDRAWN

    assert not CURRENCIES & WITHDRAWN.keys()
    assert all(successor in CURRENCIES or WITHDRAWN[successor][1] > since for successor, since in WITHDRAWN.values())


def test_the_currencies_counted_in_thousandths_are_iso_4217_codes() -> None:
    from pipelines.agreement.currencies import CURRENCIES, THOUSANDTHS

    assert THOUSANDTHS <= CURRENCIES
    assert all(len(code) == 3 and code.isupper() for code in CURRENCIES)


@pytest.mark.parametrize("goal, deal_size, currency", [
    ("600000.000", "12000", "USD"),  # three decimals, but no thousands separator could mean that
    ("600.5", "12.25", "USD"),  # cents
    ("600.125", "12.000", "KWD"),  # a currency counted in thousandths
])
def test_sums_with_decimals_that_are_no_thousands_separator_get_no_warning(
        funnelpact, tmp_path: Path, goal: str, deal_size: str, currency: str) -> None:
    run = funnelpact("validate", _with_money(tmp_path, goal, deal_size, currency))
    assert run.code == 0, run.err
    assert run.err == ""


@pytest.mark.parametrize("zone, warned", [
    ("Etc/GMT+5", "Etc/GMT+5 is UTC-05:00: in the Etc/GMT zones the sign is reversed (POSIX); if you meant "
                  "UTC+05:00, write Etc/GMT-5"),
    ("Etc/GMT-10", "Etc/GMT-10 is UTC+10:00: in the Etc/GMT zones the sign is reversed (POSIX); if you meant "
                   "UTC-10:00, write Etc/GMT+10"),
    ("Etc/GMT", None), ("Europe/Berlin", None),
])
def test_an_etc_gmt_zone_is_valid_with_a_warning_that_its_sign_is_reversed(
        funnelpact, tmp_path: Path, zone: str, warned: str | None) -> None:
    """Etc/GMT+5 is five hours behind UTC: written for UTC+5, every month started ten hours late."""
    text = (ROOT / "sla" / "acme-2026-h1.yaml").read_text(encoding="utf-8")
    assert "timezone: America/Mexico_City" in text
    file = tmp_path / "acme.yaml"
    file.write_text(text.replace("timezone: America/Mexico_City", f"timezone: {zone}"), encoding="utf-8")
    run = funnelpact("validate", file)
    assert run.code == 0, run.err
    line = next(n for n, text in enumerate(file.read_text().splitlines(), 1) if "timezone:" in text)
    assert run.err.strip() == (f"warning {file}:{line}:3 spec.timezone: {warned}, or better the place's own zone "
                               "(Asia/Karachi, Europe/Berlin), which keeps its daylight saving time" if warned else "")


@pytest.mark.parametrize("zone, current", [
    ("US/Eastern", "America/New_York"), ("US/Pacific", "America/Los_Angeles"), ("Canada/Eastern", "America/Toronto"),
    ("Asia/Calcutta", "Asia/Kolkata"), ("Europe/Kiev", "Europe/Kyiv"), ("Asia/Istanbul", "Europe/Istanbul"),
    ("GMT", "Etc/GMT"), ("Etc/GMT+0", "Etc/GMT"), ("Zulu", "Etc/UTC"),
    # Links to a zone several places share, or to one keeping a kind of time: no one name.
    ("Iceland", None), ("EET", None), ("GB", None),
    # A place's own name, linked to a zone it shares with another place (Kuala Lumpur's).
    ("Singapore", "Asia/Singapore"),
    # Current names, some of them links too (Amsterdam and Accra share another city's zone).
    ("UTC", ""), ("Etc/UTC", ""), ("America/New_York", ""), ("Europe/Amsterdam", ""), ("Africa/Accra", ""),
])
def test_an_old_timezone_name_is_valid_with_a_warning_naming_the_current_one(
        funnelpact, tmp_path: Path, zone: str, current: str | None) -> None:
    """US/Eastern works (the tz database links it to America/New_York), so it is no error;
    but it is kept only for old files, and may go."""
    text = (ROOT / "sla" / "acme-2026-h1.yaml").read_text(encoding="utf-8")
    file = tmp_path / "acme.yaml"
    file.write_text(text.replace("timezone: America/Mexico_City", f"timezone: {zone}"), encoding="utf-8")
    run = funnelpact("validate", file)
    assert run.code == 0, run.err
    line = next(n for n, text in enumerate(file.read_text().splitlines(), 1) if "timezone:" in text)
    every = "in every revision of acme, which share one timezone"
    expected = "" if current == "" else f"warning {file}:{line}:3 spec.timezone: " + (
        f"{zone} is an old name of {current}, kept by the tz database for compatibility: write {current} ({every}); "
        "the months stay the same" if current else
        f"{zone} is an old name the tz database keeps for compatibility, which names no one place: write the place's "
        f"own zone, Area/City (Europe/Berlin, America/New_York), {every}")
    assert run.err.strip() == expected


def test_every_current_name_given_for_an_old_timezone_name_is_a_place_s_zone_with_the_same_clock() -> None:
    """Never a wrong zone: the name suggested keeps the old name's offsets, month by month."""
    from datetime import datetime

    from pipelines.agreement.months import _links, _place_zones, current_zone_name, is_old_zone_name, zone

    suggested = {old: current_zone_name(old) for old in _links() if is_old_zone_name(old)}
    assert suggested["US/Eastern"] == "America/New_York" and suggested["Asia/Calcutta"] == "Asia/Kolkata"
    instants = [datetime(year, month, 1, 12) for year in range(1970, 2038) for month in range(1, 13)]
    for old, current in suggested.items():
        if current is None:
            continue
        assert current in _place_zones() or current.startswith("Etc/"), (old, current)
        assert [zone(old).utcoffset(t) for t in instants] == [zone(current).utcoffset(t) for t in instants], (old, current)


def test_an_alert_channel_listed_twice_is_valid_with_a_warning(funnelpact, tmp_path: Path) -> None:
    text = (ROOT / "sla" / "acme-2026-h2.yaml").read_text(encoding="utf-8")
    assert "    - {channel: log}\n" in text
    file = tmp_path / "acme.yaml"
    file.write_text(text.replace("    - {channel: log}\n", "    - {channel: log}\n    - {channel: log}\n"), encoding="utf-8")
    run = funnelpact("validate", file)
    assert run.code == 0, run.err
    line = next(n for n, text in enumerate(file.read_text().splitlines(), 1) if text == "    - {channel: log}") + 1
    assert run.err.strip() == (f"warning {file}:{line}:7 spec.alerts[3]: the same channel as spec.alerts[2] (log): "
                               "each alert reaches it once; remove one, or point it at another channel")


def test_a_file_named_for_another_revision_than_it_holds_is_valid_with_a_warning(funnelpact, tmp_path: Path) -> None:
    """h2 copied to acme-2027-q1.yaml for next quarter, its label mistyped: the suites, alerts
    and diff would say 2072-q1 while the pull request shows acme-2027-q1.yaml."""
    file = _rewritten(ROOT / "sla" / "acme-2026-h2.yaml", tmp_path / "acme-2027-q1.yaml",
                      ("revision: 2026-h2", "revision: 2072-q1"), ("from: 2026-07, to: 2026-12", "from: 2027-01, to: 2027-06"),
                      ("{2026-08: 0.7, 2026-11: 1.2, 2026-12: 1.3}", "{}"))
    run = funnelpact("validate", file)
    assert run.code == 0, run.err
    assert run.err.strip() == (
        f"warning {file}:8:3 metadata.revision: the file is named for revision 2027-q1 of acme, but holds revision "
        "2072-q1: if the label is a slip, write revision: 2027-q1; else rename the file acme-2072-q1.yaml (the label "
        "names the revision's suites, alerts and diff)")


@pytest.mark.parametrize("name", ["acme-2026-h2.yaml", "ACME_2026-H2.YML", "h2.yaml", "acme.yaml", "acme-eu.yaml",
                                  "acme-2026.yaml", "beta-2026-h1.yaml"])
def test_a_file_named_as_its_revision_or_after_no_revision_gets_no_warning(funnelpact, tmp_path: Path, name: str) -> None:
    file = tmp_path / name
    file.write_bytes((ROOT / "sla" / "acme-2026-h2.yaml").read_bytes())
    run = funnelpact("validate", file)
    assert run.code == 0, run.err
    assert run.err == ""


def test_the_console_script_prints_one_clear_line_and_exits_2_without_a_traceback() -> None:
    funnelpact = Path(sys.executable).with_name("funnelpact")
    file = (INVALID / "rate-above-one-is-not-a-rate.yaml").relative_to(ROOT)
    done = subprocess.run([str(funnelpact), "validate", str(file)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"error {file}:19:17 spec.conversion.lead->mql.rate: 30 is not a rate: "
        "expected a share in (0, 1], e.g. 0.3 for 30%"
    )
    assert done.stdout == ""


def test_keys_that_look_like_markup_are_printed_verbatim(funnelpact, tmp_path: Path) -> None:
    text = (VALID / "minimal-agreement-relying-on-defaults.yaml").read_text(encoding="utf-8")
    file = tmp_path / "markup.yaml"
    file.write_text(text + '  kpis: {"volume:smile": {}, "[bold]x": {}}\n', encoding="utf-8")
    run = funnelpact("validate", file)
    assert run.code == 2
    assert "spec.kpis.volume:smile: unknown KPI 'volume:smile'" in run.err
    assert "spec.kpis.[bold]x: unknown KPI '[bold]x'" in run.err


def test_merge_keys_are_read_with_the_keys_written_next_to_them_winning() -> None:
    from pipelines.agreement import load_agreements

    (a,) = load_agreements(VALID / "merge-keys-share-a-cohort-rule.yaml")
    assert a.metadata.owners.sales.model_dump() == {"name": "Joao Lima", "email": "marta@merged.example"}
    cohort = a.conversion_for("opportunity", "customer")
    assert (str(cohort.rate), cohort.method, cohort.window_days) == ("0.25", "cohort", 90)
    assert a.conversion_for("mql", "sql").window_days == 30
    assert {k: (str(p.tolerance), p.severity) for k, p in a.spec.kpis.items()} == {
        "default": ("0.05", "fail"), "volume": ("0.1", "fail"), "revenue": ("0.1", "fail")}


@pytest.mark.parametrize("month", ["1900-01", "2999-12"], ids=["the first accepted month", "the last accepted month"])
def test_an_accepted_month_leaves_room_for_ten_year_windows_in_any_timezone(month: str) -> None:
    from datetime import timedelta

    from pipelines.agreement.months import is_month, month_bounds_utc

    assert is_month(month)
    for timezone in ("Pacific/Kiritimati", "Etc/GMT+12"):  # UTC+14 and UTC-12
        start, end = month_bounds_utc(month, timezone)
        # A cohort window or a decision limit: at most 3660 days after the month ends.
        assert start - timedelta(days=3660) < end + timedelta(days=3660)


@pytest.mark.parametrize("month", ["0000-01", "1899-12", "3000-01", "9999-12"])
def test_months_outside_1900_to_2999_are_not_months(month: str) -> None:
    from pipelines.agreement.months import is_month

    assert not is_month(month)


def test_a_funnel_without_visits_plans_and_compiles_its_first_pair_as_a_cohort(funnelpact, tmp_path: Path) -> None:
    import json

    file = VALID / "funnel-without-visits-measures-its-first-pair-as-a-cohort.yaml"
    run = funnelpact("plan", "--sla", file, "--format", "json")
    assert run.code == 0, run.err
    # 6 customers a month (24000 / 4000); sql = 6 / 0.25, mql = 24 / 0.4, lead = 60 / 0.5.
    march = json.loads(run.out)["months"][0]
    assert (march["period"], march["targets"]) == ("2026-03", {"lead": 120, "mql": 60, "sql": 24, "customer": 6})
    out = tmp_path / "expectations"
    run = funnelpact("compile", "--sla", file, "--out", out)
    assert run.code == 0, run.err
    suite = json.loads((out / "gx/expectations/leads_first/r1/conversion.json").read_text())
    assert {e["meta"]["kpi"] for e in suite["expectations"]} == {
        "conversion:lead->mql", "conversion:mql->sql", "conversion:sql->customer"}


def test_a_derived_target_of_exactly_10_to_the_15_is_refused_as_an_explicit_one_is(funnelpact, tmp_path: Path) -> None:
    # 30 customers in the window (30000 / 1000); rates 0.0000003 x 0.0000001 x 1 x 1 x 1 = 3e-14,
    # so the visit target is 30 / 3e-14 = 10^15 exactly: not below 10^15. The smallest rate is blamed.
    small = INVALID / "rates-so-small-that-targets-reach-10-to-the-15-are-refused.yaml"
    file = _rewritten(small, tmp_path / "exactly.yaml",
                      ("visit->lead: {rate: 1e-200}", "visit->lead: {rate: 0.0000003}"),
                      ("lead->mql: {rate: 1e-200}", "lead->mql: {rate: 0.0000001}"),
                      ("mql->sql: {rate: 0.5}", "mql->sql: {rate: 1}"),
                      ("sql->opportunity: {rate: 0.5}", "sql->opportunity: {rate: 1}"),
                      ("opportunity->customer: {rate: 0.25}", "opportunity->customer: {rate: 1}"))
    run = funnelpact("validate", file)
    assert run.code == 2, run.out
    assert "spec.conversion.lead->mql.rate: with this rate the visit target of the window 2026-01..2026-03 is 1.0e+15" in run.err


def test_a_crm_name_the_importers_write_as_an_id_the_revision_does_not_list_is_valid_with_a_warning(
        funnelpact, tmp_path: Path) -> None:
    # The importers write HubSpot's `subscriber` as `lead` and its `marketingqualifiedlead` as
    # `mql`: a stage listing only the CRM's name counted no imported event (quarantined as
    # unknown_stage, or counted for the stage of that id), and validate said nothing.
    text = (VALID / "renamed-stages.yaml").read_text(encoding="utf-8")
    file = tmp_path / "plg.yaml"
    file.write_text(text.replace("crm_values: [subscriber, lead]", "crm_values: [subscriber]")
                        .replace("{id: trial_call, label: Trial calls, owner: sales}",
                                 "{id: trial_call, label: Trial calls, owner: sales, crm_values: [Marketing Qualified]}"),
                    encoding="utf-8")
    run = funnelpact("validate", file)
    assert run.code == 0, run.err
    lines = file.read_text().splitlines()
    signup = next(n for n, line in enumerate(lines, 1) if "{id: signup" in line)
    trial = next(n for n, line in enumerate(lines, 1) if "{id: trial_call" in line)
    at = {n: f"{n}:{lines[n - 1].index('crm_values') + 1}" for n in (signup, trial)}
    assert run.err.splitlines() == [
        f"warning {file}:{at[signup]} spec.stages[0].crm_values: the HubSpot importer writes 'subscriber' as 'lead', "
        "which this revision does not list: imported events of 'signup' would be quarantined as unknown_stage; "
        "add 'lead' to its crm_values (docs/data.md, Importers)",
        f"warning {file}:{at[trial]} spec.stages[2].crm_values: the Salesforce importer writes 'Marketing Qualified' "
        "as 'mql', which means 'mql' here: imported events count for 'mql', not 'trial_call' (docs/data.md, Importers)",
    ], run.err


def test_a_file_edited_between_two_loads_in_one_process_is_read_as_edited(tmp_path: Path) -> None:
    """The steps of a run, and a long-lived Dagster code server, load the agreements again and
    again in one process; an unchanged file is not parsed twice, an edited one is read anew."""
    from pipelines.agreement.load import load_agreements
    from pipelines.errors import InputError

    file = tmp_path / "acme.yaml"
    original = (ROOT / "sla" / "acme-2026-h1.yaml").read_text(encoding="utf-8")
    file.write_text(original, encoding="utf-8")
    [first] = load_agreements(tmp_path)
    assert load_agreements(tmp_path) == [first]

    file.write_text(original.replace("revenue_goal: 600000", "revenue_goal: 650000"), encoding="utf-8")
    [edited] = load_agreements(tmp_path)
    assert (first.spec.revenue_goal, edited.spec.revenue_goal) == (600000, 650000)

    file.write_text(original.replace("revenue_goal: 600000", "revenue_goal: -1"), encoding="utf-8")
    for _ in range(2):  # a file with problems names them on every load
        with pytest.raises(InputError) as raised:
            load_agreements(tmp_path)
        assert "revenue_goal" in str(raised.value)
    file.write_text(original, encoding="utf-8")
    assert load_agreements(tmp_path) == [first]
