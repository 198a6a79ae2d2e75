"""PurgeExecutions over 100,000 ended executions (#14 item 9), end to end.

An in-process engine runs one execution of a one-Log-task flow to SUCCESS and stops; its rows
(execution, task run, attempt, state changes, logs, label) are then copied 100,000 times under
new ids straight into the database file, in one transaction (the engine is not running: this is
seeding, not the thing measured). A `python -m tercel server` subprocess opens the file; a chain
of short Sleep tasks starts there; a purge flow (`PurgeExecutions` of that namespace, ended up to
a minute from now) is created through GraphQL, while a thread sends `{ __typename }` every 20 ms.
Figures: the purge execution's time from its creation to SUCCESS, its `executionsCount`, the
probe's latencies meanwhile, how many task runs of the chain ended meanwhile (other executions
progress between batches), and the server's CPU time.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench import api
from bench.bulk import _ended, _post, _probe, median_entry

NAMESPACE = "bench.purge"
EXECUTIONS = 100_000
HELLO = f"""id: hello
namespace: {NAMESPACE}
labels:
  team: bench
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: hello
"""
PURGE = f"""id: purge
namespace: bench.ops
tasks:
  - id: purge
    type: io.kestra.plugin.core.execution.PurgeExecutions
    namespace: {NAMESPACE}
    endDate: "{{{{ now() | dateAdd(1, 'MINUTES') }}}}"
"""
CHAIN = """id: chain
namespace: bench.ops
tasks:
""" + "".join(
    f"""  - id: s{i}
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.05S
"""
    for i in range(2000)
)
CREATE = """mutation($ns: String!, $f: String!) { createExecution(namespace: $ns, flowId: $f) {
  ... on Execution { id } } }"""
STATE = """query($id: ID!) { execution(id: $id) { state { current }
  taskRunList { outputs } } }"""
#: the tables whose rows of the template are copied
_COPIED = (
    "executions",
    "task_runs",
    "attempts",
    "state_changes",
    "logs",
    "labels",
    "metrics",
)


async def _template(db_path: str) -> str:
    from tercel.engine import model, service
    from tercel.engine.runtime.scheduler import Engine

    engine = Engine(db_path)
    await engine.start()
    try:
        await service.deploy_flow(engine, HELLO)
        await service.deploy_flow(engine, PURGE)
        await service.deploy_flow(engine, CHAIN)
        created = await service.create_execution(engine, NAMESPACE, "hello")
        assert isinstance(created, model.Execution), created
        while engine.active:
            await asyncio.sleep(0.02)
        return created.id
    finally:
        await engine.stop()


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def _renamed(column: str) -> str:
    """The SELECT expression that gives a copy's value of `column` (`n.id`: the new id)."""
    if column in ("id", "execution_id", "original_id"):
        return "n.id"
    if column in ("task_run_id", "parent_task_run_id"):
        return f"n.id || substr(t.{column}, -6)"  # NULL stays NULL
    return f"t.{column}"


def seed(db_path: str, template: str, count: int) -> None:
    """Copy the template execution's rows `count` times under new ids (22 characters, sorting
    after the template), in one transaction."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("CREATE TEMP TABLE n (id TEXT PRIMARY KEY)")
        prefix = template[:8]
        conn.executemany("INSERT INTO n VALUES (?)", [(f"{prefix}{i:014d}",) for i in range(count)])
        for table in _COPIED:
            columns = [c for c in _columns(conn, table) if c != "seq"]
            if table == "task_runs":
                values = ["n.id || substr(t.id, -6)" if c == "id" else _renamed(c) for c in columns]
                where = "t.execution_id = ?"
            else:
                values = [_renamed(c) for c in columns]
                where = "t.id = ?" if table == "executions" else "t.execution_id = ?"
            conn.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)}"
                f" FROM {table} t, n WHERE {where} ORDER BY n.id, t.rowid",
                (template,),
            )
        conn.execute("COMMIT")
    finally:
        conn.close()


def _state(client: httpx.Client, execution_id: str) -> dict[str, Any]:
    found: dict[str, Any] = _post(client, STATE, {"id": execution_id})["execution"]
    return found


def one_run(count: int = EXECUTIONS) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tercel-purge-") as folder:
        db_path = str(Path(folder) / "purge.db")
        template = asyncio.run(_template(db_path))
        seeded = time.perf_counter()
        seed(db_path, template, count)
        seed_s = time.perf_counter() - seeded
        with (
            api.running_server(db_path) as server,
            httpx.Client(base_url=server.url, timeout=120) as client,
        ):
            chain = _post(client, CREATE, {"ns": "bench.ops", "f": "chain"})["createExecution"]
            time.sleep(0.5)
            latencies: list[float] = []
            stop = threading.Event()
            prober = threading.Thread(target=_probe, args=(server.url, stop, latencies))
            prober.start()
            time.sleep(0.2)
            before = _ended(client, chain["id"])
            started, cpu = time.perf_counter(), server.cpu_s()
            purge = _post(client, CREATE, {"ns": "bench.ops", "f": "purge"})["createExecution"]
            while (found := _state(client, purge["id"]))["state"]["current"] in (
                "CREATED",
                "RUNNING",
            ):
                time.sleep(0.1)
            took, cpu = time.perf_counter() - started, server.cpu_s() - cpu
            after = _ended(client, chain["id"])
            stop.set()
            prober.join()
            remaining = _post(
                client,
                "query($ns: String) { executionCount: executions(filter: {namespace: $ns}, "
                "first: 1) { edges { node { id } } } }",
                {"ns": NAMESPACE},
            )["executionCount"]["edges"]
        outputs = found["taskRunList"][0]["outputs"] or {}
        return {
            "s": took,
            "state": found["state"]["current"],
            "executions_count": outputs.get("executionsCount"),
            "logs_count": outputs.get("logsCount"),
            "left_in_namespace": len(remaining),
            "seed_s": seed_s,
            "server_cpu_s": cpu,
            "loadavg": os.getloadavg()[0],
            "probe_p50_ms": statistics.median(latencies),
            "probe_p99_ms": sorted(latencies)[int(len(latencies) * 0.99) - 1],
            "probe_max_ms": max(latencies),
            "probes": len(latencies),
            "chain_task_runs_ended_during_purge": after - before,
        }


def report_lines(scenarios: dict[str, Any]) -> list[str]:
    """The prose line of RESULTS.md for this scenario."""
    run = scenarios.get("purge_100000", {})
    if "probe_p99_ms" not in run:
        return []
    return [
        "",
        f"Purge (bench/purge.py, `python -m bench --only purge`): a `PurgeExecutions` task over "
        f"{run['executions_count']:,} ended executions (one run by the engine and "
        f"{run['executions']:,} copies of its rows; one Log task each: 7 state changes, 3 logs, a "
        f"label) deleted them all with their "
        f"{run['logs_count']:,} logs in {run['s']:.1f} s from its creation to SUCCESS (median "
        f"run; {run['executions_count'] / run['s']:,.0f} executions/s), the server using "
        f"{run['server_cpu_s']:.1f} s of CPU; batches of 500, one engine command (one read, one "
        "commit) each. Meanwhile "
        f"`{{ __typename }}` every 20 ms answered p50 {run['probe_p50_ms']:.0f} ms, "
        f"p99 {run['probe_p99_ms']:.0f} ms, max {run['probe_max_ms']:.0f} ms "
        f"({run['probes']} probes), and a chain of Sleep PT0.05S tasks in another execution "
        f"ended {run['chain_task_runs_ended_during_purge']} task runs. 1-minute load average "
        f"{run['loadavg_start']:.1f} at the start, {run['loadavg_end']:.1f} at the end (2 cores "
        "shared with other work).",
    ]


def scenarios(repeat: int) -> dict[str, dict[str, Any]]:
    return {"purge_100000": median_entry(one_run, repeat, EXECUTIONS)}


if __name__ == "__main__":
    import json
    import sys

    count = int(sys.argv[1]) if len(sys.argv) > 1 else EXECUTIONS
    print(json.dumps(one_run(count), indent=2))
