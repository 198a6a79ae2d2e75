"""Dashboard statistics: map state counts per bucket and compute duration percentiles."""

from __future__ import annotations

import math
from datetime import timedelta

from tercel.engine import states
from tercel.schema import streams
from tercel.schema.scalars import DateTime, Duration
from tercel.storage import streams as rows

__all__ = ["percentile", "to_stats"]


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of ascending values (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def _duration(seconds: float | None) -> Duration | None:
    return None if seconds is None else Duration(timedelta(seconds=seconds))


def to_stats(buckets: list[rows.StatsBucket], durations: list[float]) -> streams.ExecutionStats:
    mapped = [
        streams.StatsBucket(
            start=DateTime(b.start),
            counts=[
                streams.StateCount(state=states.StateType(s), count=c)
                for s, c in sorted(b.counts.items())
            ],
            total=sum(b.counts.values()),
        )
        for b in buckets
    ]
    return streams.ExecutionStats(
        buckets=mapped,
        ended=len(durations),
        p50=_duration(percentile(durations, 0.5)),
        p90=_duration(percentile(durations, 0.9)),
        p99=_duration(percentile(durations, 0.99)),
        max=_duration(durations[-1] if durations else None),
    )
