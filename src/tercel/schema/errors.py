"""Errors: domain outcomes as union members implementing `Error`, and `PublicError` for argument
problems reported as GraphQL errors with a visible message and `extensions.code`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from tercel.engine import outcomes
from tercel.schema import enums

if TYPE_CHECKING:
    from tercel.engine import service

__all__ = [
    "BadUserInput",
    "Error",
    "FlowValidationError",
    "InputIssue",
    "InvalidInputsError",
    "InvalidStateError",
    "NotFoundError",
    "PublicError",
    "ValidationIssue",
    "refusal",
]


class PublicError(Exception):
    """An error whose message is shown to the client (never masked), with its code."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.extensions: dict[str, Any] = {"code": self.code}


class BadUserInput(PublicError):
    """An argument problem: page size, cursor, conflicting filters."""


@strawberry.interface(description="Every error member of a result union implements it")
class Error:
    message: str


@strawberry.type
class ValidationIssue:
    path: str
    line: int | None
    column: int | None
    message: str


@strawberry.type
class FlowValidationError(Error):
    issues: list[ValidationIssue]

    @classmethod
    def from_domain(cls, error: Any) -> FlowValidationError:
        """From `flows.FlowValidationError` (its `issues`: path, message, line, column)."""
        issues = [
            ValidationIssue(path=i.path, line=i.line, column=i.column, message=i.message)
            for i in error.issues
        ]
        return cls(message=str(error) or "invalid flow", issues=issues)


@strawberry.type
class NotFoundError(Error):
    kind: str
    id: str

    @classmethod
    def from_domain(cls, value: service.NotFound) -> NotFoundError:
        return cls(message=value.message, kind=value.kind, id=value.id)


@strawberry.type
class InvalidStateError(Error):
    state: enums.StateType | None = None

    @classmethod
    def from_domain(cls, value: service.InvalidState) -> InvalidStateError:
        return cls(message=value.message, state=value.state)


@strawberry.type
class InputIssue:
    input: str
    message: str


@strawberry.type
class InvalidInputsError(Error):
    issues: list[InputIssue]

    @classmethod
    def from_domain(cls, value: service.InvalidInputs) -> InvalidInputsError:
        issues = [InputIssue(input=i.input, message=i.message) for i in value.issues]
        return cls(message=value.message, issues=issues)


def refusal(outcome: object) -> NotFoundError | InvalidStateError | InvalidInputsError | None:
    """The error member for an engine command's refusal (not found, wrong state, bad inputs);
    None when the command went through."""
    if isinstance(outcome, outcomes.NotFound):
        return NotFoundError.from_domain(outcome)
    if isinstance(outcome, outcomes.InvalidState):
        return InvalidStateError.from_domain(outcome)
    if isinstance(outcome, outcomes.InvalidInputs):
        return InvalidInputsError.from_domain(outcome)
    return None
