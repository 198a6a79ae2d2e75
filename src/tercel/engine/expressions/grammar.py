"""Pebble's operator table and the Jinja2 code fragments the parser builds
(docs/semantics.md#expression-operators)."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BINARY",
    "CHAINS",
    "COMPARISONS",
    "CONSTANTS",
    "FILTER_OPERATORS",
    "MAX_DEPTH",
    "UNARY",
    "UNARY_PRECEDENCE",
    "Fragment",
    "atom",
    "is_name",
    "join",
    "link",
    "subscript",
]

#: deepest nesting of an expression; Jinja2's recursive parser needs ~14 frames a level
MAX_DEPTH = 32
BINARY = {
    "or": 10,
    "and": 15,
    "is": 20,
    "contains": 20,
    "==": 30,
    "equals": 30,
    "!=": 30,
    "<": 30,
    ">": 30,
    "<=": 30,
    ">=": 30,
    "+": 40,
    "-": 40,
    "*": 60,
    "/": 60,
    "//": 60,
    "%": 60,
    "**": 70,
    "|": 100,
    "~": 110,
    "..": 120,
    "??": 120,
    "???": 120,
}
FILTER_OPERATORS = {"contains": "__contains", "~": "__concat", "..": "__range"}
#: comparisons, emitted as `__compare` so their operands are sized before the work
COMPARISONS = {op: op for op in ("==", "!=", "<", ">", "<=", ">=")} | {"equals": "=="}
CHAINS = {"+": "add", "-": "add", "*": "mul", "/": "mul", "//": "mul", "%": "mul"}
UNARY = {"not": "not ", "-": "-", "+": "+"}
UNARY_PRECEDENCE = 500
CONSTANTS = {
    "true": ("true", True),
    "TRUE": ("true", True),
    "false": ("false", False),
    "FALSE": ("false", False),
    "null": ("none", None),
    "NULL": ("none", None),
    "none": ("none", None),
    "NONE": ("none", None),
}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RESERVED = frozenset(
    {"true", "false", "none", "True", "False", "None", "and", "or", "not", "in", "is", "if"}
    | {"else", "self", "loop", "super", "varargs", "kwargs", "caller", "recursive", "with"}
    | set(keyword.kwlist)
)
_NOT_LITERAL = object()


@dataclass(frozen=True, slots=True)
class Fragment:
    """Emitted Jinja2 code for a sub-expression."""

    code: str
    depth: int = 1
    #: (root, key, ...) when the expression is a plain variable path
    path: tuple[Any, ...] | None = None
    literal: Any = _NOT_LITERAL
    #: the code is `(x | f | g)` or `(a + b - c)`…: the same kind of link extends it flat
    chain: str | None = None


def is_name(name: str) -> bool:
    """Jinja2 can spell `name` as a plain identifier (else it is looked up by string)."""
    return _IDENT.fullmatch(name) is not None and name not in _RESERVED


def link(left: Fragment, tail: str, chain: str, depth: int) -> Fragment:
    """`left` followed by `tail`: appended inside left's parentheses when it is the same chain,
    so `a | f | g` and `a + b - c` stay flat (Jinja2 groups them left to right, like Pebble)."""
    if left.chain == chain:
        return Fragment(f"{left.code[:-1]} {tail})", max(left.depth, depth + 1), chain=chain)
    return Fragment(f"({left.code} {tail})", max(left.depth, depth) + 1, chain=chain)


def join(code: str, *children: Fragment) -> Fragment:
    return Fragment(code, max((child.depth for child in children), default=0) + 1)


def atom(fragment: Fragment) -> str:
    return fragment.code if fragment.path is not None else f"({fragment.code})"


def subscript(base: Fragment, key: Fragment) -> Fragment:
    joined = join(f"{atom(base)}[{key.code}]", base, key)
    literal = key.literal
    if base.path is not None and (type(literal) is str or type(literal) is int):
        return Fragment(joined.code, joined.depth, (*base.path, literal))
    return joined
