"""Process groups of shell attempts: ask the kernel to end them with the engine, and stop a
group with SIGTERM, then SIGKILL after a grace period, returning only once it is gone."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
from collections.abc import Callable

__all__ = ["KILL_GRACE_SECONDS", "die_with_parent", "group_alive", "signal_group", "stop_group"]

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


async def stop_group(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM the process group, SIGKILL it after the grace period, return once it is gone."""
    pgid = proc.pid
    if not group_alive(pgid):
        return
    signal_group(pgid, signal.SIGTERM)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + KILL_GRACE_SECONDS
    while group_alive(pgid) and loop.time() < deadline:
        await asyncio.sleep(_POLL_SECONDS)
    while group_alive(pgid):
        signal_group(pgid, signal.SIGKILL)
        await asyncio.sleep(_POLL_SECONDS)


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
