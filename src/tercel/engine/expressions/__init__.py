"""Kestra (Pebble) expressions evaluated with a sandboxed Jinja2 (execution-model §19).

PLACEHOLDER API: being implemented; signatures are final.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ExpressionError", "is_template", "render", "render_value", "truthy", "validate", "variables"]


class ExpressionError(Exception):
    """A render failure; `str(error)` is the full §19.8 message."""


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


def validate(text: str) -> str | None:
    return None


def variables(text: str) -> frozenset[str]:
    return frozenset()


def render(text: str, context: Mapping[str, Any]) -> str:
    raise NotImplementedError


def render_value(value: Any, context: Mapping[str, Any]) -> Any:
    raise NotImplementedError


def truthy(rendered: str) -> bool:
    return rendered not in ("false", "0", "-0", "")
