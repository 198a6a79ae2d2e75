"""A/B of UI builds in one run, at the same machine moment: `python -m bench.ui_ab
--variant old=DIR --variant new=src --rounds 3`, DIR a copy of `src/` whose
tercel/webui/dist holds the other build (e.g. `git worktree add --detach /tmp/old COMMIT`,
`make ui` there, then DIR=/tmp/old/src). Each variant's `tercel server` runs with
PYTHONPATH=DIR on its own copy of one seeded database (the same executions); rounds alternate
the variants. Per variant and round: the Gantt of 2,000 and of 10,000 task runs loaded cold
(bench/ui.py's ready time, and the phases of bench/uitrace.py), and the 10,000 scrolled top to
bottom under a trace (frames/s and renderer CPU per frame), then once more untraced (frames/s as
bench/ui.py measures it; tracing slows the page). With `--stream`, the open list's stream
too (bench/ui.py's `ui_list_commit_to_dom`: 100 executions/s for 10 s, a namespace of its own
per variant and round): appearance and state change p50/p99, the split (server, browser, app)
and `createExecution`'s answers, the frames/s in which the list's DOM changed
(`dom_batches_per_s`) and the CPU per execution of each process (bench/uicpu.py: `cpu_chromium`
sums chromium's) from the first send to the last DOM change. Prints one JSON line per
measurement and a median summary with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx

from bench import api, ui, uicpu, uitrace
from bench.uiload import Browser, run_to_end, stream, stream_latencies


@contextmanager
def _server_on(db: str, src: str) -> Iterator[str]:
    """`tercel server` on `db` importing tercel from `src` first (its webui/dist is served)."""
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.path.abspath(src)
    try:
        with api.server(db) as url:
            if before is None:
                del os.environ["PYTHONPATH"]
            else:
                os.environ["PYTHONPATH"] = before
            yield url
    finally:
        if before is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = before


def seed(db: str) -> dict[int, str]:
    """The bench's ForEach executions of 2,000 and 10,000 task runs, run to the end."""
    ids = {}
    with api.server(db) as url, httpx.Client(base_url=url, timeout=60) as client:
        for size in ui.GANTT_SIZES:
            api.deploy(client, ui.foreach_flow(size))
            ids[size] = run_to_end(client, ui.NAMESPACE, f"gantt{size}", size)
    return ids


STREAM_KEYS = (
    "median",
    "p99",
    "not_final_state",
    "appear_p50",
    "appear_p99",
    "change_p50",
    "change_p99",
    "changes_timed",
    "sent_per_s",
    "answer_p50",
    "answer_p99",
    "server_p50",
    "server_p99",
    "browser_p50",
    "browser_p99",
    "app_p50",
    "app_p99",
    "main_thread_busy_ms",
    "dom_batches_per_s",
    "cpu_chromium",
    "cpu_renderer",
    "cpu_browser",
    "cpu_gpu",
    "cpu_network",
    "cpu_node_driver",
    "cpu_server",
    "cpu_bench",
    "cpu_window_s",
)


def _stream(browser: Browser, url: str, namespace: str) -> dict[str, Any]:
    """One run of bench/ui.py's open-list stream into `namespace` (deployed here)."""
    with httpx.Client(base_url=url, timeout=60) as client:
        api.deploy(client, ui.live_flow(namespace))
    with uicpu.sampling() as sampler:
        rows, dates, offered, _, parts = stream(
            browser, url, namespace, ui.STREAM_RATE, ui.STREAM_SECONDS
        )
    # CPU per execution from the first send to the last DOM change the probe saw
    last_row = max(r["t"] for r in rows) / 1000
    cpu = uicpu.per_execution_ms(sampler.per_kind(offered.started_at, last_row), len(dates))
    found = stream_latencies(rows, dates) | parts | cpu
    found |= {"sent_per_s": offered.sent_per_s, "answer_p50": offered.answer_p50_ms}
    found["answer_p99"] = offered.answer_p99_ms
    return {k: found.get(k) for k in STREAM_KEYS}


def _median(rows: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rows if isinstance(r.get(key), int | float)]
    return round(statistics.median(values), 2) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variant", action="append", required=True, help="NAME=SRC_DIR")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-scroll", action="store_true")
    parser.add_argument("--no-load", action="store_true")
    parser.add_argument("--stream", action="store_true", help="the open list's stream too")
    args = parser.parse_args()
    variants = dict(v.split("=", 1) for v in args.variant)
    results: dict[str, list[dict[str, Any]]] = {}
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="tercel-ui-ab-") as scratch, ExitStack() as stack:
        gantt = not (args.no_load and args.no_scroll)  # else no seed: the stream alone
        ids = seed(os.path.join(scratch, "seed.db")) if gantt else {}
        urls = {}
        for name, src in variants.items():
            db = os.path.join(scratch, f"{name}.db")
            if gantt:
                shutil.copy(os.path.join(scratch, "seed.db"), db)
            for attempt in range(3):  # a start can outlast its 30 s on a crowded machine
                try:
                    urls[name] = stack.enter_context(_server_on(db, src))
                    break
                except RuntimeError:
                    if attempt == 2:
                        raise
        browser = stack.enter_context(Browser())
        for round_ in range(args.rounds):
            order = list(variants) if round_ % 2 == 0 else list(reversed(variants))
            for name in order:
                for size in () if args.no_load else ui.GANTT_SIZES:
                    row = {"variant": name, "what": f"load{size}", "load": os.getloadavg()[0]}
                    found = uitrace.navigation(
                        browser, urls[name], ids[size], size, ui.PAGE_TIMEOUT_MS
                    )
                    row |= found.pop("phases") | found
                    results.setdefault(f"{name} load{size}", []).append(row)
                    print(json.dumps(row), flush=True)
                if args.stream:
                    row = _stream(browser, urls[name], f"{ui.NAMESPACE}.ab{round_}.{name}")
                    row = {"variant": name, "what": "stream", "load": os.getloadavg()[0]} | row
                    results.setdefault(f"{name} stream", []).append(row)
                    print(json.dumps(row), flush=True)
                if not args.no_scroll:
                    size = ui.GANTT_SIZES[-1]
                    row = {"variant": name, "what": "scroll", "load": os.getloadavg()[0]}
                    row |= uitrace.scroll(
                        browser, urls[name], ids[size], size, ui.SCROLL_SECONDS, ui.PAGE_TIMEOUT_MS
                    )
                    untraced = ui.gantt_scroll(browser, urls[name], ids[size], size)
                    row["fps_untraced"] = round(untraced["fps"], 1)
                    results.setdefault(f"{name} scroll", []).append(row)
                    print(json.dumps(row), flush=True)
    print(
        f"# medians; 1-minute load {load_start:.2f} at the start, {os.getloadavg()[0]:.2f} "
        f"at the end, {time.strftime('%H:%M UTC', time.gmtime())}"
    )
    keys = (
        "ready",
        "main_cpu_ms",
        "other_cpu_ms",
        "server",
        "download",
        "json_parse",
        "compact_read",
        "layout",
        "render",
        "fps",
        "fps_untraced",
        "main_cpu_ms_per_frame",
        "main_wall_ms_per_frame",
        "other_cpu_ms_per_frame",
        *STREAM_KEYS,
    )
    for label, rows in results.items():
        found = {k: _median(rows, k) for k in keys if _median(rows, k) is not None}
        print(label, json.dumps(found))


if __name__ == "__main__":
    main()
