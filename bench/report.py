"""bench/results.json -> the Markdown of docs/performance.md (figures only; the analysis
around them lives in the page's hand-written part, kept between the markers)."""

from __future__ import annotations

from pathlib import Path

from bench.stats import fmt_change, fmt_mib, fmt_ratio, fmt_seconds, markdown_table, ratio

BEGIN, END = "<!-- bench:begin (python -m bench writes this part) -->", "<!-- bench:end -->"
GIB_KIB = 2**20


def figures(results: dict) -> str:
    m = results["machine"]
    fixed = results["startup"]["wall"]
    parts = [f"Measured {results['date']} on {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB "
             f"(shared; load average {m['load_average_at_start']:.1f} at start), Python {m['python']}, "
             f"DuckDB {m['duckdb']}. Medians of {results['repeats']} runs, one process each; "
             f"peak RSS is the whole process tree.", ""]
    rows = []
    for label, r in results["sizes"].items():
        full, base = r["full_run"]["wall"], r["baseline"]["wall"]
        rows.append([label, f"{r['rows']['lifecycle_events']:,}", fmt_seconds(r["generate"]["wall"]),
                     fmt_seconds(base), fmt_seconds(full), fmt_seconds(r["backfill"]["wall"]),
                     fmt_seconds(r["daily_run"]["wall"]), fmt_mib(r["full_run"]["peak_rss_kib"]),
                     fmt_mib(r["daily_run"]["peak_rss_kib"]), fmt_ratio(ratio(full, base)),
                     fmt_ratio(ratio(full - fixed, base)) if full > fixed else "≤ 0", fmt_ratio(ratio(r["backfill"]["wall"], full)),
                     "yes" if r["baseline_matches_pipeline"] else "**no**"])
    parts.append(markdown_table(
        ["contacts", "events", "generation", "baseline", "full run", "backfill 12 months", "daily run",
         "peak RSS full", "peak RSS daily", "full ÷ baseline", "(full − fixed cost) ÷ baseline",
         "backfill ÷ full", "baseline = funnel_volumes"], rows))
    parts += ["", f"Start-up (imports, Dagster job start, dbt's start; a run over 100 contacts): "
              f"**{fmt_seconds(results['startup'].get('startup'))}**. Fixed cost of a run (the whole run "
              f"over 100 contacts): **{fmt_seconds(fixed)}**, peak RSS {fmt_mib(results['startup']['peak_rss_kib'])}.", ""]
    doubled = results.get("doubled_history")
    if doubled:
        base_daily = results["sizes"][doubled["of"]]["daily_run"]["wall"]
        twice = doubled["daily_run"]["wall"]
        parts += [f"Daily run over doubled history ({doubled['contacts']:,} contacts over 2025–2026, "
                  f"the same new day): **{fmt_seconds(twice)}** against {fmt_seconds(base_daily)}, "
                  f"{fmt_change(ratio(twice, base_daily) - 1)}.", ""]
    parts += ["### Where the time goes (medians, seconds)", ""]
    largest = list(results["sizes"])[-1]
    columns = [("run over 100 contacts", results["startup"])]
    columns += [(f"full run {largest}", results["sizes"][largest]["full_run"]),
                (f"daily run {largest}", results["sizes"][largest]["daily_run"])]
    phases = list(dict.fromkeys(k for _, c in columns for k in c.get("phases", {})))
    parts.append(markdown_table(["phase", *(n for n, _ in columns)],
                                [[p, *(fmt_seconds(c.get("phases", {}).get(p)) for _, c in columns)] for p in phases]))
    slow = results["sizes"][largest]["full_run"].get("dbt_slowest") or {}
    parts += ["", "Slowest dbt nodes, full run " + largest + ": " +
              ", ".join(f"`{k}` {v:.2f} s" for k, v in slow.items()) + ".", ""]
    parts += ["### Against the targets of issue 9", "", targets(results)]
    return "\n".join(parts)


def targets(results: dict) -> str:
    one = results["sizes"].get("1m")
    if one is None:
        return "(the targets are stated at 1M contacts; run with `--sizes ...,1m`)"
    startup, fixed = results["startup"].get("startup") or 0.0, results["startup"]["wall"]
    daily, full, base = one["daily_run"], one["full_run"]["wall"], one["baseline"]["wall"]
    rows = [
        ["daily run ≤ 30 s", fmt_seconds(daily["wall"]), daily["wall"] <= 30],
        ["daily run peak RSS ≤ 2 GiB", fmt_mib(daily["peak_rss_kib"]), daily["peak_rss_kib"] <= 2 * GIB_KIB],
        ["full run ≤ 3 × baseline + start-up",
         f"{fmt_seconds(full)} vs {fmt_seconds(3 * base + startup)}", full <= 3 * base + startup],
        ["(the same with the whole fixed cost of a run)",
         f"{fmt_seconds(full)} vs {fmt_seconds(3 * base + fixed)}", full <= 3 * base + fixed],
        ["start-up ≤ 10 s", fmt_seconds(startup), startup <= 10],
        ["backfill 12 months ≤ 2 × full run", fmt_ratio(ratio(one["backfill"]["wall"], full)),
         one["backfill"]["wall"] <= 2 * full],
        ["generation 1M ≤ 60 s", fmt_seconds(one["generate"]["wall"]), one["generate"]["wall"] <= 60],
    ]
    doubled = results.get("doubled_history")
    if doubled and doubled["of"] == "1m":
        growth = ratio(doubled["daily_run"]["wall"], daily["wall"]) - 1
        rows.insert(2, ["doubling history adds ≤ 30 % to the daily run", fmt_change(growth), growth <= 0.30])
    return markdown_table(["target", "measured", "met"],
                          [[t, v, "yes" if ok else "**no**"] for t, v, ok in rows])


def write_markdown(results: dict, out: Path) -> None:
    block = f"{BEGIN}\n{figures(results)}\n{END}"
    text = out.read_text() if out.exists() else f"# Performance\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text += f"\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    out.write_text(head + block + rest.split(END, 1)[1])
