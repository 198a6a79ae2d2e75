"""How values become text (docs/semantics.md#expression-values) and compact JSON.

A string renders as itself, an int as digits, a float as its shortest repr with a decimal point,
a bool as `true`/`false`, null as the empty string, a map or list as compact JSON (insertion
order, UTF-8 kept, nested instants as strings) and an instant as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from jinja2 import Undefined

from tercel.engine.expressions import errors, guard

__all__ = ["format_float", "format_instant", "measure", "to_json", "to_text"]


def to_text(value: Any) -> str:
    """The text of a value (docs/semantics.md#expression-values); an undefined value raises
    `UndefinedUse`."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return _int_text(value)
    if kind is float:
        return format_float(value)
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, (Mapping, list, tuple)):
        return to_json(value)
    return _other_text(value)


def _other_text(value: Any) -> str:
    if isinstance(value, Undefined):
        raise errors.UndefinedUse(value._undefined_name)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return _int_text(int(value))
    if isinstance(value, float):
        return format_float(float(value))
    if isinstance(value, date):
        return value.isoformat()
    raise errors.RenderFailure(f"Cannot render a value of type {type(value).__name__}")


def _int_text(value: int) -> str:
    try:
        return str(value)
    except ValueError as error:  # more digits than Python converts
        raise errors.RenderFailure("Integer is too large to render") from error


def format_float(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        return f"{mantissa}E{int(exponent)}"
    return text


def format_instant(value: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SS.mmmZ` in UTC, milliseconds truncated (naive values count as UTC)."""
    if value.tzinfo is not None:
        if value.utcoffset():
            value = value.astimezone(UTC)
        value = value.replace(tzinfo=None)
    return value.isoformat(timespec="milliseconds") + "Z"


def to_json(value: Any) -> str:
    """Compact JSON: `(",", ":")` separators, insertion order, non-ASCII kept, instants as text."""
    if isinstance(value, (Mapping, list, tuple)):
        measure(value, guard.MAX_OUTPUT)
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    except ValueError as error:
        if "Circular reference" in str(error):
            raise errors.RenderFailure("Cannot render a value that contains itself") from error
        raise errors.RenderFailure(str(error)) from error


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, Undefined):
        raise errors.UndefinedUse(value._undefined_name)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, date):
        return value.isoformat()
    raise errors.RenderFailure(f"Cannot render a value of type {type(value).__name__}")


def measure(value: Any, budget: int) -> int:
    """Approximate JSON size of `value`; raises once it exceeds `budget` characters.

    Walking first keeps `[s, s, s, ...]` (many references to one large string) from being
    serialised into gigabytes before the size cap could see it.
    """
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str:
            total += len(item) + 3
        elif kind is dict or isinstance(item, Mapping):
            total += 2 + len(item)
            for key, child in item.items():
                total += len(key) + 3 if type(key) is str else 8
                stack.append(child)
        elif kind is list or kind is tuple:
            total += 2 + len(item)
            if len(item) > 64 and set(map(type, item)) == {str}:
                total += sum(map(len, item)) + 3 * len(item)  # in C: a split's long list
            else:
                stack.extend(item)
        elif kind is int:
            total += item.bit_length() // 3 + 1
        else:
            total += 8
        if total > budget:
            raise errors.RenderFailure(f"Value is larger than {budget} characters once rendered")
    return total
