"""Error masking with codes (graphql-api §8.2)."""

from __future__ import annotations

import logging
import uuid

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from tercel.engine.faults import EngineUnavailable
from tercel.schema.errors import PublicError

__all__ = ["TercelMaskErrors", "code_of", "should_mask"]

logger = logging.getLogger("tercel.api")


def should_mask(error: GraphQLError) -> bool:
    """Only unexpected exceptions are masked: parse, validation and limiter errors have no
    `original_error`, and `PublicError`s and the engine's refusals (`ENGINE_STOPPED`,
    `STORAGE_FULL`) are meant to be read."""
    return error.original_error is not None and not isinstance(
        error.original_error, PublicError | EngineUnavailable
    )


def code_of(error: GraphQLError) -> str:
    if isinstance(error.original_error, PublicError | EngineUnavailable):
        return error.original_error.code
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if error.path is None:
        return "GRAPHQL_VALIDATION_FAILED"
    return "INTERNAL_SERVER_ERROR"


class TercelMaskErrors(MaskErrors):
    """`MaskErrors` configured per graphql-api §8.2, adding `extensions.code` to every error and
    an `errorId` (logged with the traceback) to masked ones."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=should_mask)

    def _process_result(self, result: object) -> None:
        # as MaskErrors does, without its runtime Protocol check (slow on every streamed event)
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed: list[GraphQLError] = []
        for error in errors:
            if self.should_mask_error(error):
                error_id = uuid.uuid4().hex
                logger.error("unexpected error %s", error_id, exc_info=error.original_error)
                masked = self.anonymise_error(error)
                masked.extensions = {"code": "INTERNAL_SERVER_ERROR", "errorId": error_id}
                processed.append(masked)
            else:
                error.extensions = {**(error.extensions or {}), "code": code_of(error)}
                processed.append(error)
        return processed
