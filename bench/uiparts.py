"""Where a row's commit -> DOM time goes in bench/ui.py's open list, per streamed state:

* `delivered`: the state's history date (stamped by the engine just before its commit) -> the
  page's scripts got the websocket frame naming it (a `message` listener the probe registers
  before the app's own): the commit, the server's fan-out and encoding, the socket, chromium's
  network process, and the wait for the page's main thread while it runs something else;
* `app`: that frame -> the row (or its new state) in the DOM (the probe's MutationObserver):
  the app's own work, its batching included.

`delivered` is split in two by a second subscriber in its own process (bench/uiwatch.py):
* `server`: the date -> that subscriber got the frame (the commit, the fan-out and encoding,
  the socket, to a reader that does nothing else);
* `browser`: that -> the page's scripts got the same event (chromium's network process, the
  wait for the page's main thread).

A row's appearance is matched with its execution's first frame, a state change with the frame
of that state. `main_thread_busy_ms`: the page's long tasks (over 50 ms) during the stream,
summed. (Chromium's DevTools protocol stamps a websocket frame's arrival on the page's main
thread too: it cannot split `delivered`, the watcher does.)"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from bench import api

Key = tuple[str, str]  #: (execution id, state, or FIRST)
FIRST = "#first"


def page_arrivals(frames: Iterable[dict[str, Any]]) -> dict[Key, float]:
    """(execution id, state) -> when the page's scripts first got a stateChanges frame naming
    it; (execution id, FIRST) -> its execution's first frame."""
    found: dict[Key, float] = {}
    for frame in frames:
        try:
            change = json.loads(frame["data"])["payload"]["data"]["stateChanges"]
        except (KeyError, TypeError, ValueError):
            continue
        found.setdefault((change["executionId"], change["state"]), frame["t"])
        found.setdefault((change["executionId"], FIRST), frame["t"])
    return found


def breakdown(
    rows: list[dict[str, Any]],
    dates: dict[str, list[Any]],
    arrivals: dict[Key, float],
    watched: dict[tuple[str, str], float],
) -> dict[str, Any]:
    """p50 and p99 of each part over the DOM records whose frame the page got (`server` and
    `browser` over those the watcher got too)."""
    parts: dict[str, list[float]] = {"delivered": [], "app": [], "server": [], "browser": []}
    for row in rows:
        history = dates.get(row["id"])
        key = (row["id"], FIRST if row["kind"] == "add" else row["state"])
        at = None
        if history:
            at = history[0][1] if row["kind"] == "add" else _date_of(history, row["state"])
        if at is None or key not in arrivals:
            continue
        parts["delivered"].append(arrivals[key] - at)
        parts["app"].append(row["t"] - arrivals[key])
        state = history[0][0] if row["kind"] == "add" else row["state"]
        if (row["id"], state) in watched:
            parts["server"].append(watched[row["id"], state] - at)
            parts["browser"].append(arrivals[key] - watched[row["id"], state])
    out: dict[str, Any] = {"records": len(parts["app"])}
    for name, values in parts.items():
        out[f"{name}_p50"] = round(api.percentile(values, 50), 1)
        out[f"{name}_p99"] = round(api.percentile(values, 99), 1)
    return out


def _date_of(history: list[Any], state: str) -> float | None:
    at = [d for s, d in history if s == state]
    return at[-1] if at else None
