"""Every process an attempt started, wherever it went, so that none outlives the attempt.

A process group is not enough: `setsid cmd &` leaves the group and the session, and a double
fork leaves the tree. Three things together find them all:

* the engine is a child subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`), so an orphan of an attempt
  is re-parented to the engine rather than to init and stays in the engine's process tree;
* the script's environment carries `TERCEL_ATTEMPT=<task run id>/<attempt number>`, inherited by
  every descendant that does not rebuild its environment: an orphan the engine adopted is
  attributed to its attempt by it, and a restarted engine finds the leftovers of a dead one by
  the same mark (they were re-parented to init when it died);
* the group and the session of the attempt's root, and everything below any process found.

A subreaper must reap what it adopts: `reap_adopted` waits for ended orphans (never for an
attempt's root, which asyncio's child watcher waits for). Limit: a descendant that both leaves
the session and rebuilds its environment from nothing (`setsid env -i cmd &`) after its parent
ended is out of reach.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "MARKER",
    "Proc",
    "alive",
    "become_subreaper",
    "find",
    "find_marked",
    "mark",
    "marked",
    "reap_adopted",
    "signal_all",
    "snapshot",
]

MARKER = "TERCEL_ATTEMPT"
_PR_SET_CHILD_SUBREAPER = 36
_subreaper: bool | None = None


@dataclass(frozen=True, slots=True)
class Proc:
    pid: int
    ppid: int
    pgid: int
    sid: int
    zombie: bool


def mark(task_run_id: str, attempt_number: int) -> str:
    """The value of TERCEL_ATTEMPT for one attempt."""
    return f"{task_run_id}/{attempt_number}"


def become_subreaper() -> bool:
    """Make this process adopt the orphans of its descendants (Linux; once per process)."""
    global _subreaper
    if _subreaper is None:
        _subreaper = False
        if sys.platform.startswith("linux"):
            with contextlib.suppress(OSError, AttributeError):
                prctl = ctypes.CDLL(None, use_errno=True).prctl
                _subreaper = prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    return _subreaper


def snapshot() -> dict[int, Proc]:
    """Every process /proc shows, by pid (empty where there is no /proc)."""
    table: dict[int, Proc] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return table
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
            table[int(name)] = Proc(
                int(name), int(fields[1]), int(fields[2]), int(fields[3]), fields[0] == b"Z"
            )
        except (OSError, ValueError, IndexError):
            continue
    return table


def marked(pid: int, marks: Iterable[str]) -> bool:
    """Whether the process's environment holds TERCEL_ATTEMPT with one of the marks."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as environ:
            variables = environ.read().split(b"\0")
    except OSError:
        return False
    wanted = {f"{MARKER}={m}".encode() for m in marks}
    return any(variable in wanted for variable in variables)


def find(root: int, mark_value: str, table: dict[int, Proc] | None = None) -> set[int]:
    """The processes of one attempt: its root's group and session, the orphans the engine
    adopted that carry its mark (every marked process when the engine is no subreaper), and
    every process below those."""
    table = snapshot() if table is None else table
    me = os.getpid()
    found = {p.pid for p in table.values() if p.pid == root or root in (p.pgid, p.sid)}
    adopted = (p for p in table.values() if p.pid not in found and p.pid != me)
    if _subreaper:
        adopted = (p for p in adopted if p.ppid == me)
    found |= {p.pid for p in adopted if not p.zombie and marked(p.pid, [mark_value])}
    return _below(found, table)


def find_marked(marks: Iterable[str]) -> set[int]:
    """Every live process (and what is below it) carrying one of the marks: the leftovers of
    attempts of a dead engine, which were re-parented to init."""
    wanted = list(marks)
    table = snapshot()
    me = os.getpid()
    found = {p.pid for p in table.values() if p.pid != me and marked(p.pid, wanted)}
    return _below(found, table)


def _below(found: set[int], table: dict[int, Proc]) -> set[int]:
    children: dict[int, list[int]] = {}
    for proc in table.values():
        children.setdefault(proc.ppid, []).append(proc.pid)
    queue = list(found)
    while queue:
        for child in children.get(queue.pop(), ()):
            if child not in found:
                found.add(child)
                queue.append(child)
    return found


def alive(pids: Iterable[int], table: dict[int, Proc] | None = None) -> set[int]:
    """The pids that still exist and are not zombies."""
    table = snapshot() if table is None else table
    return {pid for pid in pids if pid in table and not table[pid].zombie}


def signal_all(pids: Iterable[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def reap_adopted(roots: Iterable[int], table: dict[int, Proc] | None = None) -> None:
    """Wait for the ended orphans this subreaper adopted (each would stay a zombie).

    Only zombie children outside this process's session are waited for, and never an attempt's
    root (`roots`: asyncio's child watcher waits for those): the other children of the engine
    (the jq helper, say) stay in its session and belong to whoever started them. A program
    embedding the engine that starts children in new sessions of its own must wait for them
    promptly (an ended one could be reaped here).
    """
    table = snapshot() if table is None else table
    me, session, skip = os.getpid(), os.getsid(0), set(roots)
    for proc in table.values():
        if proc.zombie and proc.ppid == me and proc.sid != session and proc.pid not in skip:
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(proc.pid, os.WNOHANG)
