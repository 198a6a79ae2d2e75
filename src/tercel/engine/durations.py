"""ISO-8601 durations and instants in the forms Kestra writes them.

Durations print as Java's `Duration.toString` (`PT0.205802S`, `PT1M30S`, `PT48H`); parsing accepts
`PnDTnHnMn.nS` case-insensitively (days allowed; years, months, weeks and negatives refused).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

__all__ = [
    "format_clock",
    "format_duration",
    "format_instant",
    "format_instant_millis",
    "parse_duration",
]

_DURATION_RE = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?=\d)(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(text: str) -> timedelta:
    """Parse an ISO-8601 duration; raises ValueError naming the text when it is not one."""
    match = _DURATION_RE.match(text.strip().upper())
    if not match or text.strip().upper() in ("P", "PT"):
        raise ValueError(f"invalid duration `{text}`: expected ISO-8601 like PT1M30S")
    parts = {key: Decimal(value) for key, value in match.groupdict().items() if value}
    micros = (
        parts.get("d", Decimal(0)) * 86_400_000_000
        + parts.get("h", Decimal(0)) * 3_600_000_000
        + parts.get("m", Decimal(0)) * 60_000_000
        + parts.get("s", Decimal(0)) * 1_000_000
    )
    return timedelta(microseconds=int(micros))


def format_duration(value: timedelta) -> str:
    """Java `Duration.toString` form; zero is `PT0S`, negatives are clamped to zero."""
    micros = max(0, (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds)
    if micros == 0:
        return "PT0S"
    hours, rest = divmod(micros, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    seconds, fraction = divmod(rest, 1_000_000)
    text = "PT"
    if hours:
        text += f"{hours}H"
    if minutes:
        text += f"{minutes}M"
    if seconds or fraction:
        text += str(seconds)
        if fraction:
            text += "." + f"{fraction:06d}".rstrip("0")
        text += "S"
    return text


def format_clock(value: timedelta) -> str:
    """`H:mm:ss.SSS`, as in `Flow completed with state SUCCESS in 0:00:00.123`."""
    millis = max(0, int(value.total_seconds() * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def format_instant(value: datetime) -> str:
    """JSON form: `YYYY-MM-DDTHH:MM:SS.ffffffZ`, always six digits."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    # isoformat is the fastest formatter (a list page formats tens of thousands of instants)
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def format_instant_millis(value: datetime) -> str:
    """Expression form: milliseconds, truncated, always three digits."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
