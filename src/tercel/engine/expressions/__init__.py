"""Kestra (Pebble) expressions evaluated with a sandboxed Jinja2 (docs/semantics.md#expressions).

A template is translated from Pebble to Jinja2 once (`parser`, `lexer`), compiled into an
`ImmutableSandboxedEnvironment` without loader or globals (`sandbox`, `registry`), cached in an
LRU of 1,024 (`renderer`), and rendered under the caps of docs/semantics.md#expression-limits
(`guard`): 1 s, 1 MiB of output, 64 KiB of template. jq runs in a helper process that is
killed at the deadline (`jqrun`).

The context is plain data (dict, list, str, int, float, bool, None, aware datetime). It is
never copied. The only non-data key is `"__errorLogs"`, a zero-argument callable behind
`errorLogs()`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from tercel.engine.expressions import errors, functions, jqrun, renderer, values

__all__ = [
    "ExpressionError",
    "holds_template",
    "is_template",
    "render",
    "render_value",
    "secret_values",
    "shutdown",
    "texts_in",
    "to_json",
    "to_text",
    "truthy",
    "validate",
    "variables",
]

ExpressionError = errors.ExpressionError


def is_template(text: str) -> bool:
    """True when `text` contains `{{`, `{%` or `{#` (and so is rendered)."""
    return "{{" in text or "{%" in text or "{#" in text


def texts_in(value: Any) -> Iterator[str]:
    """The strings of `value` a render reads: the value itself, the keys and items of its maps
    (dict), the items of its lists and tuples, at any depth."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                yield key
            yield from texts_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from texts_in(item)


def holds_template(value: Any) -> bool:
    """True when a string of `value` (`texts_in`) is a template: rendering `value` in any context
    returns it unchanged otherwise. The walk of `texts_in` without its generators (it runs over
    every inline task of a flow when the flow is first used)."""
    if isinstance(value, str):
        return is_template(value)
    if isinstance(value, dict):
        for key, item in value.items():
            if (isinstance(key, str) and is_template(key)) or holds_template(item):
                return True
        return False
    if isinstance(value, list | tuple):
        return any(holds_template(item) for item in value)
    return False


def validate(text: str) -> str | None:
    """None when `text` renders (syntax, no statements, no `._x`, ≤ 64 KiB), else the message."""
    if not is_template(text):
        return None
    problem = renderer.template_error(text)
    if problem is not None:
        return problem
    return renderer.compile_template(text).error


def variables(text: str) -> frozenset[str]:
    """Root variables the template reads, so callers build only those context keys.

    `render()` implies every variable; `errorLogs()` implies `"__errorLogs"`. Invalid or
    non-template text reads nothing.
    """
    if not is_template(text) or renderer.template_error(text) is not None:
        return frozenset()
    return renderer.compile_template(text).names


def render(text: str, context: Mapping[str, Any]) -> str:
    """Render one template; a string without `{{`, `{%` or `{#` is returned unchanged."""
    return renderer.render_text(text, context)


def render_value(value: Any, context: Mapping[str, Any]) -> Any:
    """Render maps (keys and values), lists and strings recursively; other values unchanged."""
    if isinstance(value, str):
        return renderer.render_text(value, context)
    if isinstance(value, Mapping):
        return {
            (renderer.render_text(key, context) if isinstance(key, str) else key): render_value(
                item, context
            )
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [render_value(item, context) for item in value]
    return value


def truthy(rendered: str) -> bool:
    """Kestra's TruthUtils: falsy iff exactly `false`, `0`, `-0` or empty
    (docs/semantics.md#run-if)."""
    return rendered not in ("false", "0", "-0", "")


def to_text(value: Any) -> str:
    """The text of a value (maps and lists as compact JSON, instants in milliseconds;
    docs/semantics.md#expression-values)."""
    try:
        return values.to_text(value)
    except (errors.RenderFailure, errors.UndefinedUse) as error:
        raise ExpressionError(str(error)) from None


def to_json(value: Any) -> str:
    """Compact JSON as docs/semantics.md#expression-values (instants as
    `YYYY-MM-DDTHH:MM:SS.mmmZ` strings)."""
    try:
        return values.to_json(value)
    except (errors.RenderFailure, errors.UndefinedUse) as error:
        raise ExpressionError(str(error)) from None


def secret_values() -> frozenset[str]:
    """Decoded values returned by `secret()` so far, for masking them in logs."""
    return functions.secret_values()


def shutdown() -> None:
    """Stop the jq helper process (also done at exit; it restarts on demand)."""
    jqrun.shutdown()
