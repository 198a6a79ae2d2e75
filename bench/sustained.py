"""Sustained load in process: 10,000 executions of a chain of 10 Return tasks (100,000 task
runs), 100 executions in flight, default settings (WAL, synchronous=FULL), a database file on
disk. Measures the total time, the throughput of each tenth of the executions, the process's
resident memory over the run and the size of the database and its WAL at the end."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.engine import chain_flow
from tercel.engine import model, service
from tercel.engine.runtime import scheduler

EXECUTIONS = 10_000
TASKS = 10
IN_FLIGHT = 100
DECILES = 10
RSS_PERIOD_S = 0.5
#: RSS growth from the second tenth to the last tenth still called flat
FLAT_TOLERANCE = 0.10


def rss_mb() -> float:
    """Resident set size of this process (VmRSS), in MiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _size_mb(path: str) -> float:
    try:
        return os.path.getsize(path) / 2**20
    except OSError:
        return 0.0


async def run_once(
    executions: int = EXECUTIONS, tasks: int = TASKS, in_flight: int = IN_FLIGHT
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tercel-bench-sustained-") as scratch:
        db_path = os.path.join(scratch, "bench.db")
        engine = scheduler.Engine(db_path)
        await engine.start()
        loop = asyncio.get_running_loop()
        try:
            flow = await service.deploy_flow(engine, chain_flow(tasks))
            pending: set[str] = set()
            finished: list[tuple[float, str]] = []  # (monotonic time, final state)
            failures: list[str] = []
            done = loop.create_future()
            launched = 0
            creating: set[asyncio.Task[None]] = set()

            async def create_one() -> None:
                created = await service.create_execution(engine, flow.namespace, flow.id, {})
                if not isinstance(created, model.Execution):
                    failures.append(repr(created))
                    if not done.done():
                        done.set_exception(RuntimeError(f"create_execution: {created!r}"))
                    return
                # A short execution may already be over when its creation is answered: the
                # listener saw its terminal state first and recorded it under `early`.
                if created.id in early:
                    early.discard(created.id)
                    return
                pending.add(created.id)

            def launch() -> None:
                nonlocal launched
                launched += 1
                task = loop.create_task(create_one())
                creating.add(task)
                task.add_done_callback(creating.discard)

            early: set[str] = set()

            def listener(batch: scheduler.Batch) -> None:
                now = time.monotonic()
                for execution_id, state in batch.states.items():
                    if not state.is_terminated or execution_id in seen:
                        continue
                    seen.add(execution_id)
                    if execution_id in pending:
                        pending.discard(execution_id)
                    else:
                        early.add(execution_id)
                    finished.append((now, state.value))
                    if state.value != "SUCCESS":
                        failures.append(f"{execution_id}: {state.value}")
                    if launched < executions:
                        launch()
                if len(finished) >= executions and not done.done():
                    done.set_result(None)

            seen: set[str] = set()
            engine.listeners.append(listener)

            samples: list[tuple[float, float]] = []

            async def sample_rss() -> None:
                while True:
                    samples.append((time.monotonic(), rss_mb()))
                    await asyncio.sleep(RSS_PERIOD_S)

            baseline_rss = rss_mb()
            sampler = loop.create_task(sample_rss())
            cpu0 = time.process_time()
            started = time.monotonic()
            for _ in range(min(in_flight, executions)):
                launch()
            try:
                await asyncio.wait_for(done, 600)
            finally:
                elapsed = time.monotonic() - started
                cpu = time.process_time() - cpu0
                sampler.cancel()
                samples.append((time.monotonic(), rss_mb()))
            db_mb, wal_mb = _size_mb(db_path), _size_mb(db_path + "-wal")
        finally:
            await engine.stop()
        db_after_stop_mb = _size_mb(db_path)
        wal_after_stop_mb = _size_mb(db_path + "-wal")

    per = executions // DECILES
    bounds = [started] + [finished[(i + 1) * per - 1][0] for i in range(DECILES)]
    decile_rates = [per * tasks / max(bounds[i + 1] - bounds[i], 1e-9) for i in range(DECILES)]

    def decile_rss(i: int) -> float:
        inside = [mb for t, mb in samples if bounds[i] <= t <= bounds[i + 1]]
        if not inside:  # a tenth shorter than the sampling period: nearest sample
            inside = [min(samples, key=lambda s: abs(s[0] - bounds[i + 1]))[1]]
        return statistics.mean(inside)

    second, last = decile_rss(1), decile_rss(DECILES - 1)
    return {
        "total_s": elapsed,
        "cpu_s": cpu,
        "task_runs": executions * tasks,
        "task_runs_per_s": executions * tasks / elapsed,
        "decile_task_runs_per_s": [round(r) for r in decile_rates],
        "start_rss_mb": baseline_rss,
        "peak_rss_mb": max(mb for _, mb in samples),
        "final_rss_mb": samples[-1][1],
        "rss_second_decile_mb": second,
        "rss_last_decile_mb": last,
        "memory_flat": last <= second * (1 + FLAT_TOLERANCE),
        "db_mb": db_mb,
        "wal_mb": wal_mb,
        "db_plus_wal_mb": db_mb + wal_mb,
        "db_after_stop_mb": db_after_stop_mb,
        "wal_after_stop_mb": wal_after_stop_mb,
        "failures": len(failures),
        "first_failures": failures[:3],
    }


def scenarios(repeat: int) -> dict[str, dict[str, Any]]:
    """One run (about half a minute or more): the figure is a sustained load, not a latency.
    It runs in a fresh interpreter so that its RSS is the engine's, not the earlier scenarios'."""
    del repeat  # a single long run; the deciles show its spread
    child = subprocess.run(
        [sys.executable, "-m", "bench.sustained"],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if child.returncode != 0:
        raise RuntimeError(f"bench.sustained exited {child.returncode}: {child.stderr[-2000:]}")
    run: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    rates = run["decile_task_runs_per_s"]
    entry: dict[str, Any] = {
        "unit": "s",
        "median": run["total_s"],
        "min": run["total_s"],
        "max": run["total_s"],
        "runs": 1,
        "executions": EXECUTIONS,
        "in_flight": IN_FLIGHT,
        "decile_spread_task_runs_per_s": [min(rates), max(rates)],
        **run,
    }
    return {"sustained_100k_task_runs": entry}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run_once())))
