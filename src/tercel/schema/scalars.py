"""Custom scalars: DateTime (6 fractional digits and Z), Duration (Java style) and JSON.

Fields are annotated with the NewTypes below; `SCALARS` maps them to their definitions
(`StrawberryConfig.scalar_map`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from tercel.engine import durations
from tercel.schema import errors

__all__ = ["JSON", "MAX_DURATION", "SCALARS", "DateTime", "Duration"]

DateTime = NewType("DateTime", datetime)
Duration = NewType("Duration", timedelta)
JSON = NewType("JSON", object)


def _serialize_datetime(value: datetime) -> str:
    return durations.format_instant(value)


def _parse_datetime(value: Any) -> datetime:
    # BadUserInput (a PublicError): a bad argument is the client's to read, never masked.
    if not isinstance(value, str):
        raise errors.BadUserInput(
            "DateTime must be an ISO-8601 string such as 2024-05-04T12:02:54.121836Z"
        )
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise errors.BadUserInput(
            f"invalid DateTime `{value}`: expected ISO-8601 with a zone"
        ) from None
    if parsed.tzinfo is None:
        raise errors.BadUserInput(f"invalid DateTime `{value}`: a zone (Z or +hh:mm) is required")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise errors.BadUserInput(f"invalid DateTime `{value}`: out of range") from None


def _serialize_duration(value: timedelta) -> str:
    return durations.format_duration(value)


#: longest Duration argument (`bucket`, `timeRange`): longer ones overflow dates and SQLite's
#: 64-bit microseconds
MAX_DURATION = timedelta(days=36_500)


def _parse_duration(value: Any) -> timedelta:
    if not isinstance(value, str):
        raise errors.BadUserInput("Duration must be an ISO-8601 string such as PT1M30S")
    try:
        parsed = durations.parse_duration(value)
    except ValueError as error:
        raise errors.BadUserInput(str(error)) from None
    except OverflowError:
        parsed = timedelta.max
    if parsed > MAX_DURATION:
        raise errors.BadUserInput(
            f"Duration `{value[:40]}` is too long: `bucket` and `timeRange` are at most "
            f"P{MAX_DURATION.days}D (100 years)"
        )
    return parsed


def _identity(value: Any) -> Any:
    return value


SCALARS: dict[object, ScalarDefinition] = {
    DateTime: strawberry.scalar(
        name="DateTime",
        description="ISO-8601 instant in UTC, always 6 fractional digits and Z",
        serialize=_serialize_datetime,
        parse_value=_parse_datetime,
    ),
    Duration: strawberry.scalar(
        name="Duration",
        description="ISO-8601 duration, Java style: PT0.205802S, PT1M30S",
        serialize=_serialize_duration,
        parse_value=_parse_duration,
    ),
    JSON: strawberry.scalar(
        name="JSON",
        description="Any JSON value",
        serialize=_identity,
        parse_value=_identity,
    ),
}
