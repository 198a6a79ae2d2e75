"""Row <-> value helpers shared by the writer and the readers."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import orjson

from tercel import clock

__all__ = ["dumps", "exact_loads", "loads", "micros", "micros_or_none"]

#: a run of digits long enough to be an integer beyond 64 bits (19 digits reach 10**18)
_LONG_DIGITS = re.compile(rb"\d{19}")


def dumps(value: Any) -> str | None:
    if value is None:
        return None
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def loads(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def exact_loads(data: str | bytes) -> Any:
    """Decode JSON text keeping every integer exact. orjson reads an integer beyond 64 bits as
    a float (silently losing digits); such text is decoded again by the standard library, so
    the value can be refused by name (`engine.storable`) instead of stored wrong."""
    decoded = orjson.loads(data)
    raw = data.encode() if isinstance(data, str) else data
    if _LONG_DIGITS.search(raw) is None:
        return decoded
    try:
        return json.loads(raw)
    except RecursionError:  # deeper than the standard parser goes: orjson's reading stands
        return decoded


def micros(value: datetime) -> int:
    return clock.to_micros(value)


def micros_or_none(value: datetime | None) -> int | None:
    return None if value is None else clock.to_micros(value)
