"""Dashboard statistics as GraphQL types, from the read side's `ExecutionStats`."""

from __future__ import annotations

from datetime import timedelta

import strawberry

from tercel.engine import states
from tercel.schema import enums
from tercel.schema.scalars import DateTime, Duration
from tercel.storage.read import stats

__all__ = ["ExecutionStats", "StateCount", "StatsBucket"]


@strawberry.type
class StateCount:
    state: enums.StateType
    count: int


@strawberry.type
class StatsBucket:
    start: DateTime
    counts: list[StateCount]
    total: int

    @classmethod
    def from_read(cls, bucket: stats.StatsBucket) -> StatsBucket:
        counts = [
            StateCount(state=states.StateType(s), count=c) for s, c in sorted(bucket.counts.items())
        ]
        return cls(start=DateTime(bucket.start), counts=counts, total=sum(bucket.counts.values()))


@strawberry.type
class ExecutionStats:
    buckets: list[StatsBucket]
    #: executions that have ended, among those matching the filter
    ended: int
    p50: Duration | None
    p90: Duration | None
    p99: Duration | None
    max: Duration | None

    @classmethod
    def from_read(cls, found: stats.ExecutionStats) -> ExecutionStats:
        return cls(
            buckets=[StatsBucket.from_read(b) for b in found.buckets],
            ended=found.ended,
            p50=_duration(found.p50),
            p90=_duration(found.p90),
            p99=_duration(found.p99),
            max=_duration(found.max),
        )


def _duration(value: timedelta | None) -> Duration | None:
    return None if value is None else Duration(value)
