"""`python -m bench [--sizes 10k,100k,1m] [--repeats 3] [--out docs/performance.md]`

For each size: generation, the DuckDB baseline, the full run over every month, a 12-month
backfill (the CLI), the daily run after one new day; once: the fixed start-up cost (a run
over 100 contacts) and, at the largest size, the daily run over doubled history. Medians of
`--repeats` runs, one subprocess each. Writes bench/results.json and the Markdown page.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from bench import datasets
from bench.measure import REPO, spawn, worker
from bench.report import write_markdown
from bench.stats import median, parse_size, size_label

WORK = datasets.CACHE / "work"
SLA = REPO / "sla"


def env() -> dict[str, str]:
    """One warehouse path for every run, as in a deployment: dbt's parse state is per path."""
    return {"FUNNELPACT_DUCKDB_PATH": str(WORK / "warehouse.duckdb"), "FUNNELPACT_HOME": str(WORK / "home"),
            "DAGSTER_HOME": str(WORK / "home" / "dagster"), "FUNNELPACT_SLA_DIR": str(SLA)}


def fresh_warehouse() -> None:
    for suffix in ("", ".wal"):
        Path(str(WORK / "warehouse.duckdb") + suffix).unlink(missing_ok=True)
    (WORK / "home" / "alerts.sqlite").unlink(missing_ok=True)


def job_run(data: Path, first: str, last: str, as_of: str) -> dict:
    return worker({"kind": "run", "first": first, "last": last, "as_of": as_of},
                  {**env(), "FUNNELPACT_DATA_DIR": str(data)})


def summary(samples: list[dict]) -> dict:
    """Medians of the samples' wall time, peak RSS and inner phases."""
    out = {"n": len(samples), "wall": median(s["wall"] for s in samples),
           "peak_rss_kib": median(s["peak_rss_kib"] for s in samples),
           "max_process_rss_kib": median(s["maxrss_kib"] for s in samples),
           "samples": [round(s["wall"], 2) for s in samples]}
    inner = [s.get("inner", {}) for s in samples]
    steps = sorted({k for i in inner for k in i.get("steps", {})})
    if steps:
        out["phases"] = {
            "python_and_imports": median(_until_run(s) for s in samples),
            "after_the_run": median(s["wall"] - _until_run(s) - s["inner"]["run_job"] for s in samples),
            "dagster_job_start": median(i["job_start"] for i in inner),
            "job_overhead": median(i["job_overhead"] for i in inner),
            **{f"step:{k}": median(i["steps"].get(k) for i in inner) for k in steps},
            "dbt:start": median(i["dbt"].get("start") for i in inner),
            "dbt:elapsed": median(i["dbt"].get("elapsed") for i in inner),
            "dbt:models": median(i["dbt"].get("models") for i in inner),
            "dbt:tests": median(i["dbt"].get("tests") for i in inner),
        }
        out["dbt_slowest"] = inner[-1]["dbt"].get("slowest")
        # Issue 9's start-up: imports, dbt parse, Dagster job start.
        out["startup"] = median(_until_run(s) + s["inner"]["job_start"] + s["inner"]["dbt"].get("start", 0.0)
                                for s in samples)
    return out


def _until_run(sample: dict) -> float:
    """Process start to the start of run_job: the interpreter and every library's import."""
    return sample["inner"]["run_started_at"] - sample["spawned_at"]


def measure_size(label: str, contacts: int, repeats: int, log) -> dict:
    root = datasets.dataset(label, contacts)
    full = root / "full"
    result: dict = {"contacts": contacts}
    log(f"{label}: generation")
    gen = []
    for _ in range(repeats):
        out = WORK / "generated"
        shutil.rmtree(out, ignore_errors=True)
        gen.append(worker({"kind": "generate", "out": str(out), "contacts": contacts, "seed": 1,
                           "start": "2026-01-01", "end": "2026-12-31", "fmt": "parquet"}))
        shutil.rmtree(out, ignore_errors=True)
    result["generate"] = summary(gen)
    result["rows"] = gen[0]["inner"]["rows"]
    log(f"{label}: baseline")
    baseline = [worker({"kind": "baseline", "data": str(full), "sla": str(SLA), "as_of": datasets.FULL_AS_OF})
                for _ in range(repeats)]
    result["baseline"] = summary(baseline)
    log(f"{label}: full run")
    runs = []
    for _ in range(repeats):
        fresh_warehouse()
        runs.append(job_run(full, "2026-01", "2026-12", datasets.FULL_AS_OF))
    result["full_run"] = summary(runs)
    result["baseline_matches_pipeline"] = baseline_matches(baseline[0]["inner"]["rows"])
    log(f"{label}: backfill")
    cli = [str(Path(sys.executable).parent / "funnelpact"), "backfill", "--from", "2026-01", "--to", "2026-12",
           "--data", str(full), "--as-of", datasets.FULL_AS_OF, "--format", "json"]
    result["backfill"] = summary([spawn(cli, env()) for _ in range(repeats)])
    log(f"{label}: daily run")
    result["daily_run"] = daily(root, repeats)
    return result


def daily(root: Path, repeats: int) -> dict:
    """Run over history (not measured), then measure the run after the new day, each repeat
    from the same warehouse state."""
    from pipelines.agreement import load_agreements
    from pipelines.defs.partitions import month_span, months_to_judge

    as_of = datetime.fromisoformat(datasets.DAILY_AS_OF)
    first, last = month_span(months_to_judge(load_agreements(SLA), as_of))
    fresh_warehouse()
    job_run(root / "daily" / "history", first, last, (as_of.replace(day=as_of.day - 1)).isoformat())
    saved = WORK / "after-history.duckdb"
    shutil.copyfile(WORK / "warehouse.duckdb", saved)
    samples = []
    for _ in range(repeats):
        shutil.copyfile(saved, WORK / "warehouse.duckdb")
        samples.append(job_run(root / "daily" / "new", first, last, datasets.DAILY_AS_OF))
    saved.unlink()
    return {**summary(samples), "months": f"{first}..{last}"}


def baseline_matches(base: list) -> bool:
    """The baseline's volumes (rows of period, stage, volume) equal marts.funnel_volumes of
    the run just measured."""
    import duckdb

    with duckdb.connect(str(WORK / "warehouse.duckdb"), read_only=True) as con:
        pipe = con.execute("select period, stage_id, volume from marts.funnel_volumes "
                           "where volume is not null order by 1, 2").fetchall()
    return sorted(tuple(row) for row in base) == sorted((p, s, int(v)) for p, s, v in pipe)


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal"))
    import duckdb
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem / 2**20, 1),
            "python": platform.python_version(), "duckdb": duckdb.__version__,
            "load_average_at_start": os.getloadavg()[0]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k,1m", help="contacts per dataset, e.g. 10k,100k,1m")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (medians reported)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "performance.md")
    parser.add_argument("--json", type=Path, default=REPO / "bench" / "results.json")
    parser.add_argument("--no-doubled-history", action="store_true", help="skip the daily run over 2x history")
    parser.add_argument("--render", action="store_true",
                        help="measure nothing: write the Markdown from the existing --json file")
    args = parser.parse_args(argv)
    if args.render:
        write_markdown(json.loads(args.json.read_text()), args.out)
        return
    sizes = [parse_size(s) for s in args.sizes.split(",")]

    def log(msg: str) -> None:
        print(f"{datetime.now():%H:%M:%S} {msg}", file=sys.stderr, flush=True)

    WORK.mkdir(parents=True, exist_ok=True)
    results: dict = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
                     "repeats": args.repeats, "sizes": {}}
    tiny = datasets.dataset("100", 100)
    log("warm-up and start-up cost (100 contacts)")
    fresh_warehouse()
    job_run(tiny / "full", "2026-01", "2026-12", datasets.FULL_AS_OF)  # parses dbt for this warehouse
    startup = []
    for _ in range(args.repeats):
        fresh_warehouse()
        startup.append(job_run(tiny / "full", "2026-01", "2026-12", datasets.FULL_AS_OF))
    results["startup"] = summary(startup)
    for contacts in sizes:
        label = size_label(contacts)
        results["sizes"][label] = measure_size(label, contacts, args.repeats, log)
    if not args.no_doubled_history:
        largest = max(sizes)
        label = f"{size_label(2 * largest)}-2y"
        log(f"{label}: daily run over doubled history")
        root = datasets.dataset(label, 2 * largest, start=date(2025, 1, 1))
        results["doubled_history"] = {"of": size_label(largest), "contacts": 2 * largest,
                                      "daily_run": daily(root, args.repeats)}
    args.json.write_text(json.dumps(results, indent=1, default=str) + "\n")
    write_markdown(results, args.out)
    log(f"wrote {args.json} and {args.out}")


if __name__ == "__main__":
    main()
