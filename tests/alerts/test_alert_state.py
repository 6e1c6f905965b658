"""Which status changes alert, and the state that remembers them across runs."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.alerts import KpiStatus, dispatch
from pipelines.alerts.events import AlertEvent
from pipelines.alerts.holder import Holder
from pipelines.alerts.state import SCHEMA_VERSION, AlertStore, alert_kind

from .loopback import LOG, HttpRecorder, agreement, kpi


@pytest.mark.parametrize(
    ("announced", "status", "kind"),
    [
        (None, "breach", "breach"),
        (None, "at_risk", "at_risk"),
        (None, "met", None),
        (None, "provisional", None),
        (None, "no_data", None),
        ("breach", "breach", None),
        ("at_risk", "at_risk", None),
        ("at_risk", "breach", "breach"),
        ("breach", "met", "recovered"),
        ("at_risk", "met", "recovered"),
        ("breach", "provisional", None),
        ("breach", "no_data", None),
        ("met", "met", None),
        ("met", "breach", "breach"),
    ],
    ids=lambda v: str(v),
)
def test_which_changes_alert(announced: str | None, status: str, kind: str | None) -> None:
    assert alert_kind(announced, status) == kind


def test_a_month_told_day_by_day_alerts_only_on_real_news(tmp_path: Path) -> None:
    state, acme = tmp_path / "alerts.sqlite", agreement([LOG])
    days = ["provisional", "at_risk", "provisional", "at_risk", "at_risk", "breach", "no_data", "breach", "met", "met",
            "breach"]
    told = []
    for day, status in enumerate(days):
        report = dispatch([kpi(status)], [acme], state, {}, now=datetime(2026, 3, 1 + day, 6, tzinfo=UTC))
        told += [(day, a.kind) for a in report.alerts]
    # The forecast wobbling around the line (at_risk/provisional) is told once; a gap in the
    # data (no_data) does not make the same breach news again.
    assert told == [(1, "at_risk"), (5, "breach"), (8, "recovered"), (10, "breach")]


def test_a_backfill_as_of_an_earlier_instant_repeats_no_alert(tmp_path: Path) -> None:
    """A backfill reproducing what was knowable then is history: it neither alerts again nor
    rewinds the state, so the next daily run does not announce the breach a second time."""
    state, acme = tmp_path / "alerts.sqlite", agreement([LOG])
    march_20, april_10, april_11 = datetime(2026, 3, 20, 12), datetime(2026, 4, 10, 12), datetime(2026, 4, 11, 12)
    told = []
    for status, as_of in [("at_risk", march_20), ("breach", april_10), ("at_risk", march_20), ("breach", april_11)]:
        told += [a.kind for a in dispatch([kpi(status, as_of=as_of)], [acme], state, {}).alerts]
    assert told == ["at_risk", "breach"]
    with AlertStore.open(state) as store:
        assert store.get("acme", "2026-03", "volume:mql").as_of == april_11
    [breach] = [a for a in dispatch([kpi("breach", period="2026-04", as_of=april_11)], [acme], state, {}).alerts]
    assert ("As of", "2026-04-11 12:00:00 UTC") in breach.facts()
    # The same instant judged again with other figures (an agreement edited) is still news.
    assert [a.kind for a in dispatch([kpi("met", as_of=april_11)], [acme], state, {}).alerts] == ["recovered"]


def test_a_judgement_as_of_a_future_instant_neither_alerts_nor_blocks_the_real_runs(tmp_path: Path) -> None:
    """`--as-of` in the future (a typo, a what-if) judges facts dated up to then as if known.
    Recorded, its as-of made every real run until then history: no alert for months."""
    state, acme = tmp_path / "alerts.sqlite", agreement([LOG])
    now = datetime(2026, 11, 25, 6, tzinfo=UTC)
    what_if = dispatch([kpi("breach", as_of=datetime(2027, 2, 1))], [acme], state, {}, now=now)
    assert (what_if.alerts, what_if.what_if) == ([], 1)
    assert "1 judged as of a future instant, not alerted" in what_if.summary()
    with AlertStore.open(state) as store:
        assert store.get("acme", "2026-03", "volume:mql") is None
    real = dispatch([kpi("breach", as_of=datetime(2026, 11, 25, 6))], [acme], state, {}, now=now)
    assert [a.kind for a in real.alerts] == ["breach"] and real.what_if == 0


def test_a_state_file_of_an_earlier_funnelpact_gains_the_as_of_and_keeps_its_statuses(tmp_path: Path) -> None:
    path = tmp_path / "alerts.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("create table kpi_state (agreement text not null, period text not null, kpi text not null, "
                     "revision text not null, status text not null, alerted_status text, updated_at text not null, "
                     "primary key (agreement, period, kpi))")
        conn.execute("insert into kpi_state values ('acme', '2026-03', 'volume:mql', '2026-h1', 'breach', 'breach', "
                     "'2026-03-20T06:00:00')")
        conn.execute("pragma user_version = 1")
    report = dispatch([kpi("breach", as_of=datetime(2026, 3, 21, 6))], [agreement([LOG])], path, {})
    assert report.alerts == []  # the breach was announced before the upgrade
    with AlertStore.open(path) as store:
        assert store.get("acme", "2026-03", "volume:mql").as_of == datetime(2026, 3, 21, 6)


def test_an_alert_names_the_status_last_seen_not_the_last_announced(tmp_path: Path) -> None:
    # met (seen, never announced) then breach: the breach is news "met -> breach", not "new".
    state, acme = tmp_path / "alerts.sqlite", agreement([LOG])
    assert dispatch([kpi("met", actual=150)], [acme], state, {}).alerts == []
    [breach] = dispatch([kpi("breach")], [acme], state, {}).alerts
    assert (breach.previous_status, dict(breach.facts())["Status"]) == ("met", "met -> breach")


def test_each_kpi_and_month_is_deduplicated_on_its_own(tmp_path: Path) -> None:
    state, acme = tmp_path / "alerts.sqlite", agreement([LOG])
    results = [kpi("breach"), kpi("breach", period="2026-04"), kpi("breach", kpi="volume:sql", target=60, actual=20)]
    assert len(dispatch(results, [acme], state, {}).alerts) == 3
    assert dispatch(results, [acme], state, {}).alerts == []


def test_results_may_be_rows_of_run_json(tmp_path: Path) -> None:
    row = {"period": "2026-03", "kpi": "conversion:lead->mql", "owner": "marketing", "target": "0.30",
           "actual": 0.21, "status": "breach", "severity": "warn", "agreement": "acme", "revision": "2026-h1",
           "extra": "ignored"}
    report = dispatch([row], [agreement([LOG])], tmp_path / "a.sqlite", {})
    [event] = report.alerts
    assert (event.target, event.actual, event.fmt_gap()) == (0.30, 0.21, "-9.0 pp (-30.0%)")
    with pytest.raises(ValueError, match="unknown status 'late'"):
        KpiStatus.from_dict({**row, "status": "late"})


def test_a_concurrent_run_does_not_take_deliveries_another_run_has_claimed(tmp_path: Path) -> None:
    state = tmp_path / "alerts.sqlite"
    acme = agreement([{"channel": "webhook", "url_env": "NOT_SET"}])
    now = datetime(2026, 3, 10, tzinfo=UTC)
    dispatch([kpi("breach")], [acme], state, {}, now=now)
    with AlertStore.open(state) as first, AlertStore.open(state) as second:
        assert len(first.claim(now, timedelta(minutes=15))) == 1
        assert second.claim(now, timedelta(minutes=15)) == []
        # A run that died holding the claim frees it when the lease ends: at its last instant.
        assert second.claim(now + timedelta(minutes=15) - timedelta(seconds=1), timedelta(minutes=15)) == []
        assert len(second.claim(now + timedelta(minutes=15), timedelta(minutes=15))) == 1


def test_a_state_file_from_a_newer_funnelpact_is_refused_saying_what_to_do(tmp_path: Path) -> None:
    """Hosts sharing the file upgraded one at a time, or a downgrade: this was a RuntimeError,
    exit 3 ("the run failed"), as if funnelpact had a bug."""
    from pipelines.errors import InputError

    path = tmp_path / "alerts.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("pragma user_version = 99")
    with pytest.raises(InputError) as caught:
        AlertStore.open(path)
    [problem] = caught.value.problems
    assert problem.file == str(path) and problem.field == "FUNNELPACT_HOME"
    assert problem.message.startswith(f"the alert state was written by a newer funnelpact (its schema 99, this one "
                                      f"reads up to {SCHEMA_VERSION}): upgrade funnelpact here")


@pytest.mark.parametrize("damage", ["header overwritten", "cut short", "pages overwritten"])
def test_a_damaged_state_file_is_named_with_what_to_do_and_left_as_it_is(tmp_path: Path, damage: str) -> None:
    """A disk error or a copy cut short: SQLite's "file is not a database" alone (exit 3,
    `alerts: file is not a database`) named neither the file nor the way out."""
    from pipelines.errors import InputError

    state = tmp_path / "alerts.sqlite"
    acme = agreement([{"channel": "webhook", "url_env": "NOT_SET"}])
    now = datetime(2026, 3, 10, tzinfo=UTC)
    dispatch([kpi("breach", period=f"2026-{m:02d}") for m in range(1, 13)], [acme], state, {}, now=now)
    data = bytearray(state.read_bytes())
    if damage == "header overwritten":
        data[:100] = b"\xff" * 100
    elif damage == "cut short":
        data = data[: len(data) // 3]
    else:
        data[4096:] = b"\xab" * (len(data) - 4096)
    state.write_bytes(bytes(data))
    with pytest.raises(InputError) as caught:
        dispatch([kpi("met")], [acme], state, {}, now=now + timedelta(days=1))
    [problem] = caught.value.problems
    assert problem.file == str(state) and problem.field == "FUNNELPACT_HOME"
    assert "the alert state is damaged" in problem.message and "move it aside" in problem.message
    assert state.read_bytes() == bytes(data), "left for a restore or a look"


def test_a_state_file_another_process_holds_is_named_and_the_next_run_records_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sqlite3 shell or a backup holding the file's write lock past the wait: SQLite's
    "database is locked" alone (exit 3, `alerts: database is locked`) named neither the file
    nor what to do. The next run announces what this one could not record."""
    from pipelines.alerts import state as state_module
    from pipelines.errors import InputError

    monkeypatch.setattr(state_module, "LOCK_WAIT_SECONDS", 0.2)  # instead of half a minute
    state = tmp_path / "alerts.sqlite"
    acme = agreement([])
    now = datetime(2026, 3, 10, tzinfo=UTC)
    dispatch([kpi("met")], [acme], state, {}, now=now)
    holder = sqlite3.connect(state, isolation_level=None)
    holder.execute("begin exclusive")
    with pytest.raises(InputError) as caught:
        dispatch([kpi("breach")], [acme], state, {}, now=now + timedelta(days=1))
    holder.execute("rollback")
    holder.close()
    [problem] = caught.value.problems
    assert problem.file == str(state) and problem.field == "FUNNELPACT_HOME"
    assert "the alert state is in use by another process" in problem.message
    assert len(dispatch([kpi("breach")], [acme], state, {}, now=now + timedelta(days=1)).alerts) == 1


READ_ONLY_DISPATCH = """
import sys
from datetime import UTC, datetime
from pipelines.alerts import dispatch
from pipelines.errors import InputError
from tests.alerts.loopback import agreement, kpi
try:
    dispatch([kpi("breach")], [agreement([])], sys.argv[1], {}, now=datetime(2026, 3, 11, tzinfo=UTC))
except InputError as exc:
    print("InputError", *exc.problems, sep="\\n")
"""


def test_a_state_file_the_run_may_not_write_is_named_by_its_setting(tmp_path: Path, without_root_override) -> None:
    """Its mode, or a read-only copy of the home: `alerts: attempt to write a readonly
    database` (exit 3) named neither the file nor the setting."""
    state = tmp_path / "alerts.sqlite"
    dispatch([kpi("met")], [agreement([])], state, {}, now=datetime(2026, 3, 10, tzinfo=UTC))
    before = state.read_bytes()
    state.chmod(0o444)
    done = without_root_override(READ_ONLY_DISPATCH, str(state))
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines()[:2] == [
        "InputError", f"{state} FUNNELPACT_HOME: cannot write the alert state (attempt to write a readonly database); "
        "expected a file funnelpact can write, or set FUNNELPACT_HOME to another folder"], done.stdout
    assert state.read_bytes() == before


def test_decimal_numbers_from_the_planner_are_accepted(tmp_path: Path) -> None:
    result = KpiStatus("acme", "2026-h1", "2026-03", "volume:mql", "shared", Decimal("150"), Decimal("120.5"),
                       "breach", "fail")
    [event] = dispatch([result], [agreement([LOG])], tmp_path / "a.sqlite", {}).alerts
    # 120.5 reads 121 on its own, and 121 - 150 is not the gap, -29.5: the gap takes cents, as the figures do.
    assert (event.target, event.actual, event.fmt_gap()) == (150.0, 120.5, "-29.50 (-19.7%)")


def test_a_result_of_an_unknown_agreement_is_logged_and_reported(tmp_path: Path) -> None:
    result = kpi("breach", revision="2099-h1", period="2099-01")
    report = dispatch([result], [agreement([LOG])], tmp_path / "a.sqlite", {})
    [event] = report.alerts
    assert report.unrouted == [event.alert_id] and report.channels["log"].sent == 1
    assert event.owners == () and event.owner_label() == "shared"


def test_a_result_of_a_revision_no_longer_in_sla_goes_to_the_revision_in_force_for_its_month(tmp_path: Path) -> None:
    # SPEC section 6: alerts go to the channels of the revision in force (here its label was renamed).
    result = kpi("breach", kpi="revenue", owner="sales", revision="2026-h1-draft")
    report = dispatch([result], [agreement([LOG])], tmp_path / "a.sqlite", {})
    [event] = report.alerts
    assert report.unrouted == []
    assert event.owner_label() == "sales (Joao Lima <joao@acme.example>)" and event.currency == "USD"


def test_an_at_risk_alert_shows_the_pace_forecast_it_was_judged_on(tmp_path: Path) -> None:
    [event] = dispatch([kpi("at_risk", actual=40, forecast=124)], [agreement([LOG])], tmp_path / "a.sqlite", {}).alerts
    facts = dict(event.facts())
    assert (facts["Actual"], facts["Forecast"]) == ("40", "124 at the month's pace")
    assert event.to_dict()["forecast"] == 124


def test_a_forecast_says_how_much_of_the_month_it_stands_on(tmp_path: Path) -> None:
    # 06:00 on March 1st in Mexico City (12:00 UTC): a quarter of a day, most of it night. A
    # daily tick raised at_risk alerts from such forecasts on every 1st, and nothing said so.
    first_morning = datetime(2026, 3, 1, 12)
    [event] = dispatch([kpi("at_risk", actual=4, forecast=124, as_of=first_morning)], [agreement([LOG])],
                       tmp_path / "a.sqlite", {}).alerts
    assert dict(event.facts())["Forecast"] == "124 at the month's pace (0.25 of 31 days elapsed)"
    assert (event.to_dict()["days_elapsed"], event.to_dict()["days_in_month"]) == (0.25, 31)
    with AlertStore.open(tmp_path / "a.sqlite") as store:  # as kept for the outbox's retries
        [(stored,)] = store.conn.execute("select event from alerts").fetchall()
    assert AlertEvent.from_dict(json.loads(stored)).fmt_forecast() == dict(event.facts())["Forecast"]


def test_an_at_risk_waits_for_the_agreed_days_of_its_month(tmp_path: Path) -> None:
    """`at_risk_after_days: 3`: the 06:00 forecasts of the 1st to the 3rd (Mexico City) are seen,
    not announced; the 4th announces what is still at risk, and a KPI that recovered first
    was never news. A breach, and a KPI with its own 0, are announced at once."""
    state = tmp_path / "alerts.sqlite"
    acme = agreement([LOG], kpis={"default": {"at_risk_after_days": 3}, "revenue": {"at_risk_after_days": 0}})
    told = []
    for day, statuses in enumerate([("at_risk", "at_risk", "at_risk"), ("at_risk", "met", "at_risk"),
                                    ("at_risk", "met", "at_risk"), ("at_risk", "met", "at_risk")], start=1):
        as_of = datetime(2026, 3, day, 12)  # 06:00 local
        results = [kpi(statuses[0], as_of=as_of), kpi(statuses[1], kpi="volume:sql", as_of=as_of),
                   kpi(statuses[2], kpi="revenue", as_of=as_of),
                   kpi("breach", kpi="volume:lead", period="2026-02", as_of=as_of)]
        told += [(day, a.kpi, a.kind) for a in dispatch(results, [acme], state, {}, now=as_of.replace(tzinfo=UTC)).alerts]
    assert told == [(1, "revenue", "at_risk"), (1, "volume:lead", "breach"), (4, "volume:mql", "at_risk")]
    with AlertStore.open(state) as store:  # held back: seen, not announced
        assert (store.get("acme", "2026-03", "volume:sql").status, store.get("acme", "2026-03", "volume:sql").alerted_status) == ("met", None)


def test_the_wait_counts_local_days_and_is_looked_up_like_the_tolerance(tmp_path: Path) -> None:
    # 3 days elapse at local midnight on the 4th: 06:00 UTC in Mexico City (UTC-6), not 00:00 UTC.
    acme = agreement([LOG], kpis={"volume": {"at_risk_after_days": 3}, "volume:sql": {"tolerance": 0.1}})
    before, after = datetime(2026, 3, 4, 5, 59, 59), datetime(2026, 3, 4, 6)
    told = [a.kpi for at in (before, after)
            for a in dispatch([kpi("at_risk", as_of=at), kpi("at_risk", kpi="volume:sql", as_of=at),
                               kpi("at_risk", kpi="conversion:lead->mql", as_of=at)],
                              [acme], tmp_path / "a.sqlite", {}, now=at.replace(tzinfo=UTC)).alerts]
    assert told == ["conversion:lead->mql", "volume:mql", "volume:sql"]


def test_a_row_without_an_as_of_keeps_the_recorded_one_and_aware_instants_compare(tmp_path: Path) -> None:
    state, acme = tmp_path / "alerts.sqlite", agreement([LOG])
    april_10 = datetime(2026, 4, 10, 12, tzinfo=UTC)  # aware, as a caller may build it
    assert [a.kind for a in dispatch([kpi("breach", as_of=april_10)], [acme], state, {}).alerts] == ["breach"]
    dispatch([kpi("breach")], [acme], state, {})  # e.g. a row of `run --format json`: no as-of
    with AlertStore.open(state) as store:
        assert store.get("acme", "2026-03", "volume:mql").as_of == datetime(2026, 4, 10, 12)
    # Naive (from the warehouse) against the aware one recorded: compared, and history.
    assert dispatch([kpi("at_risk", as_of=datetime(2026, 3, 20, 12))], [acme], state, {}).alerts == []


def test_a_half_migrated_state_file_opens(tmp_path: Path) -> None:
    path = tmp_path / "alerts.sqlite"
    with AlertStore.open(path):
        pass
    with sqlite3.connect(path) as conn:  # the column added, the version not yet written
        conn.execute("pragma user_version = 1")
    with AlertStore.open(path) as store:
        assert store.conn.execute("pragma user_version").fetchone()[0] == SCHEMA_VERSION


def test_an_at_risk_held_back_is_announced_as_new_not_as_unchanged(tmp_path: Path) -> None:
    # Seen at_risk on the 1st to the 3rd, announced on the 4th: its Status read
    # "at_risk -> at_risk", as if nothing had changed.
    acme = agreement([LOG], kpis={"default": {"at_risk_after_days": 3}})
    told = [a for day in (1, 2, 3, 4)
            for a in dispatch([kpi("at_risk", as_of=datetime(2026, 3, day, 12))], [acme], tmp_path / "a.sqlite", {},
                              now=datetime(2026, 3, day, 12, tzinfo=UTC)).alerts]
    assert [(a.kind, dict(a.facts())["Status"]) for a in told] == [("at_risk", "new -> at_risk")]


# -- claims: a run killed while it delivers --------------------------------------------------------

# A run of its own: one breach dispatched to the webhook at argv[2], state in argv[1]; its report as JSON.
RUN = """
import json, sys
from pipelines.alerts import dispatch
from tests.alerts.loopback import FAST, WEBHOOK, agreement, kpi
report = dispatch([kpi("breach")], [agreement([WEBHOOK])], sys.argv[1], {"TEST_ALERT_WEBHOOK": sys.argv[2]},
                  retry=FAST)
print(json.dumps(report.to_dict()))
"""
ROOT = Path(__file__).resolve().parents[2]


def run(state: Path, url: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", RUN, str(state), url], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def finished(process: subprocess.Popen[str]) -> dict:  # type: ignore[type-arg]
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.splitlines()[-1])["channels"]["webhook:TEST_ALERT_WEBHOOK"]


@contextmanager
def a_run_stuck_sending(state: Path, http: HttpRecorder) -> Iterator[subprocess.Popen[str]]:
    """A run of its own that has claimed the breach and waits for the receiver's answer, which
    does not come: killed at the end if it is still there."""
    answer = threading.Event()
    http.status, http.answer = 500, lambda handler: answer.wait(30) and "slow"
    stuck = run(state, http.url())
    try:
        deadline = time.monotonic() + 120
        while not http.posts:
            assert stuck.poll() is None and time.monotonic() < deadline, stuck.communicate()
            time.sleep(0.02)
        yield stuck
    finally:
        if stuck.poll() is None:
            stuck.kill()
        stuck.communicate()
        answer.set()


@pytest.mark.parametrize("reaped", [True, False], ids=["reaped", "zombie"])
def test_the_claims_of_a_run_killed_with_sigkill_are_taken_over_at_once_by_the_next_run_on_the_host(
    reaped: bool, tmp_path: Path, http: HttpRecorder
) -> None:
    """A run the OOM killer ends cannot give its claims back: the run started right after it sent
    none of them for 15 minutes ("kept for the next run"), and they waited for the next day's run.
    Its parent (a Dagster run worker) may not have reaped it yet: a zombie under its pid has ended too."""
    state = tmp_path / "alerts.sqlite"
    with a_run_stuck_sending(state, http) as stuck:
        stuck.send_signal(signal.SIGKILL)
        if reaped:
            stuck.wait()
        else:
            stat = Path(f"/proc/{stuck.pid}/stat")
            while stat.read_text().rpartition(")")[2].split()[0] != "Z":
                time.sleep(0.01)
        http.status = 200
        again = finished(run(state, http.url()))
    assert (again["sent"], again["pending"]) == (1, 0)
    assert len(http.posts) == 2  # the one under way when the run was killed arrived too: it may come twice
    with AlertStore.open(state) as store:
        [item] = store.outbox()
    assert item["state"] == "sent"


def test_the_claims_of_a_run_still_sending_are_left_to_it(tmp_path: Path, http: HttpRecorder) -> None:
    state = tmp_path / "alerts.sqlite"
    with a_run_stuck_sending(state, http) as stuck:
        beside = finished(run(state, http.url()))
        assert stuck.poll() is None
    assert (beside["sent"], beside["pending"]) == (0, 1) and len(http.posts) == 1


def claimed(state: Path, **holder: object) -> None:
    """The state's one pending item claimed, its lease running 15 minutes from now, by `holder`."""
    until = (datetime.now(UTC) + timedelta(minutes=15)).isoformat(timespec="seconds")
    with sqlite3.connect(state) as conn:
        conn.execute("update outbox set claimed_until = ?, claimed_host = ?, claimed_pid = ?, claimed_start = ?",
                     (until, holder.get("host"), holder.get("pid"), holder.get("start")))


def ended_process() -> int:
    """The pid of a process that has ended and been reaped."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_claim_whose_holder_cannot_be_judged_keeps_its_lease_and_a_reused_pid_is_no_holder(
    tmp_path: Path
) -> None:
    """Another host's process (a shared disk), another boot's or container's, or a claim written
    by an earlier funnelpact (no holder) may still run: only its lease ends it. A pid that runs
    another process than the holder (its start differs) is the holder's no more."""
    state, acme = tmp_path / "alerts.sqlite", agreement([{"channel": "webhook", "url_env": "NOT_SET"}])
    dispatch([kpi("breach")], [acme], state, {})
    here = Holder.this_process()
    assert here.start is not None, "Linux's /proc"
    where, _, ticks = here.start.rpartition(" ")
    cases = {
        "another host": ({"host": "another-host", "pid": ended_process(), "start": here.start}, False),
        "an earlier funnelpact": ({}, False),
        "another boot": ({"host": here.host, "pid": ended_process(), "start": f"other-boot {ticks}"}, False),
        "ended here": ({"host": here.host, "pid": ended_process(), "start": here.start}, True),
        "pid reused": ({"host": here.host, "pid": here.pid, "start": f"{where} 1"}, True),
        "this very process": ({"host": here.host, "pid": here.pid, "start": here.start}, False),
    }
    for case, (holder, taken) in cases.items():
        claimed(state, **holder)
        with AlertStore.open(state) as store:
            assert len(store.claim(datetime.now(UTC), timedelta(minutes=15))) == taken, case


def test_a_claim_of_an_earlier_funnelpact_keeps_its_lease_after_the_upgrade(tmp_path: Path) -> None:
    """A state file of schema 2: the outbox has no holder columns."""
    state = tmp_path / "alerts.sqlite"
    dispatch([kpi("breach")], [agreement([{"channel": "webhook", "url_env": "NOT_SET"}])], state, {})
    now = datetime.now(UTC)
    with sqlite3.connect(state) as conn:
        for column in ("claimed_host", "claimed_pid", "claimed_start"):
            conn.execute(f"alter table outbox drop column {column}")
        conn.execute("update outbox set claimed_until = ?", ((now + timedelta(minutes=15)).isoformat(timespec="seconds"),))
        conn.execute("pragma user_version = 2")
    with AlertStore.open(state) as store:
        assert store.conn.execute("pragma user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.claim(now, timedelta(minutes=15)) == []
        assert len(store.claim(now + timedelta(minutes=15), timedelta(minutes=15))) == 1
        [item] = store.outbox()
    assert (item["claimed_host"], item["claimed_pid"]) == (Holder.this_process().host, os.getpid())
