"""The server's side of the open list's stream, without a browser: `python -m bench.servefan
--variant main=DIR --variant new=src --rounds 3`. Per variant and round: a `python -m tercel
server` subprocess (PYTHONPATH=DIR: that copy of `src/` is imported) on a fresh database, the
bench's live flow (one 0.3 s Sleep, bench/ui.py), one subscriber of the list's stream in its
own process (bench/uiwatch.py) and RATE executions/s offered open loop for SECONDS
(bench/uiload.py). Measured: the server's CPU (/proc/PID/stat) from the subscription to the
last execution's end, per execution, and its main thread's apart (/proc/PID/task/PID/stat; the
others are the storage writer's and the read pool's); the subscriber's latency (the history
date, stamped just before the commit -> its frame read), p50/p99; every (execution, state)
frame delivered once. Variants alternate within each round, so a busy machine loads each alike.
`--profile OUT` runs the server under cProfile on its main thread's CPU clock
(bench/profiled.py) into OUT.<variant>.<round>.prof."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import httpx

from bench import api, ui, uiload, uiwatch

NAMESPACE = "bench.fan"
STATES = ("CREATED", "RUNNING", "SUCCESS")


@contextmanager
def _imported_from(src: str) -> Iterator[None]:
    """The servers started inside import tercel from `src` first."""
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.path.abspath(src)
    try:
        yield
    finally:
        if before is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = before


def _until_ended(client: httpx.Client, total: int) -> None:
    variables = {"ns": NAMESPACE, "f": "live", "done": list(api.TERMINAL)}
    deadline = time.monotonic() + 120
    payload = {"query": api.UNFINISHED, "variables": variables}
    while api._data(client.post("/graphql", json=payload))["executions"]["totalCount"]:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{total} executions offered, some did not end in 120 s")
        time.sleep(0.1)


def one_run(
    src: str, rate: int, seconds: float, profile: str | None, watch: bool = True
) -> dict[str, Any]:
    """One server, one subscriber (none without `watch`: the server's CPU without the list's
    subscription), one stream; the figures of it."""
    launcher = ("-m", "bench.profiled", profile) if profile else ()
    with (
        tempfile.TemporaryDirectory(prefix="tercel-servefan-") as scratch,
        _imported_from(src),
        api.running_server(os.path.join(scratch, "fan.db"), launcher) as running,
        httpx.Client(base_url=running.url, timeout=60) as client,
    ):
        api.deploy(client, ui.live_flow(NAMESPACE))
        watching = uiwatch.watching(running.url, NAMESPACE) if watch else nullcontext({})
        with watching as watched:
            uiload._subscribed(client, 1 if watch else 0)
            cpu_before, main_before = running.cpu_s(), running.main_thread_cpu_s()
            offered = uiload._offer(running.url, NAMESPACE, rate, seconds)
            _until_ended(client, offered.total)
            cpu_s = running.cpu_s() - cpu_before
            main_s = running.main_thread_cpu_s() - main_before
            time.sleep(0.5)  # the last frames reach the watcher
        dates = uiload._histories(client, NAMESPACE, "live")
    return _figures(dates, watched, offered, (cpu_s, main_s))


def _figures(
    dates: dict[str, list[Any]],
    watched: uiwatch.Watched,
    offered: uiload.Offered,
    cpu: tuple[float, float],
) -> dict[str, Any]:
    """`cpu`: the server's CPU seconds over the stream, all threads and the main one."""
    cpu_s, main_s = cpu
    per_execution = 1000 / max(1, len(dates))
    latencies, missing = [], 0
    for execution_id, history in dates.items():
        for state, at in history:
            got = watched.get((execution_id, state))
            if got is None:
                missing += 1
            else:
                latencies.append(got - at)
    return {
        "executions": len(dates),
        "sent_per_s": round(offered.sent_per_s, 1),
        "cpu_ms_per_execution": round(cpu_s * per_execution, 2),
        "main_ms_per_execution": round(main_s * per_execution, 2),
        "others_ms_per_execution": round((cpu_s - main_s) * per_execution, 2),
        "server_p50_ms": round(api.percentile(latencies, 50), 1),
        "server_p99_ms": round(api.percentile(latencies, 99), 1),
        "frames": len(watched),
        "frames_missing": missing,
        "answer_p50_ms": offered.answer_p50_ms,
        "answer_p99_ms": offered.answer_p99_ms,
        "load": round(os.getloadavg()[0], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variant", action="append", required=True, help="NAME=SRC_DIR")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--no-watcher", action="store_true", help="no subscriber at all")
    parser.add_argument("--profile", help="cProfile the servers into OUT.<variant>.<round>.prof")
    args = parser.parse_args()
    variants = dict(v.split("=", 1) for v in args.variant)
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    for round_ in range(args.rounds):
        for name, src in variants.items():
            out = f"{args.profile}.{name}.{round_}.prof" if args.profile else None
            figures = one_run(src, args.rate, args.seconds, out, not args.no_watcher)
            found[name].append(figures)
            print(json.dumps({"variant": name, "round": round_, **figures}), flush=True)
    for name, runs in found.items():
        summary = {
            key: statistics.median(run[key] for run in runs)
            for key in (
                *("cpu_ms_per_execution", "main_ms_per_execution", "others_ms_per_execution"),
                *("server_p50_ms", "server_p99_ms", "load"),
            )
        }
        print(json.dumps({"variant": name, "median": summary}), flush=True)


if __name__ == "__main__":
    main()
