"""Collection and conversion filters of §19.6, plus the helpers behind `~` and `contains`."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import Undefined

from tercel.engine.expressions import errors, guard, jqrun, sandbox, strings, values

__all__ = ["FILTERS", "concat", "contains", "default", "is_empty"]

_NO_DEFAULT = object()


def is_empty(value: Any) -> bool:
    """Pebble's `empty`: null, a blank string, an empty list or map."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, (list, tuple, Mapping)):
        return len(value) == 0
    return False


def default(value: Any, default: Any = None) -> Any:
    if isinstance(value, Undefined) or is_empty(value):
        return default
    return value


def jq(value: Any, expression: str) -> Any:
    if value is None:
        return None
    if not isinstance(expression, str):
        raise errors.RenderFailure("The `jq` filter expects a string expression")
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError as error:
            raise errors.RenderFailure(f"Unable to parse jq input as JSON: {error}") from None
        text = value
    else:
        text = values.to_json(value)
    return jqrun.run(expression, text)


def first(value: Any) -> Any:
    return _end(value, 0, "first")


def last(value: Any) -> Any:
    return _end(value, -1, "last")


def _end(value: Any, index: int, name: str) -> Any:
    if value is None:
        return None
    if isinstance(value, (str, list, tuple)):
        return value[index] if value else None
    raise errors.RenderFailure(f"The `{name}` filter expects a list or a string")


def length(value: Any) -> int:
    if isinstance(value, (str, list, tuple, Mapping)):
        return len(value)
    return 0


def join(value: Any, separator: Any = None) -> Any:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)):
        raise errors.RenderFailure("The `join` filter expects a list")
    glue = "" if separator is None else values.to_text(separator)
    texts = [values.to_text(item) for item in value]
    guard.check_text_size(sum(map(len, texts)) + len(glue) * max(len(texts) - 1, 0))
    return glue.join(texts)


def keys(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return list(value.keys())
    raise errors.RenderFailure("The `keys` filter expects a map")


def values_(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return list(value.values())
    raise errors.RenderFailure("The `values` filter expects a map")


def to_json(value: Any) -> str:
    return values.to_json(value)


def abs_(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return abs(value)
    raise errors.RenderFailure("The `abs` filter expects a number")


def slice_(value: Any, fromIndex: Any = 0, toIndex: Any = None) -> Any:
    if value is None:
        return None
    if not isinstance(value, (str, list, tuple)):
        raise errors.RenderFailure("The `slice` filter expects a list or a string")
    start = 0 if fromIndex is None else _integer(fromIndex, "fromIndex")
    end = len(value) if toIndex is None else _integer(toIndex, "toIndex")
    if start < 0:
        raise errors.RenderFailure("fromIndex must be greater than 0")
    if end > len(value):
        raise errors.RenderFailure(f"toIndex must be smaller than input size: {len(value)}")
    if start >= end and toIndex is not None:
        raise errors.RenderFailure("toIndex must be greater than fromIndex")
    return list(value[start:end]) if not isinstance(value, str) else value[start:end]


def _integer(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise errors.RenderFailure(f"Argument {name} must be a number")
    return int(value)


def sort(value: Any) -> Any:
    return _sorted(value, reverse=False)


def rsort(value: Any) -> Any:
    return _sorted(value, reverse=True)


def _sorted(value: Any, *, reverse: bool) -> Any:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)):
        raise errors.RenderFailure("The `sort` and `rsort` filters expect a list")
    try:
        return sorted(value, reverse=reverse)
    except TypeError as error:
        raise errors.RenderFailure(f"Cannot sort this list: {error}") from None


def reverse(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        return value[::-1]
    if isinstance(value, (list, tuple)):
        return list(reversed(value))
    raise errors.RenderFailure("The `reverse` filter expects a list or a string")


def map_(value: Any, attribute: Any = None, default: Any = _NO_DEFAULT) -> Any:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)):
        raise errors.RenderFailure("The `map` filter expects a list")
    if not isinstance(attribute, (str, int)) or isinstance(attribute, bool):
        raise errors.RenderFailure("The `map` filter expects `attribute='name'`")
    steps = attribute.split(".") if isinstance(attribute, str) else [attribute]
    return [_pluck(item, steps, default) for item in value]


def _pluck(item: Any, steps: list[Any], default: Any) -> Any:
    for step in steps:
        item = sandbox.lookup(item, step)
    if isinstance(item, Undefined):
        if default is _NO_DEFAULT:
            sandbox.fail(item)
        return default
    return item


def number(value: Any, type: Any = None) -> Any:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise errors.RenderFailure("The `number` filter can only be applied to a string")
    kind = (type or "").upper()
    try:
        if kind in ("INT", "LONG", "BIGINTEGER"):
            return int(value)
        if kind in ("FLOAT", "DOUBLE", "BIGDECIMAL"):
            return float(value)
        return _parse_number(value)
    except ValueError:
        raise errors.RenderFailure(f"`{value}` is not a valid number") from None


def _parse_number(text: str) -> int | float:
    """Apache `NumberUtils.createNumber`: ints, floats, hex (`0x1F`, `#1F`), L/f/d suffixes."""
    sign, digits = (text[0], text[1:]) if text[:1] in ("-", "+") else ("", text)
    if digits[:2] in ("0x", "0X"):
        return int(sign + digits[2:], 16)
    if digits[:1] == "#":
        return int(sign + digits[1:], 16)
    if len(digits) > 1 and digits[-1] in "lL":
        return int(sign + digits[:-1])
    if len(digits) > 1 and digits[-1] in "fFdD":
        return float(sign + digits[:-1])
    try:
        return int(text)
    except ValueError:
        return float(text)


def flatten(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)):
        raise errors.RenderFailure("The `flatten` filter can only be applied to lists")
    flat: list[Any] = []
    for item in value:
        if isinstance(item, (list, tuple)):
            flat.extend(item)
        else:
            flat.append(item)
    return flat


def chunk(value: Any, size: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)):
        raise errors.RenderFailure("The `chunk` filter can only be applied to a list")
    step = _integer(size, "size")
    if step <= 0:
        raise errors.RenderFailure("The `chunk` filter expects a positive size")
    return [list(value[start : start + step]) for start in range(0, len(value), step)]


def contains(container: Any, item: Any) -> bool:
    """`a contains b`: substring, list element or map key; a list `b` means all of them."""
    if container is None:
        return False
    if isinstance(container, str):
        return values.to_text(item) in container
    if isinstance(container, (list, tuple, Mapping)):
        wanted = item if isinstance(item, (list, tuple)) else [item]
        try:
            return all(element in container for element in wanted)
        except TypeError:
            return False
    raise errors.RenderFailure(f"Cannot use `contains` on a {type(container).__name__}")


def concat(left: Any, *rights: Any) -> str:
    """`a ~ b`: the §19.4 texts joined."""
    texts = [values.to_text(left), *(values.to_text(right) for right in rights)]
    guard.check_text_size(sum(map(len, texts)))
    return "".join(texts)


FILTERS: dict[str, Callable[..., Any]] = {
    "jq": jq,
    "first": first,
    "last": last,
    "length": length,
    "join": join,
    "keys": keys,
    "values": values_,
    "toJson": to_json,
    "json": to_json,
    "abs": abs_,
    "slice": slice_,
    "sort": sort,
    "rsort": rsort,
    "reverse": reverse,
    "map": map_,
    "number": number,
    "flatten": flatten,
    "chunk": chunk,
    **strings.FILTERS,
}
