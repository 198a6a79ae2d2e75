"""Row <-> value helpers shared by the writer and the readers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from tercel import clock

__all__ = ["dumps", "loads", "micros", "micros_or_none"]


def dumps(value: Any) -> str | None:
    if value is None:
        return None
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def loads(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def micros(value: datetime) -> int:
    return clock.to_micros(value)


def micros_or_none(value: datetime | None) -> int | None:
    return None if value is None else clock.to_micros(value)
