"""Retry decisions (semantics.md#retries): which policy applies and when the next attempt runs.

Pure: dates are passed in.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from tercel.engine import model

__all__ = ["next_date", "policy_for"]


def policy_for(
    task: model.TaskDef, ancestors: list[model.TaskDef], flow: model.Flow
) -> model.RetryPolicy | None:
    """The task's own policy, else the nearest ancestor task's, else the flow's."""
    for candidate in (task, *ancestors):
        if candidate.retry is not None:
            return candidate.retry
    return flow.retry


def next_date(
    policy: model.RetryPolicy, attempts_made: int, base: datetime, first_start: datetime
) -> datetime | None:
    """When the next attempt runs, or None when the policy is exhausted (semantics.md#retries)."""
    if policy.max_attempt is not None and attempts_made >= policy.max_attempt:
        return None
    due = base + delay(policy, attempts_made)
    if policy.max_duration is not None and due > first_start + policy.max_duration:
        return None
    return due


def delay(policy: model.RetryPolicy, attempts_made: int) -> timedelta:
    zero = timedelta(0)
    if policy.type == "constant":
        return policy.interval or zero
    if policy.type == "exponential":
        factor = int(policy.delay_factor) if policy.delay_factor else 2
        grown = (policy.interval or zero) * factor * (attempts_made - 1)
        return min(grown, policy.max_interval) if policy.max_interval is not None else grown
    low = int((policy.min_interval or zero) / timedelta(milliseconds=1))
    high = int((policy.max_interval or zero) / timedelta(milliseconds=1))
    return timedelta(milliseconds=low + (secrets.randbelow(high - low) if high > low else 0))
