"""Engine scenarios, measured from the engine's own state histories, default settings
(WAL, synchronous=FULL), a database file on disk, every transition persisted."""

from __future__ import annotations

import asyncio
import itertools
import os
import statistics
import tempfile
from collections.abc import Callable
from datetime import datetime
from typing import Any

from tercel.engine import model, service
from tercel.engine.runtime import scheduler

RETURN = "io.kestra.plugin.core.debug.Return"
FOREACH = "io.kestra.plugin.core.flow.ForEach"


def chain_flow(n: int) -> str:
    tasks = "\n".join(f"  - id: t{i}\n    type: {RETURN}\n    format: step {i}" for i in range(n))
    return f"id: chain{n}\nnamespace: bench\ntasks:\n{tasks}\n"


def worker_chain_flow(n: int) -> str:
    """A chain of tasks that take the worker path (Sleep awaits): one commit per attempt start."""
    sleep = "io.kestra.plugin.core.flow.Sleep"
    tasks = "\n".join(f"  - id: t{i}\n    type: {sleep}\n    duration: PT0S" for i in range(n))
    return f"id: wchain{n}\nnamespace: bench\ntasks:\n{tasks}\n"


def foreach_flow(n: int, limit: int) -> str:
    values = ", ".join(str(i) for i in range(n))
    return (
        f"id: foreach{n}_{limit}\nnamespace: bench\ntasks:\n  - id: loop\n    type: {FOREACH}\n"
        f"    concurrencyLimit: {limit}\n    values: [{values}]\n    tasks:\n"
        f'      - id: item\n        type: {RETURN}\n        format: "{{{{ taskrun.value }}}}"\n'
    )


async def run_once(source: str, synchronous: str = "FULL") -> model.Execution:
    with tempfile.TemporaryDirectory(prefix="tercel-bench-") as scratch:
        engine = scheduler.Engine(os.path.join(scratch, "bench.db"), synchronous=synchronous)
        await engine.start()
        try:
            flow = await service.deploy_flow(engine, source)
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            ids: list[str] = []

            def listener(_: scheduler.Batch) -> None:
                es = engine.active.get(ids[0]) if ids else None
                if ids and not done.done() and (es is None or es.ex.state.current.is_terminated):
                    done.set_result(None)

            engine.listeners.append(listener)
            created = await service.create_execution(engine, flow.namespace, flow.id, {})
            assert isinstance(created, model.Execution), created
            ids.append(created.id)
            listener(scheduler.Batch(changes=None))  # type: ignore[arg-type]
            await asyncio.wait_for(done, 600)
            final = await service.get_execution(engine, created.id)
        finally:
            await engine.stop()
    assert final is not None and final.state.current.value == "SUCCESS", final
    return final


def _seconds(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds()


def total_ms(ex: model.Execution) -> float:
    """Execution CREATED to the last task run's SUCCESS, from the stored histories."""
    last = max(run.state.histories[-1].date for run in ex.task_runs)
    return _seconds(ex.state.start_date, last) * 1000


def chain_split_ms(ex: model.Execution) -> dict[str, float]:
    """Mean CREATED->RUNNING, RUNNING->SUCCESS and SUCCESS->next CREATED of a chain."""
    runs = ex.task_runs
    c2r = [_seconds(r.state.histories[0].date, r.state.histories[1].date) for r in runs]
    r2s = [_seconds(r.state.histories[1].date, r.state.histories[-1].date) for r in runs]
    s2c = [
        _seconds(a.state.histories[-1].date, b.state.histories[0].date)
        for a, b in itertools.pairwise(runs)
    ]
    return {
        "created_to_running_ms": statistics.mean(c2r) * 1000,
        "running_to_success_ms": statistics.mean(r2s) * 1000,
        "success_to_next_created_ms": statistics.mean(s2c) * 1000,
    }


def measure(
    source: str,
    repeat: int,
    extra: Callable[[model.Execution], dict[str, float]] | None = None,
    synchronous: str = "FULL",
) -> dict[str, Any]:
    figures: list[float] = []
    extras: list[dict[str, float]] = []
    asyncio.run(run_once(source, synchronous))  # warm-up: imports, caches
    for _ in range(repeat):
        ex = asyncio.run(run_once(source, synchronous))
        figures.append(total_ms(ex))
        if extra is not None:
            extras.append(extra(ex))
    result: dict[str, Any] = {
        "unit": "ms",
        "median": statistics.median(figures),
        "min": min(figures),
        "max": max(figures),
        "runs": len(figures),
        "task_runs": None,
    }
    if extras:
        for key in extras[0]:
            result[key] = statistics.median(e[key] for e in extras)
    return result


def scenarios(repeat: int) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    out["chain_10"] = measure(chain_flow(10), repeat, chain_split_ms)
    out["chain_40"] = measure(chain_flow(40), repeat, chain_split_ms)
    out["chain_40_worker_path"] = measure(worker_chain_flow(40), repeat, chain_split_ms)
    # what FULL costs: the same two chains with synchronous=NORMAL (the floor setting)
    out["chain_40_normal"] = measure(chain_flow(40), repeat, synchronous="NORMAL")
    out["chain_40_worker_path_normal"] = measure(
        worker_chain_flow(40), repeat, synchronous="NORMAL"
    )
    out["foreach_1000_unbounded"] = measure(foreach_flow(1000, 0), repeat)
    out["foreach_1000_limit_1"] = measure(foreach_flow(1000, 1), max(3, repeat // 2))
    # as many runs as the 1,000 case: the ratio of two medians is only as steady as both
    out["foreach_10000_unbounded"] = measure(foreach_flow(10000, 0), repeat)
    ratio = out["foreach_10000_unbounded"]["median"] / out["foreach_1000_unbounded"]["median"]
    out["foreach_10000_unbounded"]["ratio_to_1000"] = ratio
    return out
