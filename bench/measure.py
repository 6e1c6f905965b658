"""Spawn one measurement and watch it: wall time, and the peak RSS of its process tree.

The tree matters when a step starts processes (the dbt build did, before it ran in the
Dagster step's process): /proc is sampled every 50 ms and the tree's RSS summed; the largest
single process (wait4's ru_maxrss, and RUSAGE_CHILDREN inside the worker) is kept too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _children(pid: int) -> list[int]:
    kids = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return kids


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kib(pid: int) -> int:
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += _rss_kib(p)
        todo += _children(p)
    return total


def spawn(argv: list[str], env: dict[str, str] | None = None) -> dict:
    """Run argv; return wall seconds, peak tree RSS, returncode and the worker's JSON, if any."""
    started, spawned_at = time.perf_counter(), time.time()
    proc = subprocess.Popen(argv, cwd=REPO, env={**os.environ, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss_kib(proc.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    # wait4 instead of communicate: it returns the worker's own rusage.
    out_lines: list[str] = []
    reader = threading.Thread(target=lambda: out_lines.extend(proc.stdout), daemon=True)
    err_lines: list[str] = []
    err_reader = threading.Thread(target=lambda: err_lines.extend(proc.stderr), daemon=True)
    reader.start()
    err_reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    done.set()
    reader.join()
    err_reader.join()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    result = {"wall": wall, "peak_rss_kib": peak[0], "maxrss_kib": usage.ru_maxrss,
              "returncode": proc.returncode, "spawned_at": spawned_at}
    for line in out_lines:
        if line.startswith("BENCH-RESULT "):
            inner = json.loads(line.removeprefix("BENCH-RESULT "))
            result["inner"] = inner
            result["maxrss_kib"] = max(usage.ru_maxrss, inner.get("children_maxrss_kib", 0))
    if proc.returncode not in (0, 1) or ("inner" not in result and argv[1:3] == ["-m", "bench.worker"]):
        raise RuntimeError(f"{' '.join(argv[:4])} failed ({proc.returncode}):\n{''.join(err_lines)[-3000:]}")
    return result


def worker(task: dict, env: dict[str, str] | None = None) -> dict:
    return spawn([sys.executable, "-m", "bench.worker", json.dumps(task)], env)
