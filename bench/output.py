"""Memory of the server while a shell task prints a lot (issue #12.7): a `python -m tercel
server` subprocess runs one Commands task that prints 200 MB, then 1 GB, of 1,000-byte lines;
the server's peak RSS (`VmHWM`) and its RSS once the execution ended are read from /proc.

Goal: the peak stays under 150 MiB whatever the volume (output streams to the log table with
bounded buffers; nothing grows with it). Run alone: `python -m bench.output [MB...]`.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from typing import Any

import httpx

from bench.api import CREATE, _data, deploy, running_server

NAMESPACE = "bench.output"
LIMIT_MIB = 150.0
SIZES_MB = (200, 1000)
QUERY = "query($id: ID!) { execution(id: $id) { state { current } } }"
TERMINAL = ("SUCCESS", "WARNING", "FAILED", "KILLED")


def flow(flow_id: str, megabytes: int, stderr: bool = False) -> str:
    # 999 x's and a newline per line, produced by the shell's own tools
    command = f"yes \"$(printf '%0999d' 0 | tr 0 x)\" | head -c {megabytes * 1_000_000}"
    command += " >&2" if stderr else ""
    return (
        f"id: {flow_id}\nnamespace: {NAMESPACE}\ntasks:\n"
        f"  - id: print\n    type: io.kestra.plugin.scripts.shell.Commands\n"
        f"    commands:\n      - {json.dumps(command)}\n"
    )


def _status_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def one_run(scratch: str, megabytes: int, stderr: bool = False) -> dict[str, Any]:
    """Peak and after-end RSS of a fresh server printing `megabytes` MB from one task."""
    flow_id = f"print-{megabytes}mb" + ("-stderr" if stderr else "")
    db_path = os.path.join(scratch, f"{flow_id}.db")
    with running_server(db_path) as running, httpx.Client(base_url=running.url) as client:
        deploy(client, flow(flow_id, megabytes, stderr))
        started_kib = _status_kib(running.pid, "VmRSS")
        created = _data(client.post("/graphql", json={
            "query": CREATE, "variables": {"ns": NAMESPACE, "f": flow_id}}))  # fmt: skip
        execution_id = created["createExecution"]["id"]
        started = time.monotonic()
        state = ""
        while state not in TERMINAL:
            time.sleep(0.2)
            answer = _data(client.post("/graphql", json={
                "query": QUERY, "variables": {"id": execution_id}}))  # fmt: skip
            state = answer["execution"]["state"]["current"]
        took = time.monotonic() - started
        time.sleep(1.0)
        peak_kib = _status_kib(running.pid, "VmHWM")
        after_kib = _status_kib(running.pid, "VmRSS")
        db_bytes = os.path.getsize(db_path) + _size(db_path + "-wal")
    return {
        "state": state,
        "seconds": round(took, 1),
        "mb_per_s": round(megabytes / took, 1),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "rss_at_start_mib": round(started_kib / 1024, 1),
        "rss_after_end_mib": round(after_kib / 1024, 1),
        "database_mb": round(db_bytes / 1e6),
    }


def _size(path: str) -> int:
    return os.path.getsize(path) if os.path.exists(path) else 0


def scenarios(repeat: int, sizes: tuple[int, ...] = SIZES_MB) -> dict[str, dict[str, Any]]:
    """One run per size on stdout, and the first size again on stderr (ERROR logs, which
    `errorLogs()` also sees); a 1 GB run takes minutes, so `repeat` is not used."""
    out: dict[str, dict[str, Any]] = {}
    runs = [(megabytes, False) for megabytes in sizes] + [(sizes[0], True)]
    with tempfile.TemporaryDirectory(prefix="tercel-bench-output-") as scratch:
        for megabytes, stderr in runs:
            run = one_run(scratch, megabytes, stderr)
            peak = run["peak_rss_mib"]
            name = f"shell_output_{megabytes}mb" + ("_stderr" if stderr else "")
            out[f"{name}_rss"] = {
                "median": peak, "min": peak, "max": peak, "unit": "MiB",
                "under_limit": peak < LIMIT_MIB, **run,
            }  # fmt: skip
    return out


if __name__ == "__main__":
    chosen = tuple(int(a) for a in sys.argv[1:]) or SIZES_MB
    print(json.dumps({"loadavg": os.getloadavg(), **scenarios(1, chosen)}, indent=2))
