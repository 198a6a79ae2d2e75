"""Dashboard statistics: executions by state per start-date bucket, and duration percentiles
of the ended ones (nearest rank)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, select

from tercel import clock
from tercel.storage import tables
from tercel.storage.read import connection, filters

__all__ = ["ExecutionStats", "StatsBucket", "execution_stats", "percentile"]

E = tables.table(tables.ExecutionTable)


@dataclass(frozen=True, slots=True)
class StatsBucket:
    start: datetime
    counts: dict[str, int]  #: state -> executions started in the bucket


@dataclass(frozen=True, slots=True)
class ExecutionStats:
    """What the dashboard shows for the executions matching a filter."""

    buckets: list[StatsBucket]
    #: executions that have ended, among those matching the filter
    ended: int
    p50: timedelta | None
    p90: timedelta | None
    p99: timedelta | None
    max: timedelta | None


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of ascending values (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def _duration(seconds: float | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=seconds)


async def execution_stats(
    db: connection.Reader, flt: filters.ExecutionFilter, bucket: timedelta
) -> ExecutionStats:
    """Counts by state per start-date bucket, and duration percentiles of the ended runs."""
    width = max(1, int(bucket.total_seconds() * 1_000_000))
    start = (E.c.start_date // width) * width
    counted = (
        select(start.label("b"), E.c.state_current, func.count())
        .where(*flt.where())
        .group_by("b", E.c.state_current)
        .order_by("b")
    )
    buckets: dict[int, dict[str, int]] = {}
    ended = case((E.c.end_date.is_not(None), E.c.end_date - E.c.start_date))
    # a PAUSED execution has an end date (Kestra's rule) but has not ended: its time until the
    # pause is no duration of the flow
    over = and_(*flt.where(), E.c.end_date.is_not(None), E.c.state_current != "PAUSED")
    durations_q = select(ended).where(over).order_by(ended)
    for b, state, count in await db.rows(counted):
        buckets.setdefault(int(b), {})[state] = int(count)
    durations = [int(d) / 1e6 for (d,) in await db.rows(durations_q)]
    found = [StatsBucket(clock.from_micros(b), counts) for b, counts in sorted(buckets.items())]
    return ExecutionStats(
        buckets=found,
        ended=len(durations),
        p50=_duration(percentile(durations, 0.5)),
        p90=_duration(percentile(durations, 0.9)),
        p99=_duration(percentile(durations, 0.99)),
        max=_duration(durations[-1] if durations else None),
    )
