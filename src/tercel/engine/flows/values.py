"""Typed readers for YAML nodes: each returns the value, or records an issue and returns None.

String fields receive the scalar's source text (`format: 1.10` → "1.10"); a dynamic string is
also checked as an expression (docs/semantics.md#expression-limits).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta
from typing import Any, TypeVar

from tercel.engine import durations, expressions, states, storable
from tercel.engine.flows import validation
from tercel.engine.flows import yamlsource as ys

__all__ = [
    "LEVELS",
    "Fields",
    "boolean",
    "check_template",
    "data",
    "data_map",
    "duration",
    "duration_text",
    "ended_states",
    "fields",
    "integer",
    "level",
    "levels",
    "mapping",
    "number",
    "sequence",
    "string",
    "string_list",
    "unknown_keys",
]

LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")

Issues = validation.Issues
Fields = dict[str, tuple[ys.ScalarNode, ys.Node]]
_N = TypeVar("_N", int, float)


def fields(node: ys.MapNode) -> Fields:
    """The mapping's entries by key; an explicit null counts as absent."""
    return {
        key.text: (key, value)
        for key, value in node.entries
        if not (isinstance(value, ys.ScalarNode) and value.is_null)
    }


def unknown_keys(issues: Issues, node: ys.MapNode, known: Collection[str]) -> None:
    for key, _ in node.entries:
        if key.text not in known:
            issues.add(key, f"unknown property `{key.text}`")


def check_template(issues: Issues, node: ys.Node, text: str) -> None:
    """Record the expression error of `text`, if it is a template and does not pass
    docs/semantics.md#expression-limits."""
    if not expressions.is_template(text):
        return
    try:
        problem = expressions.validate(text)
    except Exception as exc:  # a validator bug must not turn into a crash of the loader
        problem = f"invalid expression: {exc}"
    if problem:
        issues.add(node, problem)


def mapping(issues: Issues, node: ys.Node) -> ys.MapNode | None:
    if isinstance(node, ys.MapNode):
        return node
    issues.add(node, "expected a mapping")
    return None


def sequence(issues: Issues, node: ys.Node, what: str = "a list") -> ys.SeqNode | None:
    if isinstance(node, ys.SeqNode):
        return node
    issues.add(node, f"expected {what}")
    return None


def string(issues: Issues, node: ys.Node, *, dynamic: bool = False) -> str | None:
    """A scalar's source text (numbers and booleans included)."""
    if not isinstance(node, ys.ScalarNode) or node.is_null:
        issues.add(node, "expected a string")
        return None
    if dynamic:
        check_template(issues, node, node.text)
    return node.text


def string_list(issues: Issues, node: ys.Node, *, dynamic: bool = False) -> list[str] | None:
    seq = sequence(issues, node, "a list of strings")
    if seq is None:
        return None
    values = [string(issues, item, dynamic=dynamic) for item in seq.items]
    return [value for value in values if value is not None] if None not in values else None


def boolean(issues: Issues, node: ys.Node) -> bool | None:
    if isinstance(node, ys.ScalarNode) and isinstance(node.value, bool):
        return node.value
    issues.add(node, "expected a boolean (true or false)")
    return None


def integer(issues: Issues, node: ys.Node, minimum: float | None = None) -> int | None:
    value = node.value if isinstance(node, ys.ScalarNode) else None
    if not isinstance(value, int) or isinstance(value, bool):
        issues.add(node, "expected an integer")
        return None
    return _at_least(issues, node, value, minimum)


def number(issues: Issues, node: ys.Node, minimum: float | None = None) -> int | float | None:
    value = node.value if isinstance(node, ys.ScalarNode) else None
    if not isinstance(value, int | float) or isinstance(value, bool):
        issues.add(node, "expected a number")
        return None
    if value != value or value in (float("inf"), float("-inf")):
        issues.add(node, "expected a finite number")
        return None
    return _at_least(issues, node, value, minimum)


def _at_least(issues: Issues, node: ys.Node, value: _N, minimum: float | None) -> _N | None:
    if minimum is not None and value < minimum:
        shown = int(minimum) if float(minimum).is_integer() else minimum
        issues.add(node, f"must be >= {shown}")
        return None
    return value


def duration(issues: Issues, node: ys.Node) -> timedelta | None:
    """A fixed ISO-8601 duration (`PT1M30S`, case-insensitive)."""
    text = string(issues, node)
    if text is None:
        return None
    try:
        return durations.parse_duration(text)
    except ValueError as exc:
        issues.add(node, str(exc))
    except OverflowError:
        issues.add(node, f"duration `{text}` is too long")
    return None


def duration_text(issues: Issues, node: ys.Node) -> str | None:
    """A dynamic duration: a template (checked, rendered later) or a duration that parses."""
    text = string(issues, node, dynamic=True)
    if text is None or expressions.is_template(text):
        return text
    return text if duration(issues, node) is not None else None


def level(issues: Issues, node: ys.Node) -> str | None:
    text = string(issues, node)
    if text is None:
        return None
    if text not in LEVELS:
        issues.add(node, f"expected one of {', '.join(LEVELS)}, got `{text}`")
        return None
    return text


def levels(issues: Issues, node: ys.Node) -> list[str] | None:
    """A non-empty list of log levels (PurgeLogs `logLevels`)."""
    return _names(issues, node, LEVELS, "log levels")


def ended_states(issues: Issues, node: ys.Node) -> list[str] | None:
    """A non-empty list of terminal states (PurgeExecutions `states`: only ended executions are
    purged, so an active state could never match)."""
    names = tuple(s.value for s in states.StateType if s.is_terminated)
    return _names(issues, node, names, "ended states (only ended executions are purged)")


def _names(issues: Issues, node: ys.Node, allowed: tuple[str, ...], what: str) -> list[str] | None:
    seq = sequence(issues, node, f"a list of {what}")
    if seq is None:
        return None
    if not seq.items:
        issues.add(node, "must not be empty (leave it out to match them all)")
        return None
    found = [string(issues, item) for item in seq.items]
    for item, text in zip(seq.items, found, strict=True):
        if text is not None and text not in allowed:
            issues.add(item, f"expected one of {', '.join(allowed)}: `{text}` is not one of {what}")
            return None
    return [text for text in found if text is not None] if None not in found else None


def data(issues: Issues, node: ys.Node, *, dynamic: bool = True) -> Any:
    """Plain data (dict, list, str, int, float, bool, None); string leaves and keys checked."""
    if isinstance(node, ys.ScalarNode):
        if dynamic and isinstance(node.value, str):
            check_template(issues, node, node.value)
        if storable.is_wide_integer(node.value):
            issues.add(node, storable.WIDE_INTEGER)
        return node.value
    if isinstance(node, ys.SeqNode):
        return [data(issues, item, dynamic=dynamic) for item in node.items]
    assert isinstance(node, ys.MapNode)
    result: dict[str, Any] = {}
    for key, value in node.entries:
        if dynamic:
            check_template(issues, key, key.text)
        result[key.text] = data(issues, value, dynamic=dynamic)
    return result


def data_map(issues: Issues, node: ys.Node) -> dict[str, Any]:
    """A mapping of plain data (flow `variables`, trigger `inputs`); {} when not a mapping."""
    if mapping(issues, node) is None:
        return {}
    found = data(issues, node)
    assert isinstance(found, dict)
    return found
