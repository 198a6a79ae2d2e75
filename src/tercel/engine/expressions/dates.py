"""`date`, `dateAdd` and `timestamp` filters and the `now()` function (Kestra's AbstractDate).

Input: an instant, epoch seconds, or a string (ISO zoned, else local date-time, else date; or
read with `existingFormat`). Output: `format` (Java pattern letters or a name such as `iso`) in
`timeZone` (default UTC).
"""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tercel.engine.expressions import errors, javatime

__all__ = ["FILTERS", "convert", "date_filter", "now", "zone"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: longest time-zone ID (the longest IANA name has 32 characters)
MAX_ZONE_NAME = 64
UTC_ZONE = javatime.Zone(UTC, "UTC", True)
_PATTERNS = {
    "iso": "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
    "iso_sec": "yyyy-MM-dd'T'HH:mm:ssXXX",
    "sql": "yyyy-MM-dd HH:mm:ss.SSSSSS",
    "sql_seq": "yyyy-MM-dd HH:mm:ss",
    "short": "M/d/yy, h:mm a",
    "medium": "MMM d, y, h:mm:ss a",
    "long": "MMMM d, y 'at' h:mm:ss a z",
    "full": "EEEE, MMMM d, y 'at' h:mm:ss a zzzz",
}
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)?"
    r"(?:\[([^\]]+)\])?"
)
_OFFSET = re.compile(r"([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?")
_TIME_UNITS = {
    "NANOS": timedelta(0),  # whole microseconds only: see _plus
    "MICROS": timedelta(microseconds=1),
    "MILLIS": timedelta(milliseconds=1),
    "SECONDS": timedelta(seconds=1),
    "MINUTES": timedelta(minutes=1),
    "HOURS": timedelta(hours=1),
    "HALF_DAYS": timedelta(hours=12),
}
_DAY_UNITS = {"DAYS": 1, "WEEKS": 7}
_MONTH_UNITS = {"MONTHS": 1, "YEARS": 12, "DECADES": 120, "CENTURIES": 1200, "MILLENNIA": 12000}


def zone(name: Any) -> javatime.Zone:
    """Java `ZoneId.of`: `UTC`, `Z`, `+01:00`, `GMT+1`, `Europe/Paris`…"""
    if name is None:
        return UTC_ZONE
    if not isinstance(name, str):
        raise errors.RenderFailure("timeZone must be a string")
    if len(name) > MAX_ZONE_NAME:
        raise errors.RenderFailure(f"timeZone is longer than {MAX_ZONE_NAME} characters")
    return _zone(name)


@functools.lru_cache(maxsize=128)
def _zone(name: str) -> javatime.Zone:
    if name == "UTC":
        return UTC_ZONE
    if name == "Z":
        return javatime.Zone(UTC, "Z", False)
    for prefix in ("UTC", "GMT", "UT", ""):
        rest = name[len(prefix) :] if name.startswith(prefix) else None
        if rest is None or not rest:
            continue
        match = _OFFSET.fullmatch(rest)
        if match:
            return _offset_zone(prefix, match)
    if name in ("GMT", "UT"):
        return javatime.Zone(UTC, name, True)
    try:
        return javatime.Zone(ZoneInfo(name), name, True)
    except (ZoneInfoNotFoundError, ValueError):
        raise errors.RenderFailure(f"Unknown time-zone ID: {name}") from None


def _offset_zone(prefix: str, match: re.Match[str]) -> javatime.Zone:
    sign, hours, minutes, seconds = match.groups()
    total = int(hours) * 3600 + int(minutes or 0) * 60 + int(seconds or 0)
    if total > 18 * 3600:
        raise errors.RenderFailure("Zone offset not in valid range: -18:00 to +18:00")
    total = -total if sign == "-" else total
    text = javatime.offset_text(total, colon=True, seconds_too=True) if total else "Z"
    name = (prefix + (text if total else "")) if prefix else text
    return javatime.Zone(timezone(timedelta(seconds=total)), name, bool(prefix))


def convert(value: Any, where: javatime.Zone, existing_format: str | None = None) -> datetime:
    """The aware datetime a date filter works on."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=where.tz)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, 12, tzinfo=where.tz)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return EPOCH + timedelta(seconds=value)
        except OverflowError:
            raise errors.RenderFailure(f"Epoch seconds out of range: {value}") from None
    if not isinstance(value, str):
        raise errors.RenderFailure(f"Cannot read a date from a {type(value).__name__}")
    try:
        if existing_format is not None:
            return _from_pattern(value, existing_format, where)
        return _from_iso(value, where)
    except ValueError as error:
        raise errors.RenderFailure(f"Text '{value}' could not be parsed: {error}") from None


def _from_iso(text: str, where: javatime.Zone) -> datetime:
    match = _ISO.fullmatch(text)
    if match is None or (match.group(4) is None and (match.group(8) or match.group(9))):
        raise errors.RenderFailure(f"Text '{text}' could not be parsed as an ISO date")
    year, month, day, hour, minute, second, fraction, offset, region = match.groups()
    local = datetime(
        int(year),
        int(month),
        int(day),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        int((fraction or "0").ljust(6, "0")[:6]),
    )
    if offset:
        moment = local.replace(tzinfo=zone(offset).tz)
        return moment.astimezone(zone(region).tz) if region else moment
    return local.replace(tzinfo=zone(region).tz if region else where.tz)


def _from_pattern(text: str, pattern: str, where: javatime.Zone) -> datetime:
    fields = javatime.parse(text, javatime.compile_pattern(_PATTERNS.get(pattern, pattern)))
    year = int(fields.get("y") or fields.get("u") or 0)
    if len(fields.get("y") or fields.get("u") or "") == 2:
        year += 2000
    if "D" in fields and "M" not in fields:
        day = datetime(year, 1, 1) + timedelta(days=int(fields["D"]) - 1)
        month, day_of_month = day.month, day.day
    elif not year or ("M" not in fields and "L" not in fields) or "d" not in fields:
        raise errors.RenderFailure(f"Text '{text}' does not contain a full date")
    else:
        month, day_of_month = _month(fields.get("M") or fields["L"]), int(fields["d"])
    local = datetime(year, month, day_of_month, _hour(fields), int(fields.get("m", 0)))
    local = local.replace(second=int(fields.get("s", 0)), microsecond=_micros(fields))
    for letter in ("X", "x", "Z"):
        if letter in fields:
            return local.replace(tzinfo=zone(fields[letter].replace("GMT", "") or "Z").tz)
    named = fields.get("V") or fields.get("z")
    return local.replace(tzinfo=zone(named).tz if named else where.tz)


def _month(text: str) -> int:
    if text.isdigit():
        return int(text)
    return [name[: len(text)] for name in javatime.MONTHS].index(text) + 1


def _hour(fields: dict[str, str]) -> int:
    if "H" in fields:
        return int(fields["H"])
    if "k" in fields:
        return int(fields["k"]) % 24
    base = int(fields.get("h", fields.get("K", 0))) % 12
    return base + (12 if fields.get("a", "AM").upper() == "PM" else 0)


def _micros(fields: dict[str, str]) -> int:
    if "S" in fields:
        return int(fields["S"].ljust(6, "0")[:6])
    return int(fields.get("n", 0)) // 1000


def render(moment: datetime, fmt: Any, where: javatime.Zone) -> str:
    if not isinstance(fmt, str):
        raise errors.RenderFailure("format must be a string")
    local = moment.astimezone(where.tz)
    named = _NAMED.get(fmt)
    if named is not None:
        return named(local, where)
    return javatime.format_items(javatime.compile_pattern(_PATTERNS.get(fmt, fmt)), local, where)


def _time(moment: datetime) -> str:
    text = f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    if moment.microsecond:
        text += "." + f"{moment.microsecond:06d}".rstrip("0")
    return text


def _day(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"


def _instant(moment: datetime, _: javatime.Zone) -> str:
    utc = moment.astimezone(UTC)
    micros = utc.microsecond
    fraction = (
        "" if not micros else f".{micros // 1000:03d}" if micros % 1000 == 0 else f".{micros:06d}"
    )
    return f"{_day(utc)}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}{fraction}Z"


def _zoned(moment: datetime, where: javatime.Zone) -> str:
    suffix = f"[{where.name}]" if where.region else ""
    return f"{_day(moment)}T{_time(moment)}{javatime.offset_id(moment)}{suffix}"


def _rfc_1123(moment: datetime, _: javatime.Zone) -> str:
    offset = javatime.offset_id(moment)
    offset = "GMT" if offset == "Z" else offset.replace(":", "")
    day, month = javatime.DAYS[moment.weekday()][:3], javatime.MONTHS[moment.month - 1][:3]
    return f"{day}, {moment.day} {month} {moment.year} {moment:%H:%M:%S} {offset}"


_NAMED: dict[str, Callable[[datetime, javatime.Zone], str]] = {
    "iso_date_time": _zoned,
    "iso_zoned_date_time": _zoned,
    "iso_date": lambda m, z: _day(m) + javatime.offset_id(m),
    "iso_time": lambda m, z: _time(m) + javatime.offset_id(m),
    "iso_offset_time": lambda m, z: _time(m) + javatime.offset_id(m),
    "iso_local_date": lambda m, z: _day(m),
    "iso_local_time": lambda m, z: _time(m),
    "iso_local_date_time": lambda m, z: f"{_day(m)}T{_time(m)}",
    "iso_instant": _instant,
    "iso_ordinal_date": lambda m, z: (
        f"{m.year:04d}-{m.timetuple().tm_yday:03d}" + javatime.offset_id(m)
    ),
    "iso_week_date": lambda m, z: (
        "{:04d}-W{:02d}-{}".format(*m.isocalendar()) + javatime.offset_id(m)
    ),
    "rfc_1123_date_time": _rfc_1123,
}


def date_filter(
    value: Any,
    format: Any = "iso",
    timeZone: Any = None,
    existingFormat: Any = None,
    locale: Any = None,
) -> Any:
    if value is None:
        return None
    where = zone(timeZone)
    return render(convert(value, where, existingFormat), format, where)


def now(
    format: Any = "iso",
    timeZone: Any = None,
    existingFormat: Any = None,
    locale: Any = None,
) -> str:
    return render(datetime.now(UTC), format, zone(timeZone))


def timestamp(value: Any, timeZone: Any = None, existingFormat: Any = None) -> Any:
    if value is None:
        return None
    moment = convert(value, zone(timeZone), existingFormat)
    return (moment - EPOCH) // timedelta(seconds=1)


def date_add(
    value: Any,
    amount: Any,
    unit: Any,
    format: Any = "iso",
    timeZone: Any = None,
    existingFormat: Any = None,
    locale: Any = None,
) -> Any:
    if value is None:
        return None
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise errors.RenderFailure("The `dateAdd` filter expects an integer amount")
    where = zone(timeZone)
    moment = convert(value, where, existingFormat)
    try:
        return render(_plus(moment.astimezone(where.tz), amount, unit, where), format, where)
    except (OverflowError, ValueError):
        raise errors.RenderFailure("Date out of range after `dateAdd`") from None


def _plus(moment: datetime, amount: int, unit: Any, where: javatime.Zone) -> datetime:
    if unit in _TIME_UNITS:
        step = _TIME_UNITS[unit]
        utc = moment.astimezone(UTC)
        shifted = utc + (
            timedelta(microseconds=amount // 1000) if unit == "NANOS" else step * amount
        )
        return shifted.astimezone(where.tz)
    local = moment.replace(tzinfo=None)
    if unit in _DAY_UNITS:
        return (local + timedelta(days=amount * _DAY_UNITS[unit])).replace(tzinfo=where.tz)
    if unit in _MONTH_UNITS:
        months = local.year * 12 + local.month - 1 + amount * _MONTH_UNITS[unit]
        year, month = divmod(months, 12)
        day = min(local.day, calendar.monthrange(year, month + 1)[1])
        return local.replace(year=year, month=month + 1, day=day, tzinfo=where.tz)
    raise errors.RenderFailure(f"Unknown unit `{unit}`: expected a ChronoUnit such as DAYS")


FILTERS: dict[str, Callable[..., Any]] = {
    "date": date_filter,
    "dateAdd": date_add,
    "timestamp": timestamp,
}
