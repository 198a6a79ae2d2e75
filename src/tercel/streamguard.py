"""A streamed HTTP answer (Server-Sent Events, multipart) always ends in a complete message.

Strawberry's `schema.stream` parses the document inside the stream: a syntax error raised there
(by the parser cache) used to escape the generator after the response had started, so the
client saw the chunked body cut off. Such an error is now the stream's one result, with its
code, followed by the transport's `complete`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLError
from strawberry.types import ExecutionResult

from tercel.engine import storable

__all__ = ["guarded"]


async def guarded(results: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """`results`, with a GraphQL error raised while streaming yielded as a result instead."""
    try:
        async for value in results:
            yield value
    except GraphQLError as error:
        error.message = storable.scrubbed(error.message)  # it may quote a bad escape
        yield ExecutionResult(data=None, errors=[error])
