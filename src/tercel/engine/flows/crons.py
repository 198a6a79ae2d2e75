"""Cron expressions of Schedule triggers, read the way Kestra reads them.

Kestra (cron-utils) takes five fields (minute hour day-of-month month day-of-week) or, with
`withSeconds: true`, six with the **seconds first**; the nicknames `@yearly` … `@hourly`; day of
week 0-7 with 7 = Sunday; dates are computed in the trigger's IANA time zone and truncated to
the second. The arithmetic is croniter's (a maintained, pure-Python library whose
`second_at_beginning` option is exactly Kestra's ordering); this module only pins the field count
and the zone so that a 6-field cron without `withSeconds` is refused instead of being read with
the seconds last.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

__all__ = ["Cron", "cron_problem", "zone_problem"]

NICKNAMES = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)
_ONE_SECOND = timedelta(seconds=1)
_ONE_MICROSECOND = timedelta(microseconds=1)
_NICKNAME_CRON = {"@midnight": "0 0 * * *", "@annually": "0 0 1 1 *"}


def cron_problem(expression: str, with_seconds: bool) -> str | None:
    """Why `expression` is not a valid cron for this setting, or None."""
    text = expression.strip()
    if text.lower() in NICKNAMES:
        return None
    wanted = 6 if with_seconds else 5
    count = len(text.split())
    if count != wanted:
        hint = (
            " (seconds first, as in Kestra)"
            if with_seconds
            else (" (6 fields need `withSeconds: true`)" if count == 6 else "")
        )
        return f"invalid cron `{expression}`: expected {wanted} fields, got {count}{hint}"
    if not croniter.is_valid(text, second_at_beginning=with_seconds):
        return f"invalid cron `{expression}`"
    return None


def zone_problem(name: str) -> str | None:
    """Why `name` is not an IANA time zone, or None."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone `{name}` (expected an IANA name such as `Europe/Paris`)"
    return None


@dataclass(frozen=True, slots=True)
class Cron:
    """A validated cron and its zone; every instant in and out is UTC-aware."""

    expression: str
    with_seconds: bool = False
    timezone: str = "UTC"

    def _iterator(self, start: datetime) -> croniter:
        text = self.expression.strip()
        text = _NICKNAME_CRON.get(text.lower(), text)
        local = start.astimezone(ZoneInfo(self.timezone))
        return croniter(text, local, second_at_beginning=self.with_seconds)

    def next_after(self, instant: datetime) -> datetime:
        """The first date strictly after `instant`."""
        found: datetime = self._iterator(instant.replace(microsecond=0)).get_next(datetime)
        return found.astimezone(UTC)

    def previous_before(self, instant: datetime) -> datetime:
        """The last date strictly before `instant`."""
        start = instant
        if start.microsecond:
            start = start.replace(microsecond=0) + _ONE_SECOND
        found: datetime = self._iterator(start).get_prev(datetime)
        return found.astimezone(UTC)

    def dates_between(self, start: datetime, end: datetime, limit: int) -> list[datetime]:
        """The dates in [start, end], oldest first, at most `limit` of them."""
        found: list[datetime] = []
        date = self.next_after(start - _ONE_MICROSECOND)
        while date <= end and len(found) < limit:
            found.append(date)
            date = self.next_after(date)
        return found
