"""Subscription delivery latency: commit -> websocket client, with 100 and 1,000 subscribers.

Three processes: a `python -m tercel server` subprocess (`bench.api.server`), one asyncio client
subprocess (`python -m bench.subscribers URL N RUNS OUT`) holding N websocket connections
(`graphql-transport-ws`), each with one `stateChanges(after: "HEAD", filter: {namespace})`
subscription, and this process, which creates the executions over HTTP.

Latency of one delivered event = the client's wall-clock receive time - the event's `date` (the
transition time the engine stamps just before the commit that persists it; same machine, same
clock). It covers the commit itself, the broker fan-out, the GraphQL execution of the event, the
websocket send and the client's own event loop. Each run is one execution of a flow with six
sequential 50 ms Sleep tasks (about 40 state changes over a dozen commits), so every subscriber
receives every event of every run: N x ~40 deliveries per run.

The client connections are lean (`bench.wsclient`: a frame reader per socket, the receive time
taken when the socket is read), because 1,000 real dashboards have 1,000 machines while these
share the server's two cores. `TERCEL_BENCH_CLIENT=websockets` uses the `websockets` library
instead, offering permessage-deflate as browsers do (the server declines it); its own CPU per
message then shows in the figures.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import httpx

from bench import api

NAMESPACE = "bench.subs"
FLOW_ID = "fan"
SLEEP = "io.kestra.plugin.core.flow.Sleep"
#: subscriber counts measured (`TERCEL_BENCH_SUBSCRIBERS=100` to run one)
SUBSCRIBERS = tuple(
    int(n) for n in os.environ.get("TERCEL_BENCH_SUBSCRIBERS", "100,1000").split(",")
)
TERMINAL = frozenset(api.TERMINAL)
#: file descriptors wanted by the client and the server (one socket per subscriber)
NOFILE = 8192
#: simultaneous websocket handshakes of the client
HANDSHAKES = 50
#: after the last subscription was sent, time for the server to register them all
SETTLE_SECONDS = 1.0
#: runs watched before the measured ones, per subscriber count
WARMUPS = 1
RUN_TIMEOUT = 60.0

SUBSCRIBE = (
    'subscription { stateChanges(after: "HEAD", filter: {namespace: "' + NAMESPACE + '"}) '
    "{ sequence executionId entity state date } }"
)
STATE = """query($id: ID!) { execution(id: $id) { state { current } } }"""


def flow(tasks: int = 6) -> str:
    body = "\n".join(
        f"  - id: nap{i}\n    type: {SLEEP}\n    duration: PT0.05S" for i in range(tasks)
    )
    return f"id: {FLOW_ID}\nnamespace: {NAMESPACE}\ntasks:\n{body}\n"


def raise_nofile(wanted: int = NOFILE) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


# ---------------------------------------------------------------------------- the orchestrator


def _wait_terminal(client: httpx.Client, execution_id: str) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        found = api._data(
            client.post("/graphql", json={"query": STATE, "variables": {"id": execution_id}})
        )
        if found["execution"]["state"]["current"] in TERMINAL:
            return
        time.sleep(0.05)
    raise RuntimeError(f"execution {execution_id} did not end in {RUN_TIMEOUT} s")


def _wait_registered(client: httpx.Client, count: int) -> None:
    """Until the server has registered every subscription (`/health` counts them): a stream
    registered after a run's terminal event would wait for it forever."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while (live := client.get("/health").json().get("subscriptions", 0)) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{live} of {count} subscriptions registered in {RUN_TIMEOUT} s")
        time.sleep(0.05)


STORED = """query($id: ID!) {
  stateChanges(executionId: $id, first: 100) { edges { cursor } pageInfo { hasNextPage } }
}"""


def _stored_changes(client: httpx.Client, execution_id: str) -> int:
    """How many state changes the execution has (one page: a run has about 40)."""
    payload = {"query": STORED, "variables": {"id": execution_id}}
    found = api._data(client.post("/graphql", json=payload))["stateChanges"]
    if found["pageInfo"]["hasNextPage"]:
        raise RuntimeError(f"execution {execution_id} has more than a page of changes")
    return len(found["edges"])


def _create(client: httpx.Client) -> str:
    variables = {"ns": NAMESPACE, "f": FLOW_ID}
    found = api._data(client.post("/graphql", json={"query": api.CREATE, "variables": variables}))
    created = found["createExecution"]
    if created["__typename"] != "Execution":
        raise RuntimeError(f"createExecution: {created}")
    execution_id: str = created["id"]
    return execution_id


def delivery(url: str, count: int, runs: int, scratch: str) -> dict[str, Any]:
    """`runs` executions watched by `count` websocket subscribers in a client subprocess, after
    `WARMUPS` executions they watch too (not counted: the first runs of a fresh server are
    slower while its caches fill)."""
    out_path = f"{scratch}/client-{count}.json"
    command = [
        sys.executable, "-m", "bench.subscribers", url, str(count),
        str(WARMUPS + runs), out_path,
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    try:
        line = process.stdout.readline().strip()
        if line != "READY":
            raise RuntimeError(f"the client did not get ready: {line!r}")
        with httpx.Client(base_url=url, timeout=30) as client:
            _wait_registered(client, count)
            ids = []
            for _ in range(WARMUPS + runs):
                ids.append(_create(client))
                _wait_terminal(client, ids[-1])
                time.sleep(0.2)  # let the last deliveries drain before the next run
            del ids[:WARMUPS]
            stored = {i: _stored_changes(client, i) for i in ids}
        if process.wait(RUN_TIMEOUT * (WARMUPS + runs) + 30) != 0:
            raise RuntimeError(f"the client exited with {process.returncode}")
        with open(out_path, encoding="utf-8") as found:
            result = json.load(found)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    if result["errors"] or result["complete"] != count:
        raise RuntimeError(f"{count - result['complete']} subscribers failed: {result['errors']}")
    by_run = [result["latencies"].get(i, []) for i in ids]
    for execution_id, values in zip(ids, by_run, strict=True):
        if len(values) != count * stored[execution_id]:  # every subscriber, every event
            raise RuntimeError(
                f"{len(values)} deliveries for {execution_id}, expected {count} x "
                f"{stored[execution_id]}"
            )
    every = [value for values in by_run for value in values]
    expected = len(every) // max(1, count)
    return {
        "unit": "ms",
        "median": round(statistics.median(every), 1),
        "min": round(min(every), 1),
        "max": round(max(every), 1),
        "p50": api._ms(api.percentile(every, 50)),
        "p99": api._ms(api.percentile(every, 99)),
        "p99_by_run": [api._ms(api.percentile(values, 99)) for values in by_run],
        "runs": runs,
        "warmups": WARMUPS,
        "subscribers": count,
        "deliveries": len(every),
        "events_per_run": expected // max(1, runs),
        "client": "websockets" if os.environ.get("TERCEL_BENCH_CLIENT") == "websockets" else "lean",
    }


def scenarios(repeat: int) -> dict[str, dict[str, Any]]:
    raise_nofile()  # inherited by the server subprocess
    runs = max(3, repeat)
    out: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="tercel-bench-subs-") as scratch:
        with api.server(f"{scratch}/subs.db") as url:
            with httpx.Client(base_url=url, timeout=30) as client:
                api.deploy(client, flow())
            for count in SUBSCRIBERS:
                # 1,000 clients: 117,000 deliveries in 3 rounds (a few seconds each, once connected)
                rounds = runs if count <= 100 else 3
                out[f"delivery_{count}"] = found = delivery(url, count, rounds, scratch)
                print(f"bench: delivery_{count}: {found}", file=sys.stderr, flush=True)
    return out


def main(argv: list[str]) -> int:
    repeat = int(argv[0]) if argv else 5
    print(json.dumps(scenarios(repeat), indent=2))
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main(sys.argv[1:]))
