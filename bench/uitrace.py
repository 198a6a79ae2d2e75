"""Chrome performance traces of bench/ui.py's pages, read into figures that survive a shared
machine: frames/s falls when other processes take the cores, the renderer main thread's CPU per
frame does not (much). Also the breakdown of a Gantt's navigation time from the page's own
marks (`performance.mark`, ui/src/lib/marks.ts) and its resource timings.

Traced with Playwright's `browser.start_tracing` (CDP Tracing). The figures:

* `main_cpu_ms_per_frame`: CPU time (`tdur`, the thread clock) of the top-level tasks of the
  page's renderer main thread between the probe's `scroll-start` and `scroll-end` marks,
  divided by the frames the probe counted; `main_wall_ms_per_frame` the same in wall time.
* `by_kind_ms_per_frame`: CPU time per frame of the main thread's script, style, layout,
  paint and garbage collection events (a forced layout inside a script counts in both).
* `other_cpu_ms_per_frame`: CPU of the renderer's other threads (compositor, raster);
  `all_cpu_ms_per_frame`: of every thread of every chromium process (GPU/viz and browser too):
  work moved off the main thread shows there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench.uiload import Browser, open_page

CATEGORIES = [
    "toplevel",
    "devtools.timeline",
    "disabled-by-default-devtools.timeline",
    "blink.user_timing",
    "v8",
]
TOP_LEVEL = frozenset({"ThreadControllerImpl::RunTask", "RunTask"})
KINDS = {
    "script": (
        "FunctionCall",
        "EvaluateScript",
        "FireAnimationFrame",
        "EventDispatch",
        "TimerFire",
    ),
    "style": ("UpdateLayoutTree", "RecalculateStyles"),
    "layout": ("Layout",),
    "paint": ("PrePaint", "Paint", "Layerize", "UpdateLayer", "CompositeLayers"),
    "gc": ("MinorGC", "MajorGC", "V8.GCScavenger", "V8.GC_MC_BACKGROUND_MARKING"),
}
Event = dict[str, Any]


@contextmanager
def traced(browser: Any, page: Any) -> Iterator[dict[str, Any]]:
    """Trace `page` while the block runs; the parsed trace is in the yielded dict's "events"
    once the block ended."""
    found: dict[str, Any] = {}
    browser.start_tracing(page=page, categories=CATEGORIES)
    try:
        yield found
    finally:
        found["events"] = json.loads(browser.stop_tracing())["traceEvents"]


def _mark_event(events: list[Event], name: str) -> Event:
    found = [e for e in events if e.get("name") == name and "user_timing" in e.get("cat", "")]
    if not found:
        raise RuntimeError(f"the trace has no {name!r} mark")
    return min(found, key=lambda e: e["ts"])


def _main_thread(events: list[Event], mark: str) -> tuple[int, int]:
    """(pid, tid) of the renderer main thread that made `mark` (the traced page's)."""
    found = _mark_event(events, mark)
    return found["pid"], found["tid"]


def _mark(events: list[Event], name: str) -> float:
    return float(_mark_event(events, name)["ts"])


def _inside(event: Event, start: float, end: float) -> bool:
    return (
        event.get("ph") == "X" and start <= event["ts"] and event["ts"] + event.get("dur", 0) <= end
    )


def _outermost(events: list[Event]) -> list[Event]:
    """The events not nested in another of them (one thread's events nest, never overlap)."""
    out: list[Event] = []
    end = -1.0
    for e in sorted(events, key=lambda e: (e["ts"], -e.get("dur", 0))):
        if e["ts"] >= end:
            out.append(e)
            end = e["ts"] + e.get("dur", 0)
    return out


def _ms(events: list[Event], clock: str, frames: int) -> float:
    return round(sum(e.get(clock, e.get("dur", 0)) for e in _outermost(events)) / 1000 / frames, 2)


def scroll_cost(events: list[Event], frames: int) -> dict[str, Any]:
    """Per-frame CPU of the page's renderer between the probe's scroll marks (see the module)."""
    pid, tid = _main_thread(events, "scroll-start")
    start, end = _mark(events, "scroll-start"), _mark(events, "scroll-end")
    window = [e for e in events if e.get("pid") == pid and _inside(e, start, end)]
    main = [e for e in window if e["tid"] == tid]
    top = [e for e in main if e["name"] in TOP_LEVEL]
    others = [e for e in window if e["tid"] != tid and e["name"] in TOP_LEVEL]
    by_thread: dict[int, list[Event]] = {}
    for e in others:
        by_thread.setdefault(e["tid"], []).append(e)
    every: dict[tuple[int, int], list[Event]] = {}
    for e in events:
        if e.get("name") in TOP_LEVEL and _inside(e, start, end):
            every.setdefault((e["pid"], e["tid"]), []).append(e)
    return {
        "all_cpu_ms_per_frame": round(sum(_ms(t, "tdur", frames) for t in every.values()), 2),
        "main_cpu_ms_per_frame": _ms(top, "tdur", frames),
        "main_wall_ms_per_frame": _ms(top, "dur", frames),
        "other_cpu_ms_per_frame": round(sum(_ms(t, "tdur", frames) for t in by_thread.values()), 2),
        "by_kind_ms_per_frame": {
            kind: _ms([e for e in main if e["name"] in names], "tdur", frames)
            for kind, names in KINDS.items()
        },
        "window_ms": (end - start) / 1000,
    }


def navigation_cpu(events: list[Event]) -> dict[str, float]:
    """CPU (ms) of the page's renderer main thread, and of its other threads, from the first
    task of the page's renderer in the trace to the probe's `gantt-ready` mark: the navigation's
    work on this page, whatever share of the cores it got."""
    pid, tid = _main_thread(events, "gantt-ready")
    end = _mark(events, "gantt-ready")
    top = [e for e in events if e.get("pid") == pid and e.get("name") in TOP_LEVEL]
    top = [e for e in top if e["ts"] + e.get("dur", 0) <= end]
    others: dict[int, list[Event]] = {}
    for e in top:
        if e["tid"] != tid:
            others.setdefault(e["tid"], []).append(e)
    return {
        "main_cpu_ms": _ms([e for e in top if e["tid"] == tid], "tdur", 1),
        "other_cpu_ms": round(sum(_ms(t, "tdur", 1) for t in others.values()), 1),
    }


#: in the page: the navigation's phases from resource timings and the app's first-time marks
NAVIGATION = """() => {
  const at = (name) => performance.getEntriesByName(name)[0]?.startTime ?? null;
  const res = performance.getEntriesByType("resource");
  const app = res.find((e) => /\\/assets\\/app-[^/]*\\.js$/.test(e.name));
  const query = res.find((e) => e.name.endsWith("/graphql"));
  return {
    app_js_loaded: app ? app.responseEnd : null,
    query_sent: at("tercel:query-sent"),
    query_response_start: query ? query.responseStart : null,
    query_response_end: query ? query.responseEnd : null,
    query_bytes: query ? query.encodedBodySize : null,
    query_parsed: at("tercel:query-parsed"),
    compact_read: at("tercel:compact-read"),
    layout_start: at("tercel:layout-start"),
    layout_done: at("tercel:layout-done"),
    ready: __probe.ganttReadyMs,
    painted: __probe.ganttPaintedMs,
  };
}"""


def phases(times: dict[str, float | None]) -> dict[str, float | None]:
    """Durations (ms) of the navigation's phases from the page's `NAVIGATION` instants."""

    def between(a: str, b: str) -> float | None:
        x, y = times.get(a), times.get(b)
        return round(y - x, 1) if x is not None and y is not None else None

    return {
        "to_app_js": times.get("app_js_loaded"),
        "app_start": between("app_js_loaded", "query_sent"),
        "server": between("query_sent", "query_response_start"),
        "download": between("query_response_start", "query_response_end"),
        "json_parse": between("query_response_end", "query_parsed"),
        "compact_read": between("query_parsed", "compact_read"),
        "layout": between("layout_start", "layout_done"),
        "render": between("layout_done", "ready"),
        "ready": times.get("ready"),
    }


READY = "() => __probe.ganttPaintedMs !== null"


def navigation(
    browser: Browser, url: str, execution_id: str, size: int, timeout_ms: float
) -> dict[str, Any]:
    """One cold load of the execution's Gantt: the probe's ready and painted ms and the phases
    (`phases`); then the same load again under a trace: the renderer's CPU until ready."""
    setup = f"window.__ganttExpect = {size};"
    path = f"/ui/executions/{execution_id}"
    with open_page(browser, url, setup) as opened:
        opened.page.goto(path, wait_until="commit")
        opened.page.wait_for_function(READY, timeout=timeout_ms)
        times = opened.page.evaluate(NAVIGATION)
    with open_page(browser, url, setup) as opened:
        with traced(browser.browser, opened.page) as trace:
            opened.page.goto(path, wait_until="commit")
            opened.page.wait_for_function(READY, timeout=timeout_ms)
    return {"painted": times["painted"], "phases": phases(times)} | {
        "ready": times["ready"],
        **navigation_cpu(trace["events"]),
    }


def scroll(
    browser: Browser, url: str, execution_id: str, size: int, seconds: float, timeout_ms: float
) -> dict[str, Any]:
    """The settled Gantt scrolled top to bottom (bench/ui_probe.js) under a trace: frames/s
    (lower than untraced: tracing costs) and `scroll_cost`."""
    with open_page(browser, url, f"window.__ganttExpect = {size};") as opened:
        page = opened.page
        page.goto(f"/ui/executions/{execution_id}", wait_until="commit")
        page.wait_for_function(READY, timeout=timeout_ms)
        opened.wait_settled(timeout_ms / 1000)
        page.wait_for_timeout(500)
        with traced(browser.browser, page) as trace:
            page.evaluate("(s) => __probe.scrollGantt(s)", seconds)
            frames: list[float] = page.evaluate("() => __probe.frames")
    fps = (len(frames) - 1) / ((frames[-1] - frames[0]) / 1000)
    return {"traced_fps": round(fps, 1)} | scroll_cost(trace["events"], len(frames) - 1)
