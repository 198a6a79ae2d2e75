"""`{ __typename }` latency while hostile expressions render (#12 item 4), end to end.

A `python -m tercel server` subprocess runs flows whose ForEach (8 values, no concurrency limit)
renders a hostile expression in each iteration; new executions of them are offered open loop,
and meanwhile this process sends `{ __typename }` at a fixed pace and times each answer. Inline
tasks such as these Returns render on the server's event loop for at most a 10 ms slice per
turn, then in a render process (engine/runtime/offloop.py, engine/expressions/farm.py): what
still holds the loop (the slice, the engine's own work, the CPU the render process takes on 2
cores) shows up in these latencies. The machine is shared: compare each mix with the idle
figure of the same run (`x idle`).

* `api_typename_hostile`: the expressions of the issue and their family (string formatting,
  4 Mbit numbers, huge integer division, comparisons and sorts over large values, `replace`
  and `join` over repeated references, backtracking date patterns, oversized templates), each
  refused by a size check before doing the work.
* `api_typename_heavy`: work the limits allow, done before a check can refuse it (splitting a
  600 KB string into 300,000 items twice, then `contains`; `title` over 1 MB): 10-30 ms per
  render, 8 renders per engine pass.
* `api_typename_deadline`: expressions that nothing refuses up front and that run until the
  1 s render deadline stops them (a jq endless loop in the helper process, a chain of
  `render()` calls over a 1 MB string). Each one holds the loop for up to that second.
* `api_typename_idle` and `api_typename_benign`: the same probe with no other load, and with
  the same flows rendering an ordinary expression, for comparison.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench import api

NAMESPACE = "bench.hostile"
#: how long the probe runs per run, and its pace
PROBE_SECONDS = 8.0
PROBE_GAP_S = 0.02
#: a new execution of each hostile flow this often (each renders 8 hostile expressions)
OFFER_GAP_S = 0.25

_BIG = "('a' * 1000000)"
HOSTILE = {
    "format-width": "{{ '%.999999999f' % 1.0 }}",
    "hex-number": "{{ ('0x' ~ ('f' * 1000000)) | number }}",
    "int-division": "{{ (('0x' ~ ('f' * 16000)) | number) // 3 }}",
    "list-equality": f"{{{{ [{_BIG} ~ 'b', {_BIG}] == [{_BIG}, {_BIG} ~ 'b'] }}}}",
    "sort-large": f"{{{{ ([{_BIG}, {_BIG} ~ 'b', {_BIG}] | sort) | length }}}}",
    "replace-repeated": f"{{{{ ([{_BIG}, {_BIG}, {_BIG}] | replace({{'a': 'bb'}})) | length }}}}",
    "date-backtracking": "{{ (('1' * 40) ~ 'x') | date(existingFormat='yuyuyuyuyuyuyuyu') }}",
    "huge-date-pattern": "{{ now(format=('-' * 1000000)) }}",
    "string-repeat": "{{ 'a' * 100000000 }}",
}
HEAVY = {
    "contains-lists": "{{ " + " contains ".join(["(('a,' * 300000) | split(','))"] * 2) + " }}",
    "title-1mb": "{{ (" + _BIG + " | title) | length }}",
}
#: as many flows as HOSTILE, so the engine does the same amount of other work
BENIGN = {
    f"benign-{i}": "{{ taskrun.value }} is {{ (taskrun.value | number) * 2 }}" for i in range(9)
}
DEADLINE = {
    "jq-endless-loop": '{{ 1 | jq("def f: f; f") }}',
    "render-chain": "{{ render(vars.inner) }}" * 100,
}
_INNER = ("{{ " + _BIG + " | upper | lower | upper | lower | length }}") * 20


def hostile_flow(flow_id: str, template: str) -> str:
    """A ForEach over 8 values rendering `template` in each iteration."""
    return (
        f"id: {flow_id}\nnamespace: {NAMESPACE}\n"
        f"variables:\n  inner: {json.dumps(_INNER)}\n"
        "tasks:\n"
        "  - id: each\n    type: io.kestra.plugin.core.flow.ForEach\n"
        "    values: [1, 2, 3, 4, 5, 6, 7, 8]\n    concurrencyLimit: 0\n    tasks:\n"
        "      - id: hostile\n        type: io.kestra.plugin.core.debug.Return\n"
        f"        format: {json.dumps(template)}\n"
    )


def _offer(url: str, flow_ids: list[str], stop: threading.Event, offered: list[int]) -> None:
    """Create an execution of every flow each `OFFER_GAP_S`, until `stop`."""
    with httpx.Client(base_url=url, timeout=30) as client:
        tick = time.monotonic()
        while not stop.is_set():
            for flow_id in flow_ids:
                variables = {"ns": NAMESPACE, "f": flow_id}
                client.post("/graphql", json={"query": api.CREATE, "variables": variables})
                offered[0] += 1
            tick += OFFER_GAP_S
            stop.wait(max(tick - time.monotonic(), 0))


def _probe(url: str) -> list[float]:
    """`{ __typename }` every `PROBE_GAP_S` for `PROBE_SECONDS`; the latencies in ms."""
    latencies: list[float] = []
    with httpx.Client(base_url=url, timeout=60) as client:
        client.post("/graphql", json={"query": "{ __typename }"})  # connect outside the timing
        end = time.monotonic() + PROBE_SECONDS
        tick = time.monotonic()
        while time.monotonic() < end:
            began = time.monotonic()
            response = client.post("/graphql", json={"query": "{ __typename }"})
            latencies.append((time.monotonic() - began) * 1000)
            assert response.json() == {"data": {"__typename": "Query"}}, response.text
            tick += PROBE_GAP_S
            time.sleep(max(tick - time.monotonic(), 0))
    return latencies


def _failed_task_runs(url: str) -> int:
    query = """query($ns: String!) { taskRuns(filter: {namespace: $ns, state: [FAILED]},
      first: 1) { totalCount } }"""
    body = httpx.post(url + "/graphql", json={"query": query, "variables": {"ns": NAMESPACE}})
    return int(body.json()["data"]["taskRuns"]["totalCount"])


def one_run(scratch: str, templates: dict[str, str]) -> dict[str, Any]:
    """p50/p99/max of the probe while executions of `templates` are offered (none: idle)."""
    db_path = str(Path(tempfile.mkdtemp(dir=scratch)) / "hostile.db")
    with api.running_server(db_path) as running, httpx.Client(base_url=running.url) as client:
        for flow_id, template in templates.items():
            api.deploy(client, hostile_flow(flow_id, template))
        stop, offered = threading.Event(), [0]
        offering = threading.Thread(
            target=_offer, args=(running.url, list(templates), stop, offered), daemon=True
        )
        offering.start()
        try:
            latencies = _probe(running.url)
        finally:
            stop.set()
            offering.join(60)
        failed = _failed_task_runs(running.url)
    return {
        "p50_ms": api.percentile(latencies, 50),
        "p99_ms": api.percentile(latencies, 99),
        "max_ms": max(latencies),
        "probes": len(latencies),
        "executions_offered": offered[0],
        "hostile_renders_failed": failed,
    }


def _summary(runs: list[dict[str, Any]], templates: dict[str, str]) -> dict[str, Any]:
    p99s = [run["p99_ms"] for run in runs]
    return {
        "loadavg": round(os.getloadavg()[0], 2),
        "median": statistics.median(p99s),
        "min": min(p99s),
        "max": max(p99s),
        "unit": "ms",
        "runs": runs,
        "expressions": templates,
    }


def scenarios(repeat: int) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    mixes = {
        "api_typename_idle": {},
        "api_typename_benign": BENIGN,
        "api_typename_hostile": HOSTILE,
        "api_typename_heavy": HEAVY,
        "api_typename_deadline": DEADLINE,
    }
    with tempfile.TemporaryDirectory(prefix="tercel-bench-hostile-") as scratch:
        for name, templates in mixes.items():
            try:
                runs = [one_run(scratch, templates) for _ in range(max(1, min(repeat, 3)))]
                out[name] = _summary(runs, templates)
            except Exception as error:  # one failed scenario must not lose the others
                out[name] = {"error": f"{type(error).__name__}: {error}"[:2000]}
    return out


def report_lines(scenarios: dict[str, Any]) -> list[str]:
    """RESULTS.md lines: the probe's figures, one row per mix of renders."""
    names = ("idle", "benign", "hostile", "heavy", "deadline")
    found = {n: scenarios.get(f"api_typename_{n}", {}) for n in names}
    if not any("runs" in data for data in found.values()):
        return []
    lines = [
        "",
        "`{ __typename }` every 20 ms for 8 s over HTTP while a `python -m tercel server` runs "
        "ForEach flows (8 values, no concurrency limit) rendering the mix in every iteration, "
        "one new execution per flow every 250 ms (`python -m bench --only hostile`; "
        "expressions in bench/hostile.py). Figures of the median run; load is the 1-minute "
        "load average after the mix's runs (above 2, other processes shared the 2 cores):",
        "",
        "| mix | p50 ms | p99 ms | x idle | max ms | probes | executions | failed task runs "
        "| load |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    idle = found["idle"].get("median")
    for name, data in found.items():
        if "runs" not in data:
            continue
        run = sorted(data["runs"], key=lambda r: r["p99_ms"])[len(data["runs"]) // 2]
        ratio = f"{data['median'] / idle:.1f}" if idle else "-"
        lines.append(
            f"| {name} | {run['p50_ms']:.1f} | {run['p99_ms']:.1f} | {ratio} | "
            f"{run['max_ms']:.1f} | {run['probes']} | {run['executions_offered']} | "
            f"{run['hostile_renders_failed']} | {data.get('loadavg', '-')} |"
        )
    return lines


if __name__ == "__main__":
    print(json.dumps(scenarios(1), indent=2))
