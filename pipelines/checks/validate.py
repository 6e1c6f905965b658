"""Run the generated suites against `marts.scorecard` and turn GX's results into statuses.

Whether a figure meets its target is decided by GX alone (the expectations of
`pipelines.checks.compile`); this module only says *which* figure a verdict is about:

- `no_data`     the KPI has no figure: an input table was absent, or a final zero denominator;
- `at_risk`     the month is open and its pace forecast fails the expectation;
- `provisional` the figure can still change, or still come (open month, immature cohort) -
                never a breach -
                or the KPI has no target and is only reported (`judged` is then False);
- `met`/`breach` the final figure passes/fails its expectation.

Batches (all pandas, in memory, offline):
- judgement: one row per revision, a column `<period> <kpi>` per actual - no row filters;
- forecast:  the same shape, holding the pace forecasts of the open months;
- scorecard: the revision's scorecard rows, for the data-quality suite (keys, quarantine
  rate, no future-dated facts).
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.agreement.model import Agreement
from pipelines.agreement.months import MONTH_FORMAT, is_month, naive_utc
from pipelines.checks.compile import agreement_suites, kpi_column, suite_file
from pipelines.errors import InputError, Problem
from pipelines.warehouse.connection import warehouse_tables

if TYPE_CHECKING:
    import duckdb
    import pandas as pd


# Fact marts with event timestamps: none may be after the as-of instant (data-quality suite).
FACT_TIMESTAMPS = {
    "marts.mql_handoffs": ("mql_entered_at", "first_touch_at", "decided_at"),
}


@dataclass(frozen=True)
class KpiResult:
    agreement: str
    revision: str
    period: str
    kpi: str
    owner: str
    target: float | None
    actual: float | None
    forecast: float | None
    status: str
    severity: str
    tolerance: float | None
    direction: str
    threshold: float | None  # the expectation's bound: target x (1 -/+ tolerance)
    is_final: bool
    judged: bool  # False: no target, the KPI is only reported
    suite: str | None
    expectation_id: str | None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class CheckFailure:
    """A failed data-quality check of the scorecard itself (not a KPI)."""

    agreement: str
    revision: str
    check: str
    description: str
    suite: str
    expectation_id: str
    observed: Any = None


@dataclass
class CheckRun:
    as_of: datetime
    results: list[KpiResult]
    failed_checks: list[CheckFailure]
    validations: list[Any] = field(default_factory=list)  # GX ExpectationSuiteValidationResult
    seconds: float = 0.0
    expectations_evaluated: int = 0


class ScorecardError(Exception):
    """The scorecard cannot be judged: duplicate keys, future-dated facts, or targets that
    do not match the suites (the warehouse was built from other agreements)."""


def exit_code(results: Iterable[KpiResult | Mapping[str, Any]]) -> int:
    """1 when a `fail`-severity KPI is in breach (SPEC section 7), else 0. `warn` never fails;
    provisional and at_risk are not breaches. Takes fresh results or stored judgement rows."""
    rows = (r if isinstance(r, Mapping) else r.to_dict() for r in results)
    return int(any(r["status"] == "breach" and r["severity"] == "fail" for r in rows))


def status_of(*, has_data: bool, actual: float | None, is_final: bool, judged: bool,
              actual_passed: bool | None, forecast_passed: bool | None) -> str:
    """SPEC section 4 from GX's verdicts on the actual and on the forecast (None: not run)."""
    if not has_data:
        return "no_data"
    if actual is None:
        # Nobody to divide by yet (no MQLs so far, every hand-off pending): while the figure
        # can still come it is provisional (SPEC section 4), not the absent data of no_data.
        return "provisional" if not is_final else "no_data"
    if not judged:
        return "provisional"
    if not is_final:
        return "at_risk" if forecast_passed is False else "provisional"
    if actual_passed is None:
        raise ScorecardError("a final, judged KPI was not validated")  # guarded by callers
    return "met" if actual_passed else "breach"


def judge(
    con_or_db_path: duckdb.DuckDBPyConnection | str | Path,
    agreements: list[Agreement],
    periods: list[str] | None = None,
    as_of: datetime | str | None = None,
    *,
    suites_dir: Path | None = None,
) -> list[KpiResult]:
    """The statuses of every KPI of `agreements` in `periods` (default: every month in the
    scorecard). Raises ScorecardError when the scorecard's own checks fail."""
    run = run_checks(con_or_db_path, agreements, periods, as_of, suites_dir=suites_dir)
    if run.failed_checks:
        raise ScorecardError(
            "marts.scorecard failed its data-quality checks: "
            + "; ".join(f"{f.agreement} {f.revision} {f.check} ({f.description})" for f in run.failed_checks)
        )
    return run.results


def run_checks(
    con_or_db_path: duckdb.DuckDBPyConnection | str | Path,
    agreements: list[Agreement],
    periods: list[str] | None = None,
    as_of: datetime | str | None = None,
    *,
    suites_dir: Path | None = None,
) -> CheckRun:
    """Like `judge`, but also returns the failed scorecard checks and GX's raw results
    (for data docs) instead of raising."""
    started = time.perf_counter()
    bad = [p for p in periods or [] if not is_month(p)]
    if bad:
        raise InputError(Problem(f"{', '.join(map(repr, bad))}: expected months as {MONTH_FORMAT}", field="periods"))
    scorecard, facts = _read_warehouse(con_or_db_path)
    instant = _as_of(as_of, scorecard)
    wanted = set(periods) if periods is not None else None

    from pipelines.checks.context import ephemeral_context

    runner = _Runner(ephemeral_context())
    results: list[KpiResult] = []
    failed: list[CheckFailure] = []
    for a in agreements:
        rows = scorecard[(scorecard["agreement"] == a.name) & (scorecard["revision"] == a.revision)]
        if wanted is not None:
            rows = rows[rows["period"].isin(wanted)]
        if rows.empty:
            continue
        suites = _suites(a, suites_dir)
        r, f = _judge_revision(runner, a, rows, suites, instant, facts.get((a.name, a.revision)))
        results += r
        failed += f
    results.sort(key=lambda r: (r.agreement, r.period, r.revision, r.kpi))
    return CheckRun(
        as_of=instant, results=results, failed_checks=failed, validations=runner.validations,
        seconds=time.perf_counter() - started, expectations_evaluated=runner.evaluated,
    )


# -- reading the warehouse ---------------------------------------------------------------

def _read_warehouse(con_or_db_path) -> tuple[pd.DataFrame, dict[tuple[str, str], datetime]]:
    if isinstance(con_or_db_path, (str, Path)):
        path = Path(con_or_db_path)
        if not path.exists():
            raise InputError(Problem("no warehouse here: expected the DuckDB file a pipeline run writes (run one first)",
                                     file=str(path)))
        from pipelines.warehouse.connection import connect

        # connect: a damaged or locked warehouse is its message naming the file (exit 2), not a bug.
        with connect(path, read_only=True) as con:
            return _read(con)
    return _read(con_or_db_path)


def _read(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, dict[tuple[str, str], datetime]]:
    tables = warehouse_tables(con)
    if ("marts", "scorecard") not in tables:
        raise InputError(Problem("the warehouse has no marts.scorecard: expected the tables the dbt models build "
                                 "(run them first)"))
    scorecard = con.execute("select * from marts.scorecard").df()
    facts: dict[tuple[str, str], datetime] = {}
    for table, columns in FACT_TIMESTAMPS.items():
        if tuple(table.split(".")) not in tables:
            continue
        maxima = ", ".join(f"max({c})" for c in columns)
        for agreement, revision, *values in con.execute(
            f"select agreement, revision, {maxima} from {table} group by all"
        ).fetchall():
            present = [v for v in values if v is not None]
            if present:
                key = (agreement, revision)
                facts[key] = max([*present, *([facts[key]] if key in facts else [])])
    return scorecard, facts


def _as_of(as_of: datetime | str | None, scorecard: pd.DataFrame) -> datetime:
    """Naive UTC, like every timestamp in the warehouse."""
    if as_of is None and "as_of" in scorecard.columns and scorecard["as_of"].notna().any():
        as_of = scorecard["as_of"].max().to_pydatetime()
    return naive_utc(as_of if as_of is not None else datetime.now(UTC))


def _suites(a: Agreement, suites_dir: Path | None) -> dict[str, dict]:
    """The revision's suites: compiled in memory (the same function that writes
    expectations/), or read from a GX project folder."""
    compiled = agreement_suites(a)
    if suites_dir is None:
        return {s["meta"]["family"]: s for s in compiled}
    out = {}
    for s in compiled:
        path = suites_dir / suite_file(s)
        if not path.exists():
            raise InputError(Problem(f"suite {s['name']} is missing: expected the suites `funnelpact compile` "
                                     "writes (run it first)", file=str(path)))
        try:
            out[s["meta"]["family"]] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:  # ValueError: not JSON, or not UTF-8
            raise InputError(Problem(f"suite {s['name']} cannot be read ({exc}): expected the JSON `funnelpact "
                                     "compile` writes (run it again)", file=str(path))) from None
    return out


# -- running GX ----------------------------------------------------------------------------

class _Runner:
    """One ephemeral context, three dataframe assets; validations kept for data docs."""

    def __init__(self, context):
        self.context = context
        source = context.data_sources.add_pandas("funnelpact")
        self.batch_definitions = {
            name: source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
            for name in ("judgement", "forecast", "scorecard")
        }
        # The batch of each asset's latest dataframe: GX hashes every column of a dataframe
        # each time it loads one, and a revision's judgement batch serves up to four suites.
        self.batches: dict[str, tuple[pd.DataFrame, Any]] = {}
        self.validations: list[Any] = []
        self.evaluated = 0

    def batch(self, asset: str, df: pd.DataFrame):
        if asset not in self.batches or self.batches[asset][0] is not df:
            self.batches[asset] = (df, self.batch_definitions[asset].get_batch(batch_parameters={"dataframe": df}))
        return self.batches[asset][1]

    def validate(self, asset: str, df: pd.DataFrame, suite: dict, expectations: list[dict]):
        from pipelines.checks.context import gx

        if not expectations:
            return []
        # GX never reads an expectation's meta to decide, yet rebuilds each expectation's
        # configuration ~70 times in a validation, checking each time that the meta is JSON:
        # our ten keys took up to a third of the time (docs/performance.md). GX gets the rest
        # of each expectation; its results get the meta back by id (for data docs and for us).
        # One without an id, or with the id of another (a hand-edited suite's; a copied check
        # keeps the copy's), keeps its meta: it could not be given back to it alone.
        ids = Counter(e.get("id") for e in expectations)
        meta = {e["id"]: e["meta"] for e in expectations if e.get("id") and ids[e["id"]] == 1 and "meta" in e}
        subset = gx().ExpectationSuite(
            name=suite["name"], expectations=[{k: v for k, v in e.items() if k != "meta" or e.get("id") not in meta}
                                              for e in expectations],
            meta=suite.get("meta", {}),
        )
        validation = self.batch(asset, df).validate(subset, result_format="BASIC")
        for r in validation.results:
            if r.expectation_config.id in meta:
                r.expectation_config.meta = meta[r.expectation_config.id]
        self.validations.append(validation)
        self.evaluated += len(expectations)
        for r in validation.results:
            if r.exception_info and r.exception_info.get("raised_exception"):
                raise ScorecardError(
                    f"{suite['name']}: expectation {r.expectation_config.id} raised "
                    f"{r.exception_info.get('exception_message')}"
                )
        return validation.results


def _is_true(value) -> bool:
    try:
        return bool(value) and not (isinstance(value, float) and math.isnan(value))
    except TypeError:  # pd.NA
        return False


def _number(value) -> float | None:
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _judge_revision(runner: _Runner, a: Agreement, rows: pd.DataFrame, suites: dict[str, dict],
                    as_of: datetime, latest_fact_at: datetime | None):
    import pandas as pd

    records = rows.to_dict("records")
    by_key = {(r["period"], r["kpi"]): r for r in records}
    actual_cols = {
        kpi_column(r["period"], r["kpi"]): _number(r["actual"])
        for r in records if _is_true(r["has_data"]) and _number(r["actual"]) is not None
    }
    forecast_cols = {
        kpi_column(r["period"], r["kpi"]): _number(r["forecast"])
        for r in records
        if not _is_true(r["is_final"]) and _number(r.get("forecast")) is not None
    }

    # Which expectation judges each (period, kpi), and the scorecard/suite agreement on targets.
    expectation_of: dict[tuple[str, str], tuple[str, dict]] = {}
    for family, suite in suites.items():
        for e in suite["expectations"]:
            m = e["meta"]
            if m.get("kpi") is not None:
                expectation_of[(m["period"], m["kpi"])] = (suite["name"], e)
    _check_targets(a, by_key, expectation_of)

    actual_passed: dict[tuple[str, str], bool] = {}
    forecast_passed: dict[tuple[str, str], bool] = {}

    judgement = pd.DataFrame({c: [v] for c, v in sorted(actual_cols.items())})
    forecast = pd.DataFrame({c: [v] for c, v in sorted(forecast_cols.items())})
    for family, suite in suites.items():
        if family == "data_quality":
            continue
        exps = suite["expectations"]
        for res in runner.validate("judgement", judgement, suite,
                                   [e for e in exps if e["kwargs"]["column"] in actual_cols]):
            m = res.expectation_config.meta
            actual_passed[(m["period"], m["kpi"])] = bool(res.success)
        for res in runner.validate("forecast", forecast, suite,
                                   [e for e in exps if e["kwargs"]["column"] in forecast_cols]):
            m = res.expectation_config.meta
            forecast_passed[(m["period"], m["kpi"])] = bool(res.success)

    dq_passed, failed = _check_scorecard(runner, a, rows, suites["data_quality"], as_of, latest_fact_at)
    actual_passed.update(dq_passed)

    results = []
    for r in records:
        key = (r["period"], r["kpi"])
        suite_name, e = expectation_of.get(key, (None, None))
        judged = e is not None
        has_data = _is_true(r["has_data"])
        actual = _number(r["actual"]) if has_data else None
        is_final = _is_true(r["is_final"])
        meta = e["meta"] if e else {}
        bound = (e["kwargs"].get("min_value", e["kwargs"].get("max_value")) if e else None)
        results.append(KpiResult(
            agreement=a.name, revision=a.revision, period=r["period"], kpi=r["kpi"],
            owner=meta.get("owner") or r["owner"],
            target=_number(meta.get("target")) if judged else _number(r["target"]),
            actual=actual,
            forecast=_number(r.get("forecast")),
            status=status_of(
                has_data=has_data, actual=actual, is_final=is_final, judged=judged,
                actual_passed=actual_passed.get(key), forecast_passed=forecast_passed.get(key),
            ),
            severity=meta.get("severity") or r["severity"],
            tolerance=_number(meta.get("tolerance")) if judged else _number(r["tolerance"]),
            direction=meta.get("direction") or r["direction"],
            threshold=_number(bound),
            is_final=is_final,
            judged=judged,
            suite=suite_name,
            expectation_id=e["id"] if e else None,
        ))
    return results, failed


def _check_scorecard(runner: _Runner, a: Agreement, rows: pd.DataFrame, dq: dict, as_of: datetime,
                     latest_fact_at: datetime | None) -> tuple[dict[tuple[str, str], bool], list[CheckFailure]]:
    """The data_quality suite on the revision's scorecard rows: the verdicts of its per-KPI
    expectations (on the rows with a figure), and the checks of the table itself that failed."""
    import pandas as pd

    table = rows.copy()
    table["as_of"] = pd.Timestamp(as_of)
    table["latest_fact_at"] = pd.Timestamp(latest_fact_at) if latest_fact_at is not None else pd.NaT
    judged_rows = {
        (r["period"], r["kpi"]) for r in rows.to_dict("records")
        if _is_true(r["has_data"]) and _number(r["actual"]) is not None
    }
    expectations = [
        e for e in dq["expectations"]
        if e["meta"].get("kpi") is None or (e["meta"]["period"], e["meta"]["kpi"]) in judged_rows
    ]
    passed: dict[tuple[str, str], bool] = {}
    failed: list[CheckFailure] = []
    for res in runner.validate("scorecard", table, dq, expectations):
        e = res.expectation_config
        m = e.meta
        if m.get("kpi") is not None:
            passed[(m["period"], m["kpi"])] = bool(res.success)
        elif not res.success:
            failed.append(CheckFailure(
                a.name, a.revision, m["check"], e.description or m["check"], dq["name"], e.id,
                res.result.get("partial_unexpected_list") or res.result.get("observed_value"),
            ))
    return passed, failed


def _check_targets(a: Agreement, rows: dict, expectation_of: dict) -> None:
    """The scorecard's targets come from the warehouse's copy of the agreement; they must
    be the ones the suites assert, or the verdicts would be about another agreement."""
    problems = []
    for key, r in sorted(rows.items()):
        e = expectation_of.get(key)
        mart = _number(r["target"])
        suite = _number(e[1]["meta"]["target"]) if e else None
        if (mart is None) != (suite is None) or (
            mart is not None and not math.isclose(mart, suite, rel_tol=1e-9, abs_tol=1e-12)
        ):
            problems.append(f"{key[0]} {key[1]}: scorecard target {mart}, suite target {suite}")
    if problems:
        raise ScorecardError(
            f"marts.scorecard does not hold the targets of {a.name} {a.revision} "
            f"(the warehouse was built from other agreements; re-run the pipeline): "
            + "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        )
