"""Named fail points for crash and fault tests.

Armed by the environment, `TERCEL_FAILPOINT=<name>` and optionally `TERCEL_FAILPOINT_SKIP=<n>`
(pass the point n times first), or in-process by `arm` / `disarm` (tests). Unarmed, a point is
one comparison.

Crash points (`hit`: the process dies, `os._exit(137)`, like SIGKILL):
- `after_attempt_commit`: an attempt row is committed, its task body has not started;
- `before_result_commit`: a task body returned, its result is not committed yet;
- `before_trigger_commit`: a Schedule date's execution and next date are made, not committed;
- `after_trigger_commit`: they are committed, the schedule runner has not taken the new date;
- `before_flow_trigger_commit`, `after_flow_trigger_commit`: the same around the execution a
  Flow trigger starts for another execution's end (and the trigger's watermark);
- `before_upload_commit`: a new execution's FILE inputs are stored (and journaled), the
  execution is not committed yet.

Fault points (`raises`: the caller raises its error, on every pass once armed):
- `commit_disk_full`: the writer's commit fails as on a full disk (SQLITE_FULL);
- `engine_loop`: the engine loop raises (it dies: the server's supervision takes over).
"""

from __future__ import annotations

import os

__all__ = ["arm", "disarm", "hit", "raises"]

_ARMED = os.environ.get("TERCEL_FAILPOINT", "")
_skip = int(os.environ.get("TERCEL_FAILPOINT_SKIP", "0") or 0)


def hit(name: str) -> None:
    global _skip
    if name != _ARMED:
        return
    if _skip > 0:
        _skip -= 1
        return
    os._exit(137)


def raises(name: str) -> bool:
    """True when the fault point `name` is armed and its skips are used up."""
    global _skip
    if name != _ARMED:
        return False
    if _skip > 0:
        _skip -= 1
        return False
    return True


def arm(name: str, skip: int = 0) -> None:
    """Arm one point in this process (tests); replaces whatever was armed."""
    global _ARMED, _skip
    _ARMED, _skip = name, skip


def disarm() -> None:
    global _ARMED, _skip
    _ARMED, _skip = "", 0
