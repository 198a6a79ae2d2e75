"""Exceptions of the expression package.

`ExpressionError` is the only one callers see; the others are raised while a template is being
translated or evaluated and are turned into an `ExpressionError` carrying the message of
docs/semantics.md#expression-errors.
"""

from __future__ import annotations

__all__ = [
    "ExpressionError",
    "RenderFailure",
    "SliceExceeded",
    "TemplateSyntaxError",
    "UndefinedUse",
]


class ExpressionError(Exception):
    """A render failure; `str(error)` is the full message (docs/semantics.md#expression-errors)."""

    def __init__(self, message: str, *, line: int | None = None, name: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: line of the failing expression in its template, when known
        self.line = line
        #: for undefined values, the first path step that did not resolve
        self.name = name

    def __str__(self) -> str:
        return self.message


class TemplateSyntaxError(Exception):
    """The template text cannot be translated: syntax error or forbidden construct."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class UndefinedUse(Exception):
    """An undefined value was used; `name` is the first path step that did not resolve."""

    def __init__(self, name: object) -> None:
        super().__init__(name)
        self.name = str(name)


class RenderFailure(Exception):
    """Any other evaluation failure (cap exceeded, bad argument, jq error...)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class SliceExceeded(BaseException):
    """A render on the event loop outgrew the loop's slice (`guard.open_slice`): the caller
    abandons it and runs it again off the loop. A BaseException, so that no `except Exception`
    of a filter or of the task turns it into a failure."""
