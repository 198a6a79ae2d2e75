"""Run every benchmark scenario; write bench/results.json and bench/RESULTS.md."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import platform
import sqlite3
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import api, bulk, engine, foreachitem, hostile, output, purge, report, sustained, ui

HERE = Path(__file__).parent


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "date": time.strftime("%Y-%m-%d"),
        #: 1-minute load average when the run started: other processes distort the figures
        "loadavg_start": round(os.getloadavg()[0], 2),
    }


def guarded(
    results: dict[str, Any], name: str, scenarios: Callable[[int], dict[str, Any]], repeat: int
) -> None:
    """Add the scenarios of one module; a failure is recorded under `name` as {"error": ...}
    and the other modules still run."""
    print(f"bench: {name}...", file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        results["scenarios"].update(scenarios(repeat))
    except Exception as error:  # one failed module must not lose the others
        traceback.print_exc()
        results["scenarios"][name] = {"error": f"{type(error).__name__}: {error}"[:2000]}
    print(f"bench: {name} took {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)


def optional(module: str) -> Callable[[int], dict[str, Any]] | None:
    """`scenarios` of an optional bench module (bench.subscriptions), when it exists."""
    if importlib.util.find_spec(module) is None:
        return None
    found: Callable[[int], dict[str, Any]] = importlib.import_module(module).scenarios
    return found


MODULES: dict[str, Callable[[int], dict[str, Any]]] = {
    "engine": engine.scenarios,
    "api": api.scenarios,
    "sustained": sustained.scenarios,
    "output": output.scenarios,
    "hostile": hostile.scenarios,
    "ui": ui.scenarios,
    "bulk": bulk.scenarios,
    "purge": purge.scenarios,
    "foreachitem": foreachitem.scenarios,
}


def only(name: str, repeat: int) -> int:
    """Run one module and merge its figures into results.json (its scenarios record their own
    load average); RESULTS.md is written again from the whole."""
    path = HERE / "results.json"
    results = json.loads(path.read_text()) if path.exists() else {"machine": machine()}
    results.setdefault("scenarios", {})
    guarded(results, name, MODULES[name], repeat)
    path.write_text(json.dumps(results, indent=2) + "\n")
    (HERE / "RESULTS.md").write_text(report.markdown(results))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--repeat", type=int, default=7, help="runs per scenario (median reported)")
    parser.add_argument(
        "--only", choices=sorted(MODULES), help="run one module; keep the other figures on file"
    )
    args = parser.parse_args()
    if args.only:
        return only(args.only, args.repeat)
    started = time.monotonic()
    results: dict[str, Any] = {"machine": machine(), "scenarios": {}}
    for name, scenarios in MODULES.items():
        guarded(results, name, scenarios, args.repeat)
    try:
        subscriptions = optional("bench.subscriptions")
    except Exception as error:  # an import error of the optional module
        subscriptions = None
        results["scenarios"]["subscriptions"] = {"error": f"{type(error).__name__}: {error}"}
    if subscriptions is not None:
        guarded(results, "subscriptions", subscriptions, args.repeat)
    results["machine"]["loadavg_end"] = round(os.getloadavg()[0], 2)
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (HERE / "RESULTS.md").write_text(report.markdown(results))
    print(report.markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
