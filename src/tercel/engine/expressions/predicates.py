"""Tests (docs/semantics.md#expression-functions): `x is defined`, `x is null`, `x is empty`,
`x is json`, and the rest."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import Undefined

from tercel.engine.expressions import errors, filters

__all__ = ["TESTS", "defined", "resolved"]


def defined(value: Any) -> bool:
    """The path resolves to a non-null value (also the `??` test)."""
    return value is not None and not isinstance(value, Undefined)


def resolved(value: Any) -> bool:
    """The path resolves, possibly to null (the `???` test)."""
    return not isinstance(value, Undefined)


def null(value: Any) -> bool:
    return value is None


def empty(value: Any) -> bool:
    return filters.is_empty(value)


def is_json(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


def even(value: Any) -> bool:
    return _integer(value, "even") % 2 == 0


def odd(value: Any) -> bool:
    return _integer(value, "odd") % 2 == 1


def _integer(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise errors.RenderFailure(f"The `{name}` test expects a number")
    return int(value)


def iterable(value: Any) -> bool:
    return isinstance(value, (list, tuple))


def is_map(value: Any) -> bool:
    return isinstance(value, Mapping)


TESTS: dict[str, Callable[..., Any]] = {
    "null": null,
    "empty": empty,
    "json": is_json,
    "even": even,
    "odd": odd,
    "iterable": iterable,
    "map": is_map,
}
