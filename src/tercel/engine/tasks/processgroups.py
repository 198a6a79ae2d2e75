"""Processes of shell attempts: ask the kernel to end the root with the engine, and stop every
process of an attempt (its group, and the descendants that left it: see `descendants`) with
SIGTERM, then SIGKILL after a grace period, returning only once they are gone."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
from collections.abc import Callable, Iterator

from tercel.engine.tasks import descendants

__all__ = [
    "KILL_GRACE_SECONDS",
    "die_with_parent",
    "group_alive",
    "roots",
    "signal_group",
    "spawning",
    "stop_group",
]

#: SIGTERM, then SIGKILL after this long
KILL_GRACE_SECONDS = 2.0
_POLL_SECONDS = 0.05
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> Callable[[], None] | None:
    """Ask Linux to SIGKILL the child when this process dies (a crashed engine leaves none)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    option, signum = ctypes.c_int(_PR_SET_PDEATHSIG), ctypes.c_ulong(signal.SIGKILL)

    def preexec() -> None:
        prctl(option, signum)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


#: pids of the attempts' root processes (asyncio's child watcher waits for them, never we)
roots: set[int] = set()
#: spawns under way: a root exists before it is recorded, so no orphan is reaped meanwhile
_spawning = 0


@contextlib.contextmanager
def spawning() -> Iterator[None]:
    """Around the creation of a root process (see `roots`)."""
    global _spawning
    descendants.become_subreaper()
    _spawning += 1
    try:
        yield
    finally:
        _spawning -= 1


async def stop_group(proc: asyncio.subprocess.Process, mark: str) -> None:
    """End every process of the attempt (`descendants.find`): SIGTERM, SIGKILL after the grace
    period; return once they are all gone, then reap the orphans the engine adopted."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + KILL_GRACE_SECONDS
    termed: set[int] = set()
    while True:
        table = descendants.snapshot()
        if table:
            living = descendants.alive(descendants.find(proc.pid, mark, table), table)
        else:  # no /proc: the group is all there is to see
            living = {proc.pid} if group_alive(proc.pid) else set()
        if not living:
            break
        if loop.time() >= deadline:
            descendants.signal_all(living, signal.SIGKILL)
            signal_group(proc.pid, signal.SIGKILL)
        else:
            descendants.signal_all(living - termed, signal.SIGTERM)
            if not termed:
                signal_group(proc.pid, signal.SIGTERM)
            termed |= living
        await asyncio.sleep(_POLL_SECONDS)
    if not _spawning:
        descendants.reap_adopted(roots)


def group_alive(pgid: int) -> bool:
    """Whether the group still has a member that is not a zombie.

    kill() counts zombies: an orphan re-parented to a process that never reaps (an engine
    running as PID 1, say) would keep the group "alive" forever.
    """
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    if not os.path.isdir("/proc/self"):
        return True
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                state, _, group = stat.read().rsplit(b")", 1)[1].split()[:3]
            if int(group) == pgid and state != b"Z":
                return True
        except (OSError, ValueError):
            continue
    return False


def signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)
