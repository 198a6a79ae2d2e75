"""Java `DateTimeFormatter` patterns, enough of them for Kestra's `date` filters.

`compile_pattern` turns `yyyy-MM-dd'T'HH:mm` into items; `format_items` prints an aware datetime
with them (English names, as Kestra's default locale); `parse` reads text back with them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from tercel.engine.expressions import errors

__all__ = ["Zone", "compile_pattern", "format_items", "offset_id", "parse"]

MONTHS = (
    "January February March April May June July August September October November December"
).split()
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
_MAX_COUNT = {
    "G": 5, "M": 5, "L": 5, "d": 2, "D": 3, "Q": 5, "q": 5, "E": 5, "e": 5, "c": 5, "a": 1,
    "h": 2, "K": 2, "k": 2, "H": 2, "m": 2, "s": 2, "S": 9, "n": 9, "A": 9, "N": 9, "V": 2,
    "z": 4, "O": 4, "X": 5, "x": 5, "Z": 5, "w": 2, "y": 19, "u": 19, "Y": 19,
}  # fmt: skip
_NUMERIC_PARSE = {"y": "year", "u": "year", "M": "month", "L": "month", "d": "day", "D": "yday"}
_NUMERIC_PARSE |= {"H": "hour", "k": "hour24", "h": "hour12", "K": "hour11", "m": "minute"}
_NUMERIC_PARSE |= {"s": "second", "S": "fraction", "n": "nano"}
_OFFSET_TEXT = r"(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)"

Item = tuple[str, int | str]


@dataclass(frozen=True, slots=True)
class Zone:
    """A Java `ZoneId`: the tzinfo, its id, and whether it is a region (not a fixed offset)."""

    tz: tzinfo
    name: str
    region: bool


#: variable-width fields a parsing pattern may hold (`y`, `u`, zone names): adjacent ones
#: backtrack exponentially on text that does not match
MAX_FLEXIBLE_FIELDS = 3
#: longest date pattern (Java's are a few dozen characters; the cache keeps 256 of them)
MAX_PATTERN = 256


def compile_pattern(pattern: str) -> tuple[Item, ...]:
    if len(pattern) > MAX_PATTERN:
        raise errors.RenderFailure(f"Date pattern is longer than {MAX_PATTERN} characters")
    return _compile_pattern(pattern)


@functools.lru_cache(maxsize=256)
def _compile_pattern(pattern: str) -> tuple[Item, ...]:
    items: list[Item] = []
    index, size = 0, len(pattern)
    while index < size:
        char = pattern[index]
        if char == "'":
            literal, index = _quoted(pattern, index)
            items.append(("'", literal))
        elif char.isascii() and char.isalpha():
            end = index
            while end < size and pattern[end] == char:
                end += 1
            count = end - index
            if char not in _MAX_COUNT:
                raise errors.RenderFailure(f"Unknown pattern letter: {char}")
            if count > _MAX_COUNT[char] or (char == "V" and count != 2):
                raise errors.RenderFailure(f"Too many pattern letters: {char}")
            items.append((char, count))
            index = end
        elif char in "#{}":
            raise errors.RenderFailure(f"Pattern includes reserved character: '{char}'")
        else:
            if char not in "[]":
                items.append(("'", char))
            index += 1
    return tuple(items)


def _quoted(pattern: str, index: int) -> tuple[str, int]:
    if pattern.startswith("''", index):
        return "'", index + 2
    chars: list[str] = []
    cursor = index + 1
    while True:
        if cursor >= len(pattern):
            raise errors.RenderFailure("Pattern ends with an incomplete string literal")
        if pattern[cursor] == "'":
            if pattern.startswith("''", cursor):
                chars.append("'")
                cursor += 2
                continue
            return "".join(chars), cursor + 1
        chars.append(pattern[cursor])
        cursor += 1


def format_items(items: tuple[Item, ...], moment: datetime, zone: Zone) -> str:
    return "".join(
        str(value) if letter == "'" else _field(letter, int(value), moment, zone)
        for letter, value in items
    )


def _pad(number: int, count: int) -> str:
    return f"{number:0{count}d}"


def _name(names: list[str], index: int, count: int) -> str:
    full = names[index]
    return full[:3] if count <= 3 else full if count == 4 else full[0]


def _field(letter: str, count: int, moment: datetime, zone: Zone) -> str:
    handler = _FIELDS.get(letter)
    if handler is not None:
        return handler(moment, count, zone)
    value = _NUMBERS[letter](moment)
    return _pad(value, count)


def _year(moment: datetime, count: int, zone: Zone) -> str:
    return _pad(moment.year % 100, 2) if count == 2 else _pad(moment.year, count)


def _month(moment: datetime, count: int, zone: Zone) -> str:
    if count <= 2:
        return _pad(moment.month, count)
    return _name(MONTHS, moment.month - 1, count)


def _quarter(moment: datetime, count: int, zone: Zone) -> str:
    quarter = (moment.month - 1) // 3 + 1
    if count <= 2:
        return _pad(quarter, count)
    ordinal = ("1st", "2nd", "3rd", "4th")[quarter - 1]
    return {3: f"Q{quarter}", 4: f"{ordinal} quarter"}.get(count, str(quarter))


def _weekday(moment: datetime, count: int, zone: Zone) -> str:
    return _name(DAYS, moment.weekday(), count)


def _local_weekday(moment: datetime, count: int, zone: Zone) -> str:
    if count <= 2:
        return _pad((moment.weekday() + 1) % 7 + 1, count)  # US: Sunday is day 1
    return _name(DAYS, moment.weekday(), count)


def _zone_name(moment: datetime, count: int, zone: Zone) -> str:
    short = moment.tzname() or zone.name
    if short == "UTC" and count == 4:
        return "Coordinated Universal Time"
    return short


def _gmt(moment: datetime, count: int, zone: Zone) -> str:
    seconds = _seconds(moment)
    if seconds == 0:
        return "GMT"
    if count == 4:
        return "GMT" + offset_text(seconds, colon=True, seconds_too=True)
    sign, hours, minutes = (
        ("-" if seconds < 0 else "+"),
        abs(seconds) // 3600,
        abs(seconds) // 60 % 60,
    )
    return f"GMT{sign}{hours}" + (f":{minutes:02d}" if minutes else "")


def _offset(letter: str) -> Callable[[datetime, int, Zone], str]:
    def printer(moment: datetime, count: int, zone: Zone) -> str:
        seconds = _seconds(moment)
        if letter == "Z":
            if count == 4:
                return _gmt(moment, 4, zone)
            if count == 5:
                return "Z" if seconds == 0 else offset_text(seconds, True, True)
            return offset_text(seconds, colon=False, seconds_too=False)
        if seconds == 0 and letter == "X":
            return "Z"
        if count == 1:
            text = offset_text(seconds, colon=False, seconds_too=False)
            return text[:3] if text.endswith("00") else text
        return offset_text(seconds, colon=count in (3, 5), seconds_too=count >= 4)

    return printer


def _seconds(moment: datetime) -> int:
    delta = moment.utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


def offset_text(seconds: int, colon: bool, seconds_too: bool) -> str:
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    glue = ":" if colon else ""
    text = f"{sign}{hours:02d}{glue}{minutes:02d}"
    return text + (f"{glue}{secs:02d}" if seconds_too and secs else "")


def offset_id(moment: datetime) -> str:
    """Java `ZoneOffset.getId()`: `Z` or `+01:00`."""
    seconds = _seconds(moment)
    return "Z" if seconds == 0 else offset_text(seconds, colon=True, seconds_too=True)


def _fraction(moment: datetime, count: int, zone: Zone) -> str:
    return _pad(moment.microsecond * 1000, 9)[:count]


_FIELDS: dict[str, Callable[[datetime, int, Zone], str]] = {
    "G": lambda m, c, z: "AD" if c <= 3 else ("Anno Domini" if c == 4 else "A"),
    "y": _year,
    "u": _year,
    "Y": lambda m, c, z: (
        _pad(m.isocalendar().year % 100, 2) if c == 2 else _pad(m.isocalendar().year, c)
    ),
    "M": _month,
    "L": _month,
    "Q": _quarter,
    "q": _quarter,
    "E": _weekday,
    "e": _local_weekday,
    "c": _local_weekday,
    "a": lambda m, c, z: "AM" if m.hour < 12 else "PM",
    "S": _fraction,
    "V": lambda m, c, z: z.name,
    "z": _zone_name,
    "O": _gmt,
    "X": _offset("X"),
    "x": _offset("x"),
    "Z": _offset("Z"),
}
_NUMBERS: dict[str, Callable[[datetime], int]] = {
    "d": lambda m: m.day,
    "D": lambda m: m.timetuple().tm_yday,
    "h": lambda m: (m.hour % 12) or 12,
    "K": lambda m: m.hour % 12,
    "k": lambda m: m.hour or 24,
    "H": lambda m: m.hour,
    "m": lambda m: m.minute,
    "s": lambda m: m.second,
    "n": lambda m: m.microsecond * 1000,
    "A": lambda m: ((m.hour * 60 + m.minute) * 60 + m.second) * 1000 + m.microsecond // 1000,
    "N": lambda m: (((m.hour * 60 + m.minute) * 60 + m.second) * 10**6 + m.microsecond) * 1000,
    "w": lambda m: m.isocalendar().week,
}


@functools.lru_cache(maxsize=256)
def _parser(items: tuple[Item, ...]) -> tuple[re.Pattern[str], tuple[Item, ...]]:
    parts: list[str] = []
    groups: list[Item] = []
    for letter, value in items:
        if letter == "'":
            parts.append(re.escape(str(value)))
            continue
        count = int(value)
        parts.append(_parse_regex(letter, count))
        groups.append((letter, count))
    flexible = sum(1 for part in parts if part.endswith((",9})", "*)")))
    if flexible > MAX_FLEXIBLE_FIELDS:  # each one multiplies the regex's backtracking
        raise errors.RenderFailure(
            f"Date pattern has more than {MAX_FLEXIBLE_FIELDS} variable-width fields to parse"
        )
    return re.compile("".join(parts)), tuple(groups)


def _parse_regex(letter: str, count: int) -> str:
    if letter in ("M", "L") and count >= 3:
        names = [name if count == 4 else name[:3] for name in MONTHS]
        return "(" + "|".join(names) + ")"
    if letter in ("E", "e", "c") and count >= 3:
        return "(" + "|".join(name if count == 4 else name[:3] for name in DAYS) + ")"
    if letter == "a":
        return "(AM|PM|am|pm)"
    if letter in ("X", "x", "Z"):
        return _OFFSET_TEXT if count < 4 or letter != "Z" else r"(GMT(?:[+-]\d{2}:\d{2})?|Z)"
    if letter in ("V", "z"):
        return r"([A-Za-z][A-Za-z0-9_+\-/]*)"
    if letter not in _NUMERIC_PARSE:
        raise errors.RenderFailure(f"Pattern letter `{letter}` is not supported for parsing")
    if letter in ("S",):
        return rf"(\d{{{count}}})"
    if count == 2 or (count > 2 and letter not in ("y", "u")):
        return rf"(\d{{{count}}})"
    return rf"(\d{{{max(count, 1)},9}})"


def parse(text: str, items: tuple[Item, ...]) -> dict[str, str]:
    """The fields of `text` read with `items`, keyed by pattern letter."""
    regex, groups = _parser(items)
    match = regex.fullmatch(text)
    if match is None:
        raise errors.RenderFailure(f"Text '{text}' could not be parsed with the given pattern")
    fields: dict[str, str] = {}
    for (letter, _count), value in zip(groups, match.groups(), strict=True):
        fields[letter] = value
    return fields
