"""Type rules shared by execution inputs and flow outputs (docs/semantics.md#inputs, #flow-outputs).

Each type turns a given value into a *native* value (`datetime` for DATETIME, `timedelta` for
DURATION, plain JSON data otherwise), which constraints compare, and then into its *stored* form,
which is JSON data. Private: `inputs` is the public surface.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from tercel.engine import durations, files, secretinputs
from tercel.engine.flows import _more_input_types as more

__all__ = ["CoercionError", "from_stored", "parse", "show", "to_stored"]


class CoercionError(ValueError):
    """A value that does not fit its type; `reason` is the middle part of the input message."""

    def __init__(self, reason: str, received: Any) -> None:
        super().__init__(f"{reason}, but received `{show(received)}`")
        self.reason = reason
        self.received = received


def show(value: Any) -> str:
    """A value as the user gave it: strings as they are, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return durations.format_instant(value) if value.tzinfo else value.isoformat()
    if isinstance(value, timedelta):
        return durations.format_duration(value)
    if isinstance(value, date | time):
        return value.isoformat()
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    except (ValueError, RecursionError):
        return str(value)


_INT_RE = re.compile(r"[+-]?[0-9]+")
_FLOAT_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DATETIME_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?"
    r"(?:[Zz]|([+-])([0-9]{2})(?::?([0-9]{2}))?)"
)


def _string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return json.dumps(value)
    raise CoercionError("expected STRING", value)


def _int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INT_RE.fullmatch(value):
        try:
            return int(value)
        except ValueError:  # beyond Python's digit limit for str -> int
            pass
    raise CoercionError("expected INT", value)


def _float(value: Any) -> float:
    number: float | None = None
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str) and _FLOAT_RE.fullmatch(value):
            number = float(value)
    except OverflowError:
        number = None
    if number is None or not math.isfinite(number):
        raise CoercionError("expected FLOAT", value)
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    # Kestra's Boolean.valueOf turns any other string into false; Tercel refuses it.
    raise CoercionError("expected BOOLEAN", value)


def _datetime(value: Any) -> datetime:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    match = _DATETIME_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise CoercionError("expected DATETIME", value)
    year, month, day, hour, minute, second, fraction, sign, off_h, off_m = match.groups()
    try:
        offset = timedelta(hours=int(off_h or 0), minutes=int(off_m or 0))
        zone = timezone(-offset if sign == "-" else offset)
        micros = int((fraction or "0")[:6].ljust(6, "0"))
        fields = (int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
        return datetime(*fields, micros, tzinfo=zone).astimezone(UTC)
    except (ValueError, OverflowError):
        raise CoercionError("expected DATETIME", value) from None


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta) and value >= timedelta(0):
        return value
    if isinstance(value, str):
        try:
            return durations.parse_duration(value)
        except (ValueError, OverflowError):  # OverflowError: beyond timedelta's range
            pass
    raise CoercionError("expected DURATION", value)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json(value: Any, *, as_text: bool) -> Any:
    try:
        if as_text and isinstance(value, str | bytes):
            return json.loads(value, parse_constant=_reject_constant)
        # A copy through JSON both checks the value and detaches it from the caller's objects.
        text = json.dumps(value, allow_nan=False, ensure_ascii=False, default=_not_json)
        return json.loads(text)
    except (ValueError, TypeError, RecursionError):
        raise CoercionError("expected JSON", value) from None


def _not_json(value: Any) -> Any:
    if isinstance(value, datetime | timedelta):
        return show(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _array(value: Any, item_type: str | None) -> list[Any]:
    items: Any = value
    if isinstance(value, str):
        try:
            items = json.loads(value, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            raise CoercionError("expected ARRAY", value) from None
    if not isinstance(items, list | tuple):
        raise CoercionError("expected ARRAY", value)
    if item_type is None:
        return [_json(item, as_text=False) for item in items]
    # Elements are values, not text: a JSON element "a" stays the string "a".
    return [to_stored(parse(item_type, item, as_text=False)) for item in items]


def _file(value: Any) -> str:
    """A FILE input is its internal-storage URI (docs/semantics.md#files)."""
    try:
        files.segments(value)
    except files.FileRefused:
        raise CoercionError("expected FILE (a kestra:/// URI)", value) from None
    return str(value)


_SCALARS: dict[str, Callable[[Any], Any]] = {
    "STRING": _string,
    "INT": _int,
    "FLOAT": _float,
    "BOOLEAN": _boolean,
    "BOOL": _boolean,
    "DATETIME": _datetime,
    "DURATION": _duration,
    "FILE": _file,
}


def parse(type_name: str, value: Any, *, item_type: str | None = None, as_text: bool = True) -> Any:
    """The native value of `value` for `type_name`, or CoercionError (never None)."""
    kind = type_name.upper()
    if kind == "JSON":
        return _json(value, as_text=as_text)
    if kind == "ARRAY":
        return _array(value, item_type.upper() if item_type else None)
    if kind in more.TYPES:
        return _more(kind, value, item_type)
    parser = _SCALARS.get(kind)
    if parser is None:
        raise CoercionError(f"input type `{type_name}` is not supported", value)
    return parser(value)


def _more(kind: str, value: Any, item_type: str | None) -> Any:
    try:
        native = more.parse_more(kind, value)
    except ValueError as error:
        raise CoercionError(getattr(error, "reason", f"expected {kind}"), value) from None
    if kind != "MULTISELECT":
        return native
    element = (item_type or "STRING").upper()
    return [to_stored(parse(element, item, as_text=False)) for item in native]


def to_stored(native: Any) -> Any:
    """The JSON form of a native value (DATETIME and DURATION become strings)."""
    if isinstance(native, datetime):
        return durations.format_instant(native)
    if isinstance(native, timedelta):
        return durations.format_duration(native)
    if isinstance(native, date | time):  # DATE, TIME: Java's LocalDate/LocalTime text
        return native.isoformat()
    return native


def from_stored(type_name: str, stored: Any, *, item_type: str | None = None) -> Any:
    """The expression form of a stored value: DATETIME strings become aware UTC datetimes."""
    kind = type_name.upper()
    if kind == "DATETIME" and isinstance(stored, str):
        try:
            return _datetime(stored)
        except CoercionError:  # not written by `to_stored`: leave it as it is
            return stored
    if kind == "SECRET":
        return secretinputs.reveal(stored)
    if kind in ("ARRAY", "MULTISELECT") and item_type and isinstance(stored, list):
        return [from_stored(item_type, item) for item in stored]
    return stored
