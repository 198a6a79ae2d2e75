"""Collection and conversion filters (docs/semantics.md#expression-functions), plus the
helper behind `~`.

Every filter that builds a list or a string checks the size it is about to build before
building it, and loops whose rounds can each cost a whole operand check the render deadline.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import Undefined

from tercel.engine.expressions import bounded, errors, guard, jqrun, sandbox, strings, values

__all__ = ["FILTERS", "concat", "default", "is_empty"]

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
    guard.check_text_size(len(glue) * max(len(value) - 1, 0))
    texts, total = [], len(glue) * max(len(value) - 1, 0)
    for item in value:  # summed as it goes: `[big, big, …]` is refused after one too many
        text = values.to_text(item)
        total += len(text)
        guard.check_text_size(total)
        texts.append(text)
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
    return bounded.sort(value, reverse=False)


def rsort(value: Any) -> Any:
    return bounded.sort(value, reverse=True)


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
    plucked = []
    for item in value:
        guard.check_deadline()  # each round walks every step of a possibly long path
        plucked.append(_pluck(item, steps, default))
    return plucked


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
    for prefix in ("0x", "0X", "#"):
        if digits.startswith(prefix):  # base 16 has no digit limit in Python: cap it here
            hexadecimal = digits[len(prefix) :]
            if len(hexadecimal) * 4 > guard.MAX_INT_BITS:
                raise errors.RenderFailure(f"Number is larger than {guard.MAX_INT_BITS} bits")
            return int(sign + hexadecimal, 16)
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
            guard.check_items(len(flat) + len(item))  # before copying: `[l, l, l, …]`
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


def concat(left: Any, *rights: Any) -> str:
    """`a ~ b`: the texts (docs/semantics.md#expression-values) joined."""
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
