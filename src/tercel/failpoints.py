"""Named fail points for crash tests: the process dies (`os._exit(137)`, like SIGKILL) at an
exact moment of the engine's protocol.

Armed only by the environment: `TERCEL_FAILPOINT=<name>` and optionally
`TERCEL_FAILPOINT_SKIP=<n>` (pass the point n times first). Unarmed, `hit` is one comparison.

Points:
- `after_attempt_commit`: an attempt row is committed, its task body has not started;
- `before_result_commit`: a task body returned, its result is not committed yet.
"""

from __future__ import annotations

import os

__all__ = ["hit"]

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
