"""Integer literals too long for Python to read, refused before validation (#12 fuzz).

graphql-core reads an Int literal with `int(text)`, which Python refuses beyond
`sys.get_int_max_str_digits()` digits (4,300) with a `ValueError` that would be masked as
INTERNAL_SERVER_ERROR. The source text is scanned for such a run of digits first (cheap); only
then is the document walked to find an Int literal that long.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from graphql import BREAK, DocumentNode, GraphQLError, IntValueNode, Visitor, visit

__all__ = ["oversized_int_literal"]


def _limit() -> int:
    return sys.get_int_max_str_digits() or 0


class _Finder(Visitor):
    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.found: IntValueNode | None = None

    def enter_int_value(self, node: IntValueNode, *_: Any) -> Any:
        if len(node.value.lstrip("-")) > self.limit:
            self.found = node
            return BREAK
        return None


def oversized_int_literal(source: str, document: DocumentNode) -> GraphQLError | None:
    """An error naming the first Int literal of more digits than Python reads, if any."""
    limit = _limit()
    if not limit or re.search(rf"\d{{{limit + 1}}}", source) is None:
        return None
    finder = _Finder(limit)
    visit(document, finder)
    if finder.found is None:
        return None
    digits = len(finder.found.value.lstrip("-"))
    return GraphQLError(
        f"An integer literal has {digits} digits: at most {limit} are read",
        finder.found,
        extensions={"code": "GRAPHQL_VALIDATION_FAILED"},
    )
