"""Bulk restart of 10,000 FAILED executions (#14 item 5), end to end.

An in-process engine seeds a temporary database with 10,000 FAILED executions (one Fail task
each) and stops. A `python -m tercel server` subprocess then opens it; a chain of short Sleep
tasks starts there, and this process calls `bulkExecutions(action: RESTART, filter: {state:
[FAILED], flowId})` while a thread sends `{ __typename }` every 20 ms. Figures per run: the
call's time (every item known, every batch committed), the probe's latencies during the call,
how many task runs of the chain ended during the call (other executions progress), and the CPU
time the server used meanwhile (the machine is shared: the wall time depends on the load).
The restarted executions run again after the answer: their passes are held until every batch is
committed, then released 500 per loop iteration (engine/actions/bulk.py).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench import api

NAMESPACE = "bench.bulk"
EXECUTIONS = 10_000
PROBE_GAP_S = 0.02
FAILING = f"""id: failing
namespace: {NAMESPACE}
tasks:
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
"""
CHAIN = f"""id: chain
namespace: {NAMESPACE}
tasks:
""" + "".join(
    f"""  - id: s{i}
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.05S
"""
    for i in range(200)
)
BULK = """mutation($f: ExecutionFilter) {
  bulkExecutions(action: RESTART, filter: $f) { matched items { outcome } } }"""
CREATE = f"""mutation {{ createExecution(namespace: "{NAMESPACE}", flowId: "chain") {{
  ... on Execution {{ id }} }} }}"""
DONE = """query($id: ID!) { execution(id: $id) { taskRunList { state { current } } } }"""


async def _seed(db_path: str) -> None:
    from tercel.engine import service
    from tercel.engine.runtime.scheduler import Engine

    engine = Engine(db_path)
    await engine.start()
    try:
        await service.deploy_flow(engine, FAILING)
        for _ in range(EXECUTIONS // 1000):
            await asyncio.gather(
                *(service.create_execution(engine, NAMESPACE, "failing") for _ in range(1000))
            )
        while engine.active:
            await asyncio.sleep(0.05)
    finally:
        await engine.stop()


def _probe(url: str, stop: threading.Event, latencies: list[float]) -> None:
    with httpx.Client(base_url=url, timeout=30) as client:
        client.post("/graphql", json={"query": "{ __typename }"})
        while not stop.is_set():
            started = time.perf_counter()
            response = client.post("/graphql", json={"query": "{ __typename }"})
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.json() == {"data": {"__typename": "Query"}}, response.text
            time.sleep(PROBE_GAP_S)


def _post(client: httpx.Client, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    return api._data(client.post("/graphql", json={"query": query, "variables": variables}))


def _ended(client: httpx.Client, execution_id: str) -> int:
    runs = api._data(
        client.post("/graphql", json={"query": DONE, "variables": {"id": execution_id}})
    )
    return sum(r["state"]["current"] == "SUCCESS" for r in runs["execution"]["taskRunList"])


def one_run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tercel-bulk-") as folder:
        db_path = str(Path(folder) / "bulk.db")
        asyncio.run(_seed(db_path))
        with (
            api.running_server(db_path) as server,
            httpx.Client(base_url=server.url, timeout=120) as client,
        ):
            url = server.url
            api.deploy(client, CHAIN)
            chain = _post(client, CREATE, {})["createExecution"]["id"]
            time.sleep(0.5)
            latencies: list[float] = []
            stop = threading.Event()
            prober = threading.Thread(target=_probe, args=(url, stop, latencies))
            prober.start()
            time.sleep(0.2)
            before = _ended(client, chain)
            variables = {"f": {"namespace": NAMESPACE, "flowId": "failing", "state": ["FAILED"]}}
            started, cpu = time.perf_counter(), server.cpu_s()
            answer = api._data(
                client.post("/graphql", json={"query": BULK, "variables": variables})
            )
            took, cpu = time.perf_counter() - started, server.cpu_s() - cpu
            after = _ended(client, chain)
            stop.set()
            prober.join()
        found = answer["bulkExecutions"]
        ok = sum(item["outcome"] == "OK" for item in found["items"])
        return {
            "s": took,
            "server_cpu_s": cpu,
            "loadavg": os.getloadavg()[0],
            "matched": found["matched"],
            "ok": ok,
            "probe_p50_ms": statistics.median(latencies),
            "probe_p99_ms": sorted(latencies)[int(len(latencies) * 0.99) - 1],
            "probe_max_ms": max(latencies),
            "probes": len(latencies),
            "chain_task_runs_ended_during_call": after - before,
        }


def report_lines(scenarios: dict[str, Any]) -> list[str]:
    """The prose line of RESULTS.md for this scenario."""
    run = scenarios.get("bulk_restart_10000", {})
    if "probe_p99_ms" not in run:
        return []
    return [
        "",
        f"Bulk restart (bench/bulk.py, `python -m bench --only bulk`): `bulkExecutions(RESTART)` "
        f"by filter over {run['matched']:,} FAILED executions answered {run['ok']:,} OK items in "
        f"{run['s']:.1f} s (median run), the server using {run['server_cpu_s']:.1f} s of CPU "
        "meanwhile; batches of 500, one engine command (one read, one commit) each; the "
        "restarted executions run again after the answer, released 500 per loop iteration. "
        "During the call "
        f"`{{ __typename }}` every 20 ms answered p50 {run['probe_p50_ms']:.0f} ms, "
        f"p99 {run['probe_p99_ms']:.0f} ms, max {run['probe_max_ms']:.0f} ms "
        f"({run['probes']} probes), and a chain of Sleep "
        f"tasks in another execution ended {run['chain_task_runs_ended_during_call']} task runs. "
        f"1-minute load average {run['loadavg_start']:.1f} at the start, "
        f"{run['loadavg_end']:.1f} at the end (2 cores shared with other work).",
    ]


def median_entry(
    one_run: Callable[[], dict[str, Any]], repeat: int, executions: int
) -> dict[str, Any]:
    """Up to 3 runs of one heavy scenario: the median time with its spread, and the figures of
    the run nearest the median (the bulk and purge benches)."""
    load_start = round(os.getloadavg()[0], 2)
    runs = [one_run() for _ in range(max(1, min(repeat, 3)))]
    times = [run["s"] for run in runs]
    median = statistics.median(times)
    middle = min(runs, key=lambda run: abs(run["s"] - median))
    entry = {
        "unit": "s",
        "median": round(median, 2),
        "min": round(min(times), 2),
        "max": round(max(times), 2),
        "runs": len(runs),
        "executions": executions,
        "loadavg_start": load_start,
        "loadavg_end": round(os.getloadavg()[0], 2),
        **{k: round(v, 1) if isinstance(v, float) else v for k, v in middle.items()},
    }
    return entry


def scenarios(repeat: int) -> dict[str, dict[str, Any]]:
    return {"bulk_restart_10000": median_entry(one_run, repeat, EXECUTIONS)}


if __name__ == "__main__":
    import json

    print(json.dumps(scenarios(1), indent=2))
