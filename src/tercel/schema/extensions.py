"""Error masking with codes (docs/semantics.md#api-limits)."""

from __future__ import annotations

import logging
import uuid

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from tercel.engine.faults import EngineUnavailable
from tercel.schema.errors import PublicError

__all__ = [
    "MASKED",
    "TercelMaskErrors",
    "answered",
    "code_of",
    "is_variable_error",
    "root_cause",
    "should_mask",
]

logger = logging.getLogger("tercel.api")

#: the message of every masked error (MaskErrors' default)
MASKED = "Unexpected error."


def is_variable_error(error: GraphQLError) -> bool:
    """A variable whose value does not fit its type: graphql-core's `coerce_variable_values`
    reports it without a path, wrapping the coercion's own `GraphQLError` as `original_error`
    (a resolver's errors always have a path)."""
    return error.path is None and isinstance(error.original_error, GraphQLError)


def root_cause(error: GraphQLError) -> BaseException | None:
    """The first exception under the `GraphQLError`s: for a variable, None when graphql-core
    refused the value itself (Int range, enum value, not an object), else what the scalar's
    parser raised."""
    cause = error.original_error
    while isinstance(cause, GraphQLError):
        cause = cause.original_error
    return cause


def should_mask(error: GraphQLError) -> bool:
    """Only unexpected exceptions are masked: parse, validation and limiter errors have no
    `original_error`, variable errors wrap graphql-core's refusal or a scalar's `PublicError`,
    and `PublicError`s and the engine's refusals (`ENGINE_STOPPED`, `STORAGE_FULL`) are meant to
    be read. A scalar's parser failing unexpectedly is still masked."""
    cause = root_cause(error) if is_variable_error(error) else error.original_error
    return cause is not None and not isinstance(cause, PublicError | EngineUnavailable)


def code_of(error: GraphQLError) -> str:
    if isinstance(error.original_error, PublicError | EngineUnavailable):
        return error.original_error.code
    if is_variable_error(error):
        return "BAD_USER_INPUT"
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if error.path is None:
        return "GRAPHQL_VALIDATION_FAILED"
    return "INTERNAL_SERVER_ERROR"


class TercelMaskErrors(MaskErrors):
    """`MaskErrors` configured as docs/semantics.md#api-limits says, adding `extensions.code` to
    every error and an `errorId` (logged with the traceback) to masked ones."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=should_mask)

    def _process_result(self, result: object) -> None:
        # as MaskErrors does, without its runtime Protocol check (slow on every streamed event)
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [answered(error) for error in errors]


def answered(error: GraphQLError) -> GraphQLError:
    """The error as the client gets it: masked, with an `errorId` logged beside the traceback,
    when it is unexpected; else with its `extensions.code`. Also applied to errors that escaped
    the extension (raised before the operation hooks ran)."""
    if not should_mask(error):
        error.extensions = {**(error.extensions or {}), "code": code_of(error)}
        return error
    error_id = uuid.uuid4().hex
    logger.error("unexpected error %s", error_id, exc_info=error.original_error)
    masked = GraphQLError(
        MASKED, error.nodes, error.source, error.positions, error.path, original_error=None
    )
    masked.extensions = {"code": "INTERNAL_SERVER_ERROR", "errorId": error_id}
    return masked
