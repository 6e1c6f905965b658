"""Every command teaches: a help text, an example in its epilog, help on every option."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pipelines.cli import app

ROOT_COMMAND = typer.main.get_command(app)


def leaf_commands(group, prefix: str = "") -> dict:
    """Commands by their full path ('import hubspot'); typer vendors click, so duck-type groups."""
    out: dict = {}
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if hasattr(command, "commands"):
            out |= leaf_commands(command, f"{path} ")
        else:
            out[path] = command
    return out


COMMANDS = leaf_commands(ROOT_COMMAND)
# The groups of commands below the root ('import'): README says every command's --help has an example.
GROUPS = {name: command for name, command in ROOT_COMMAND.commands.items() if hasattr(command, "commands")}


def test_the_spec_commands_all_exist() -> None:
    expected = {"validate", "schema", "plan", "diff", "compile", "generate", "import hubspot",
                "import salesforce", "import csv", "run", "backfill", "report", "demo"}
    assert expected <= set(COMMANDS)


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=lambda p: f"funnelpact {p} is documented")
def test_every_command_has_help_an_example_and_documented_options(path: str) -> None:
    command = COMMANDS[path]
    assert command.help and command.help.strip(), f"{path} has no help text"
    assert command.epilog and re.match(r"Examples?: ([A-Z_]+=\S+ )*funnelpact ", command.epilog), f"{path} has no example in its epilog"
    result = CliRunner().invoke(app, [*path.split(), "--help"])
    assert result.exit_code == 0 and "Usage" in result.output
    for param in command.params:
        if param.param_type_name == "option":
            assert param.help, f"{path} {param.opts[0]} has no help"
            assert param.opts[0] in result.output, f"{path} --help does not show {param.opts[0]}"


@pytest.mark.parametrize("path", ["", *sorted(COMMANDS)], ids=lambda p: f"funnelpact {p} shows flags as flags")
def test_help_shows_a_type_for_options_that_take_a_value_and_none_for_a_flag(path: str) -> None:
    """`--debug <bool>` read as an option that takes a value: `--dry-run true` was refused."""
    lines = CliRunner().invoke(app, [*path.split(), "--help"], env={"COLUMNS": "200"}).output.splitlines()
    options = [line for line in lines if re.match(r"│ +--", line)]
    assert options and not [line for line in options if "<bool>" in line], "\n".join(options)
    for param in (COMMANDS[path] if path else ROOT_COMMAND).params:
        row = next((line for line in options if re.search(rf"{re.escape(param.opts[0])}\b", line)), None)
        if param.param_type_name == "option" and not param.is_flag and row is not None:
            assert "<" in row, row  # the value's type: <path>, <int>, <table|json>, …


@pytest.mark.parametrize("path", ["", *sorted(COMMANDS)], ids=lambda p: f"funnelpact {p} names its types in words")
def test_help_names_each_value_s_type_as_a_person_reads_it_not_as_python_writes_it(path: str) -> None:
    """`validate --help` read `PATH <list[Path]>`, the Python annotation; `--seed <int range>`
    read as an option that takes a range ("0-9")."""
    output = CliRunner().invoke(app, [*path.split(), "--help"], env={"COLUMNS": "200"}).output
    rows = [line for line in output.splitlines() if re.match(r"│ +(\* +)?(--|[A-Z])", line)]
    types = [t for row in rows for t in re.findall(r"  (<[^>]*>(?:\.\.\.)?)", row)]
    # A kind of value in words (<path>, <tz>), or a shape as it is written (<YYYY-MM>).
    assert not [t for t in types if not re.fullmatch(r"<([a-z|_-]+|YYYY-MM(-DD)?)>(\.\.\.)?", t)], "\n".join(rows)
    for param in (COMMANDS[path] if path else ROOT_COMMAND).params:
        if param.param_type_name == "argument" and param.nargs == -1:  # several values: the items' type, then ...
            row = next(line for line in rows if re.match(rf"│ +(\* +)?{param.metavar} ", line))
            assert re.search(r" <path>\.\.\. ", row), row


# The shapes an option's help names, and the metavar that shows each, the same in every
# command. The first the help names is the value's (--timestamp-format's help names ISO 8601
# only as its default).
SHAPES = {r"\bYYYY-MM-DD\b": "<YYYY-MM-DD>", r"\bYYYY-MM\b(?!-)": "<YYYY-MM>", r"\binstant\b": "<instant>",
          r"\bIANA time zone\b": "<tz>", r"\bstrptime\b": "<strptime>"}


def shape_of(help_text: str) -> str | None:
    """The metavar of the first shape `help_text` names, or None."""
    found = [(m.start(), metavar) for pattern, metavar in SHAPES.items() if (m := re.search(pattern, help_text))]
    return min(found)[1] if found else None


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=lambda p: f"funnelpact {p} shows the shape of its values")
def test_an_option_with_a_fixed_shape_shows_it_and_none_reads_str(path: str) -> None:
    """`--month <str>`, `--as-of <str>`, `--timezone <str>`, `diff BASE <str>`: every text value
    read as any text, though 2026-03 is the only month `--month` takes and "March" is refused."""
    output = CliRunner().invoke(app, [*path.split(), "--help"], env={"COLUMNS": "250"}).output
    arguments = [line for line in output.splitlines() if re.match(r"│ +(\* +)?[A-Z]", line)]
    rows = [line for line in output.splitlines() if re.match(r"│ +(\* +)?--", line)]
    assert not [row for row in arguments + rows if "<str>" in row], "\n".join(arguments + rows)
    for param in COMMANDS[path].params:
        if param.param_type_name != "option" or param.is_flag:
            continue
        row = next(line for line in rows if re.search(rf" {re.escape(param.opts[0])} ", line))
        if (metavar := shape_of(param.help)) is not None:
            assert f" {metavar} " in row, row


def test_every_shape_an_option_names_is_one_the_help_shows() -> None:
    """The shapes above are those the options name: --from's "(YYYY-MM)" in run and backfill,
    --month's in plan and report, --as-of's instant, generate's days, the importers' zones."""
    shown = {(path, param.opts[0]): shape_of(param.help) for path, command in COMMANDS.items()
             for param in command.params if param.param_type_name == "option" and not param.is_flag}
    assert {k: v for k, v in shown.items() if v} == {
        ("plan", "--month"): "<YYYY-MM>", ("report", "--month"): "<YYYY-MM>",
        ("run", "--from"): "<YYYY-MM>", ("run", "--to"): "<YYYY-MM>",
        ("backfill", "--from"): "<YYYY-MM>", ("backfill", "--to"): "<YYYY-MM>",
        ("run", "--as-of"): "<instant>", ("backfill", "--as-of"): "<instant>", ("report", "--as-of"): "<instant>",
        ("generate", "--start"): "<YYYY-MM-DD>", ("generate", "--end"): "<YYYY-MM-DD>",
        **{(f"import {crm}", option): metavar for crm in ("hubspot", "salesforce")
           for option, metavar in (("--timezone", "<tz>"), ("--timestamp-format", "<strptime>"))},
    }


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=lambda p: f"funnelpact {p} states its defaults")
def test_every_optional_option_states_its_default(path: str) -> None:
    for param in COMMANDS[path].params:
        if param.param_type_name != "option" or param.required or param.is_flag:
            continue  # a flag is off unless given
        shown = param.show_default and param.default is not None  # typer prints [default: …]
        assert shown or "default" in param.help.lower(), f"{path} {param.opts[0]} does not say what it is when not given"


def test_an_unknown_option_is_bad_input_with_exit_code_2() -> None:
    result = CliRunner().invoke(app, ["plan", "--no-such-option"])
    assert result.exit_code == 2
    # SPEC section 7: the message names what is wrong, and where to read what is expected.
    said = " ".join(result.output.split())
    assert "No such option: --no-such-option" in said and "Try 'funnelpact plan -h' for help." in said, said


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=lambda p: f"funnelpact {p} lists its formats")
def test_every_format_option_lists_its_choices(path: str) -> None:
    from enum import Enum

    for param in COMMANDS[path].params:
        if "--format" in getattr(param, "opts", ()):
            annotation = param.type_descriptor.annotation
            assert isinstance(annotation, type) and issubclass(annotation, Enum), f"{path} --format takes any text"


@pytest.mark.parametrize("args", [["run", "--format", "xml"], ["backfill", "--from", "2026-01", "--to", "2026-02",
                                                                 "--format", "xml"], ["diff", "HEAD", "--format", "xml"]])
def test_an_unknown_format_is_a_usage_error(args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "'xml' is not one of" in " ".join(result.output.split())


@pytest.mark.parametrize("path", ["run", "backfill", "report", "demo", "compile", "test-alerts"])
def test_the_commands_with_more_than_bad_input_to_tell_document_their_exit_codes(path: str) -> None:
    # 1 is a fail-severity breach for run and backfill, "out of date" for compile --check,
    # "a channel failed" for test-alerts; report and demo exit 0 whatever the statuses.
    assert "Exit code 0 when" in " ".join(COMMANDS[path].help.split()), f"{path} --help says nothing of exit codes"


@pytest.mark.parametrize("path", sorted(p for p in COMMANDS if "Exit code" in (COMMANDS[p].help or "")),
                         ids=lambda p: f"funnelpact {p} lists exit code 2")
def test_a_help_that_lists_exit_codes_lists_2_for_bad_input(path: str) -> None:
    # README: 2 is bad input for every command; a list without it reads as "never 2".
    assert re.search(r"\b2 (on|for|when)\b", " ".join(COMMANDS[path].help.split())), f"{path} --help omits exit code 2"


# Their examples run the whole pipeline or reach a network: tests/defs, tests/report,
# tests/alerts and tests/cli/test_demo.py run those commands. Every other example is run below, as written.
PIPELINE_OR_NETWORK = {"run", "backfill", "report", "demo", "test-alerts"}
ROOT = Path(__file__).resolve().parents[2]


def examples(path: str) -> list[list[str]]:
    """The commands of an epilog ("Examples: funnelpact a; funnelpact b --check (in CI)"), as
    arguments, a shell redirection left out."""
    text = " ".join((COMMANDS | GROUPS)[path].epilog.split())
    return [shlex.split(command.split(" > ")[0])[1:] for command in re.findall(r"funnelpact [^;(]+", text)]


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """What the examples expect to start from: the repository root of a git checkout with an
    origin/main, the agreements, their suites and the test fixtures."""
    shutil.copytree(ROOT / "sla", tmp_path / "sla")
    shutil.copytree(ROOT / "expectations", tmp_path / "expectations",
                    ignore=shutil.ignore_patterns("uncommitted", "plugins"))
    (tmp_path / "tests").symlink_to(ROOT / "tests")
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    for args in (["init", "-q"], ["add", "sla"], ["commit", "-qm", "agreements"],
                 ["commit", "-q", "--allow-empty", "-m", "next"], ["update-ref", "refs/remotes/origin/main", "HEAD"]):
        subprocess.run([*git, *args], check=True, capture_output=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FUNNELPACT_SLA_DIR", raising=False)
    # Homes inside the checkout: `prune-runs` run as written must not reach a real Dagster home.
    for name in ("DAGSTER_HOME", "FUNNELPACT_HOME", "FUNNELPACT_DUCKDB_PATH"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.mark.parametrize("path", sorted(set(COMMANDS) - PIPELINE_OR_NETWORK), ids=lambda p: f"funnelpact {p}'s example runs")
def test_every_example_runs_as_written(path: str, checkout: Path) -> None:
    assert examples(path), f"no example found in the epilog of {path}"
    for args in examples(path):
        assert args[: len(path.split())] == path.split(), f"the example of {path} runs another command: {args}"
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, f"funnelpact {shlex.join(args)} exited {result.exit_code}: {result.output}"


@pytest.mark.parametrize("path", sorted(GROUPS), ids=lambda p: f"funnelpact {p} --help has an example that runs")
def test_every_group_of_commands_has_an_example_that_runs_as_written(path: str, checkout: Path) -> None:
    """`funnelpact import --help` listed the importers and showed no example of any."""
    epilog = GROUPS[path].epilog
    assert epilog and re.match(r"Examples?: funnelpact ", epilog), f"{path} has no example in its epilog"
    assert "Example" in CliRunner().invoke(app, [path, "--help"]).output
    for args in examples(path):
        assert args[0] == path and " ".join(args[:2]) in COMMANDS, f"the example of {path} runs no command of it: {args}"
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, f"funnelpact {shlex.join(args)} exited {result.exit_code}: {result.output}"


@pytest.mark.parametrize(("command", "usage"), [("validate", "[PATH]..."), ("diff", "BASE [HEAD]")])
def test_arguments_are_named_as_the_spec_names_them(command: str, usage: str) -> None:
    """SPEC section 7 writes `diff BASE [HEAD]` and `validate [PATH…]`; --help said `{base}`,
    then `{BASE}` (Typer's braces, read as a placeholder), `[paths]...` and a missing one was
    "Missing argument 'base'"."""
    said = " ".join(CliRunner().invoke(app, [command, "--help"]).output.split())
    assert f"Usage: funnelpact {command} [OPTIONS] {usage}" in said, said
    if command == "diff":
        assert "Missing argument 'BASE'" in " ".join(CliRunner().invoke(app, ["diff"]).output.split())


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=lambda p: f"funnelpact {p}'s usage line reads as SPEC's")
def test_a_usage_line_writes_a_required_argument_bare_and_an_optional_one_in_brackets(path: str) -> None:
    """SPEC section 7's `diff BASE [HEAD]` read `diff [OPTIONS] {BASE} [HEAD]`: Typer's braces."""
    output = CliRunner().invoke(app, [*path.split(), "--help"], env={"COLUMNS": "200"}).output
    usage = next(line for line in output.splitlines() if "Usage:" in line).split()
    expected = [(param.metavar if param.required else f"[{param.metavar}]") + ("..." if param.nargs == -1 else "")
                for param in COMMANDS[path].params if param.param_type_name == "argument"]
    assert usage[usage.index("[OPTIONS]") + 1:] == expected, " ".join(usage)


def test_diff_shows_its_revisions_as_revisions() -> None:
    """`diff --help` read `BASE <str>`: any text, though only a name git resolves is one."""
    output = CliRunner().invoke(app, ["diff", "--help"], env={"COLUMNS": "200"}).output
    rows = {match[1]: match[2] for match in re.finditer(r"│ +(?:\* +)?([A-Z]+) +(<[^>]*>)", output)}
    assert rows == {"BASE": "<revision>", "HEAD": "<revision>"}, output
