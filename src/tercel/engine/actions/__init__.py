"""The reactions that change an execution: the pass (dispatch, derive), attempt results and
timers, subflows, and the lifecycle commands (kill, resume, restart, replay, delete)."""

from __future__ import annotations
