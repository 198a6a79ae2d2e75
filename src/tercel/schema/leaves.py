"""Leaf values of the fast completion path (`schema.execution`): one call per leaf, by type.

graphql-core coerces a leaf through the type's `coerce_output_value`, which for strawberry's
enums scans every member (17 states), and for our instants formats a datetime (~3 µs). A list
page has some 20,000 leaves, so each completer here answers its common case inline:
- String, ID, Int, Boolean: the value itself when its class is exactly the Python type;
- enums: a table from member identity to name;
- DateTime and Duration: a bounded memo of formatted values (a dashboard polling a page
  formats the same instants again and again; the formatting is a pure function).
Anything else, None in a non-null position included, goes to the type's own coercion (or
raises `NotPlain` so the general path reports it).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLString,
)

__all__ = ["NotPlain", "nullable", "required"]

Completer = Callable[[Any], Any]

#: formatted scalars remembered, per scalar name; cleared when full
MEMO_SIZE = 32_768
_MEMO_SCALARS = frozenset({"DateTime", "Duration"})
_EXACT: dict[str, type] = {
    GraphQLString.name: str,
    GraphQLID.name: str,
    GraphQLInt.name: int,
    GraphQLBoolean.name: bool,
}
_memos: dict[str, dict[Hashable, Any]] = {}


class NotPlain(Exception):
    """This value needs the general path."""


def required(kind: GraphQLLeafType) -> Completer:
    """Completes a non-null leaf; None raises `NotPlain`."""
    return _completer(kind, allow_none=False)


def nullable(kind: GraphQLLeafType) -> Completer:
    return _completer(kind, allow_none=True)


def _none(allow_none: bool) -> None:
    if not allow_none:
        raise NotPlain


def _completer(kind: GraphQLLeafType, allow_none: bool) -> Completer:
    if isinstance(kind, GraphQLEnumType) and hasattr(kind, "wrapped_cls"):
        return _enum(kind, allow_none)
    if kind.name in _MEMO_SCALARS:
        return _memoized(kind, allow_none)
    exact = _EXACT.get(kind.name)
    if exact is not None and kind in (GraphQLString, GraphQLID, GraphQLInt, GraphQLBoolean):
        return _exact(kind, exact, allow_none)
    slow = kind.coerce_output_value

    def complete(value: Any) -> Any:
        if value is None:
            return _none(allow_none)
        return slow(value)

    return complete


def _exact(kind: GraphQLLeafType, cls: type, allow_none: bool) -> Completer:
    slow = kind.coerce_output_value

    def complete(value: Any) -> Any:
        if value.__class__ is cls:
            return value
        if value is None:
            return _none(allow_none)
        return slow(value)

    return complete


def _enum(kind: GraphQLEnumType, allow_none: bool) -> Completer:
    wrapped = kind.wrapped_cls  # type: ignore[attr-defined]  # strawberry's enum type
    by_value = {definition.value: name for name, definition in kind.values.items()}
    #: keyed by identity: members are singletons, and Enum.__hash__ is a Python call
    names = {id(member): by_value[member.value] for member in wrapped if member.value in by_value}
    slow = kind.coerce_output_value

    def complete(value: Any) -> Any:
        name = names.get(id(value))
        if name is not None:
            return name
        if value is None:
            return _none(allow_none)
        return slow(value)

    return complete


def _memoized(kind: GraphQLLeafType, allow_none: bool) -> Completer:
    memo = _memos.setdefault(kind.name, {})
    slow = kind.coerce_output_value

    def complete(value: Any) -> Any:
        found = memo.get(value)
        if found is not None:
            return found
        if value is None:
            return _none(allow_none)
        found = slow(value)
        if len(memo) >= MEMO_SIZE:
            memo.clear()
        memo[value] = found
        return found

    return complete
