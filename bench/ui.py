"""The web UI's speed, in Debian's headless chromium driven by Playwright (as the browser tests
drive it: nothing downloads a browser; every request to a host other than the server fails)
against a `python -m tercel server` subprocess on its own database.

* `ui_gantt_2000`, `ui_gantt_10000`: a full page load of /ui/executions/{id} in a fresh browser
  context (cold cache) -> the first frame in which the Gantt's toolbar counts every task run and
  every row visible in its scroll region shows a terminal `data-state` (checked once per frame
  by bench/ui_probe.js, installed before the app's scripts; ms since navigation start). The
  executions are a ForEach over N-1 values (N task runs, all SUCCESS), run once per bench run.
  Each load is repeated under a Chrome trace (bench/uitrace.py): `main_cpu_ms_median`, the
  renderer main thread's CPU until ready, and `phases_median`, where the time went (app script,
  server, download, JSON parse, compact read, layout, render), from the page's own marks.
* `ui_gantt_10000_scroll`: on the same page, once it settled (its requests done; a
  state-change log it streams, replayed), scrollTop of the Gantt's scroll region goes from
  top to bottom in SCROLL_SECONDS, set once per frame; frames/s from the
  requestAnimationFrame timestamps, and the share of frames longer than 20 ms. Then as often
  again under a trace: `traced`, the renderer main thread's CPU per frame (what a busy machine
  changes least) and its split into script, style, layout, paint and GC.
* `ui_list_commit_to_dom`: /ui/executions filtered on a namespace stays open while
  STREAM_RATE executions/s are offered for STREAM_SECONDS (open loop, as bench/api.py offers:
  each send follows the clock, not the answers; `sent_per_s` and the `createExecution` answer
  times say what the server made of it); each runs
  one 0.3 s Sleep, so its row appears RUNNING and then turns SUCCESS in place. A
  MutationObserver records the epoch time of each row's appearance and of each data-state
  change; the commit time is the state's history date, which the engine stamps just before
  the commit that persists it (so the figure includes the commit itself). Appearance is
  timed from the execution's first (CREATED) date; a state change from that state's date.
  States the UI coalesced are not counted. `parts`: where the time went (bench/uiparts.py),
  with a second subscriber of the stream in its own process (bench/uiwatch.py) splitting the
  server's part from the browser's. The built UI must be as new as its sources
  (bench/uibuild.py: `python -m bench` does not build it).
* `ui_bundle_app`, `ui_bundle_graphiql`: gzipped bytes of every JavaScript chunk each page can
  load (its entry, its preloads and every chunk they import, statically or lazily), from the
  built files; the chunks the app's pages really loaded during this bench are recorded too.
"""

from __future__ import annotations

import gzip
import itertools
import os
import re
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench import api, uibuild, uitrace
from bench.uiload import Browser, open_page, run_to_end, stream, stream_latencies

HERE = Path(__file__).parent
NAMESPACE = "bench.ui"
GANTT_SIZES = (2000, 10000)
SCROLL_SECONDS = 5.0
SLOW_FRAME_MS = 20.0
STREAM_RATE = 100
STREAM_SECONDS = 10.0
#: how long one page may take to be ready, or its log to replay
PAGE_TIMEOUT_MS = 120_000
FOREACH = "io.kestra.plugin.core.flow.ForEach"
CHUNK = re.compile(r"[A-Za-z0-9_-]+-[A-Za-z0-9_-]{8}\.js")


def foreach_flow(task_runs: int) -> str:
    """A ForEach over task_runs - 1 values: the ForEach's own task run plus one per value."""
    values = ", ".join(str(i) for i in range(task_runs - 1))
    return (
        f"id: gantt{task_runs}\nnamespace: {NAMESPACE}\ntasks:\n  - id: loop\n"
        f"    type: {FOREACH}\n    concurrencyLimit: 0\n    values: [{values}]\n    tasks:\n"
        f'      - id: item\n        type: {api.RETURN}\n        format: "{{{{ taskrun.value }}}}"\n'
    )


def live_flow(namespace: str = f"{NAMESPACE}.live") -> str:
    sleep = "io.kestra.plugin.core.flow.Sleep"
    task = f"  - id: nap\n    type: {sleep}\n    duration: PT0.3S\n"
    return f"id: live\nnamespace: {namespace}\ntasks:\n{task}"


# ---------------------------------------------------------------------------- the Gantt


def _summary(values: list[float], unit: str) -> dict[str, Any]:
    return {
        "unit": unit,
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "runs": len(values),
    }


def gantt_scroll(browser: Browser, url: str, execution_id: str, task_runs: int) -> dict[str, Any]:
    """Load the Gantt, wait until the page settled (its requests done; a state-change log it
    streams, replayed), then scroll it top to bottom; frames/s and the share of slow frames."""
    with open_page(browser, url, f"window.__ganttExpect = {task_runs};") as opened:
        page = opened.page
        started = time.monotonic()
        page.goto(f"/ui/executions/{execution_id}", wait_until="commit")
        page.wait_for_function(
            "() => window.__probe.ganttPaintedMs !== null", timeout=PAGE_TIMEOUT_MS
        )
        opened.wait_settled(PAGE_TIMEOUT_MS / 1000)
        settled_s = time.monotonic() - started
        page.wait_for_timeout(500)
        scrolled = page.evaluate("(s) => __probe.scrollGantt(s)", SCROLL_SECONDS)
        frames: list[float] = page.evaluate("() => __probe.frames")
    gaps = [b - a for a, b in itertools.pairwise(frames)]
    return {
        "fps": len(gaps) / ((frames[-1] - frames[0]) / 1000),
        "slow_share": sum(g > SLOW_FRAME_MS for g in gaps) / len(gaps),
        "longest_frame_ms": max(gaps),
        "frames": len(frames),
        "settled_s": settled_s,
        **scrolled,
    }


def _medians(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    """Per key, the median of the rows' numbers (None when no row has one)."""
    out: dict[str, float | None] = {}
    for key in rows[0]:
        values = [r[key] for r in rows if isinstance(r.get(key), int | float)]
        out[key] = round(statistics.median(values), 2) if values else None
    return out


def gantt_scenarios(browser: Browser, url: str, repeat: int) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    with httpx.Client(base_url=url, timeout=60) as client:
        ids = {}
        for size in GANTT_SIZES:
            api.deploy(client, foreach_flow(size))
            ids[size] = run_to_end(client, NAMESPACE, f"gantt{size}", size)
    for size in GANTT_SIZES:
        loads = [
            uitrace.navigation(browser, url, ids[size], size, PAGE_TIMEOUT_MS)
            for _ in range(repeat)
        ]
        out[f"ui_gantt_{size}"] = _summary([r["ready"] for r in loads], "ms") | {
            "task_runs": size,
            "painted_median": statistics.median(r["painted"] for r in loads),
            "phases_median": _medians([r["phases"] for r in loads]),
            "main_cpu_ms_median": statistics.median(r["main_cpu_ms"] for r in loads),
            "other_cpu_ms_median": statistics.median(r["other_cpu_ms"] for r in loads),
        }
    size = GANTT_SIZES[-1]
    runs = range(max(1, repeat // 2))
    scrolls = [gantt_scroll(browser, url, ids[size], size) for _ in runs]
    costs = [
        uitrace.scroll(browser, url, ids[size], size, SCROLL_SECONDS, PAGE_TIMEOUT_MS) for _ in runs
    ]
    out[f"ui_gantt_{size}_scroll"] = _summary([s["fps"] for s in scrolls], "frames/s") | {
        "traced": _medians(costs)
        | {"by_kind_ms_per_frame": _medians([c["by_kind_ms_per_frame"] for c in costs])},
        "slow_frame_share": statistics.median(s["slow_share"] for s in scrolls),
        "longest_frame_ms": max(s["longest_frame_ms"] for s in scrolls),
        "frames": sum(s["frames"] for s in scrolls),
        "distance_px": scrolls[0]["distance"],
        "seconds": SCROLL_SECONDS,
        "settled_s": statistics.median(s["settled_s"] for s in scrolls),
    }
    return out


# ---------------------------------------------------------------------------- the bundle


def _closure(assets: Path, entries: set[str]) -> set[str]:
    found, todo = set(), list(entries)
    while todo:
        name = todo.pop()
        if name in found or not (assets / name).is_file():
            continue
        found.add(name)
        todo += CHUNK.findall((assets / name).read_text(errors="replace"))
    return found


def _gzipped(assets: Path, names: set[str]) -> int:
    return sum(len(gzip.compress((assets / n).read_bytes(), 9)) for n in names)


def bundle(loaded: set[str]) -> dict[str, dict[str, Any]]:
    """Gzipped JS per page, in KB (1,000 bytes); `loaded`: chunks the app's pages fetched."""
    from tercel import webui

    assets = webui.DIST / "assets"
    app = _closure(assets, set(CHUNK.findall((webui.DIST / "index.html").read_text())))
    editor = _closure(assets, set(CHUNK.findall((webui.DIST / "graphiql.html").read_text())))
    out = {}
    for name, chunks in (("ui_bundle_app", app), ("ui_bundle_graphiql", editor - app)):
        size = _gzipped(assets, chunks) / 1000
        raw = sum((assets / n).stat().st_size for n in chunks) / 1000
        out[name] = {"unit": "KB", "median": size, "chunks": sorted(chunks), "raw_kb": raw}
    out["ui_bundle_app"]["loaded_by_app_pages"] = sorted(loaded)
    out["ui_bundle_app"]["graphiql_chunks_loaded_by_app"] = sorted(loaded & (editor - app))
    return out


# ---------------------------------------------------------------------------- entry point


@contextmanager
def _server() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="tercel-bench-ui-") as scratch:
        with api.server(os.path.join(scratch, "ui.db")) as url:
            yield url


def scenarios(repeat: int) -> dict[str, dict[str, Any]]:
    """Every figure of the web UI; each records the date and load average of this run."""
    from tercel import webui

    uibuild.check(webui.DIST)
    run = {"date": time.strftime("%Y-%m-%d"), "loadavg_start": round(os.getloadavg()[0], 2)}
    out: dict[str, dict[str, Any]] = {}
    with _server() as url, Browser() as browser:
        out.update(gantt_scenarios(browser, url, repeat))
        with httpx.Client(base_url=url, timeout=60) as client:
            api.deploy(client, live_flow())
        rows, dates, offered, absent, parts = stream(
            browser, url, f"{NAMESPACE}.live", STREAM_RATE, STREAM_SECONDS
        )
        out["ui_list_commit_to_dom"] = stream_latencies(rows, dates) | {
            "rate_per_s": STREAM_RATE,
            "sent_per_s": round(offered.sent_per_s, 1),
            "create_answer_p50_ms": offered.answer_p50_ms,
            "create_answer_p99_ms": offered.answer_p99_ms,
            "not_in_dom_at_end": len(absent),
            "seconds": STREAM_SECONDS,
            "parts": parts,
        }
        out.update(bundle(browser.loaded_chunks))
        out["ui_list_commit_to_dom"]["page_errors"] = browser.problems[:20]
    run["loadavg_end"] = round(os.getloadavg()[0], 2)
    return {name: figures | {"run": run} for name, figures in out.items()}
