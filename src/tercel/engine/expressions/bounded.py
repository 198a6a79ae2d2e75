"""Operations whose cost grows with the size of their operands, each sized before the work.

Comparing, sorting, membership and `max`/`min` walk their operands in C code that no deadline
can interrupt: `[s, t, s, t, …] == [t, s, t, s, …]` over 1 MB strings, or a list `contains`
another list of 300,000 items, would hold the thread for minutes. So a list or map operand is
measured first (`values.measure`, at most the 1 MiB output cap once rendered: a larger one could
not be rendered either), which bounds one comparison; and loops that repeat such work check the
render deadline between rounds.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from tercel.engine.expressions import errors, guard, values

__all__ = ["COMPARISONS", "compare", "contains", "extreme", "kind_of", "sized", "sort"]

COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


def sized(value: Any, what: str) -> Any:
    """`value`, refused when it is a list or map larger than the output cap once rendered."""
    if isinstance(value, (list, tuple, Mapping)):
        try:
            values.measure(value, guard.MAX_OUTPUT)
        except errors.RenderFailure:
            raise errors.RenderFailure(
                f"{what}: a value larger than {guard.MAX_OUTPUT} characters once rendered "
                "is refused"
            ) from None
    return value


def compare(left: Any, operator_name: str, right: Any) -> bool:
    """`left <op> right` for `==`, `!=`, `<`, `>`, `<=`, `>=` (and `equals`)."""
    sized(left, f"Cannot compare with `{operator_name}`")
    sized(right, f"Cannot compare with `{operator_name}`")
    try:
        return bool(COMPARISONS[operator_name](left, right))
    except TypeError:
        raise errors.RenderFailure(
            f"Cannot compare a {kind_of(left)} with a {kind_of(right)} using `{operator_name}`"
        ) from None


def kind_of(value: Any) -> str:
    """What a value is, in the words of the error messages."""
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "map"
    if isinstance(value, (list, tuple)):
        return "list"
    return {bool: "boolean", int: "number", float: "number", str: "string"}.get(
        type(value), type(value).__name__
    )


def contains(container: Any, item: Any) -> bool:
    """`a contains b`: substring, list element or map key; a list `b` means all of them."""
    if container is None:
        return False
    if isinstance(container, str):
        return values.to_text(item) in container
    if not isinstance(container, (list, tuple, Mapping)):
        raise errors.RenderFailure(f"Cannot use `contains` on a {type(container).__name__}")
    if not isinstance(container, Mapping):
        sized(container, "Cannot use `contains`")
    wanted = item if isinstance(item, (list, tuple)) else [item]
    sized(wanted, "Cannot use `contains`")
    for element in wanted:
        guard.check_deadline()  # each round scans the whole (sized) container
        try:
            if element not in container:
                return False
        except TypeError:
            return False
    return True


def sort(value: Any, *, reverse: bool) -> Any:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)):
        raise errors.RenderFailure("The `sort` and `rsort` filters expect a list")
    sized(value, "Cannot sort")
    try:
        return sorted(value, reverse=reverse)
    except TypeError as error:
        raise errors.RenderFailure(f"Cannot sort this list: {error}") from None


def extreme(args: tuple[Any, ...], pick: Callable[..., Any], name: str) -> Any:
    """`max(…)` / `min(…)` of the arguments, or of the one list argument."""
    items = list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else list(args)
    items = [item for item in items if item is not None]
    if not items:
        return None
    sized(items, f"Cannot compute `{name}`")
    try:
        return pick(items)
    except TypeError as error:
        raise errors.RenderFailure(f"Cannot compare the arguments of `{name}`: {error}") from None
