"""Query cost after fragment expansion (docs/semantics.md#api-limits), checked before any validation
rule.

The token, depth and alias limits see the document as written. A fragment that spreads the next
one twice, 21 levels deep, is ~360 tokens but 2^21 fields once expanded, and graphql-core's
validation (overlapping fields, the depth limiter) and execution both expand it: 11 s on the
event loop. `CostedValidationCache` counts the fields every operation selects with fragments
expanded, each fragment counted once (memoised, so counting is linear in the document), and
refuses the document before validation runs when the count is over the cap. It also caps the
comparisons of same-named fields in one selection (fragments expanded), which the
overlapping-fields rule makes pair by pair, walking their sub-selections.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import cast

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import ValidationCache

from tercel.schema import argbounds, literals

__all__ = ["CostedValidationCache", "expanded_fields", "passed_before"]


class _TooCostly(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


#: field comparisons the overlapping-fields rule may make (1-3 µs each)
MAX_COMPARISONS = 20_000


class _Names(dict[str, tuple[int, int]]):
    """Response name -> (fields of that name, fields below them)."""

    def add(self, name: str, count: int, below: int) -> None:
        had, under = self.get(name, (0, 0))
        self[name] = (had + count, under + below)

    def merge(self, other: _Names) -> None:
        for name, (count, below) in other.items():
            self.add(name, count, below)


class _Counter:
    """Counts fields with fragments expanded, each fragment walked once (memoised)."""

    def __init__(self, document: DocumentNode, max_fields: int) -> None:
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.memo: dict[str, tuple[int, _Names]] = {}
        self.visiting: set[str] = set()
        self.max_fields = max_fields
        self.comparisons = 0

    def selection_set(self, node: SelectionSetNode | None) -> tuple[int, _Names]:
        """(fields below `node`, per response name at its level: count and fields below)."""
        total, names = 0, _Names()
        for selection in node.selections if node is not None else ():
            if isinstance(selection, FieldNode):
                below = self.selection_set(selection.selection_set)[0]
                names.add((selection.alias or selection.name).value, 1, below)
                total += 1 + below
            else:
                count, inner = (
                    self.fragment(selection.name.value)
                    if isinstance(selection, FragmentSpreadNode)
                    else self.selection_set(cast(InlineFragmentNode, selection).selection_set)
                )
                total += count
                names.merge(inner)
            if total > self.max_fields:
                raise _TooCostly(
                    f"The query selects more than {self.max_fields} fields once its fragments "
                    "are expanded"
                )
        self._count_pairs(names)
        return total, names

    def _count_pairs(self, names: _Names) -> None:
        """Same-named fields of one selection are compared pairwise by validation, each
        comparison walking their sub-selections."""
        for name, (count, below) in names.items():
            self.comparisons += count * (count - 1) // 2 * (1 + below // count)
            if self.comparisons > MAX_COMPARISONS:
                raise _TooCostly(
                    f"The query selects `{name}` {count} times in one place once its fragments "
                    f"are expanded: more than {MAX_COMPARISONS} field comparisons to validate"
                )

    def fragment(self, name: str) -> tuple[int, _Names]:
        if name in self.memo:
            return self.memo[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.visiting:
            return 0, _Names()  # unknown or cyclic: validation reports it
        self.visiting.add(name)
        try:
            found = self.selection_set(definition.selection_set)
        finally:
            self.visiting.discard(name)
        self.memo[name] = found
        return found


def expanded_fields(document: DocumentNode, max_fields: int) -> int:
    """Fields selected by all operations of `document`, fragments expanded; raises
    `GraphQLError` as soon as the count passes `max_fields`."""
    counter = _Counter(document, max_fields)
    total = 0
    try:
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                total += counter.selection_set(definition.selection_set)[0]
                if total > max_fields:
                    raise _TooCostly(
                        f"The document selects more than {max_fields} fields once its "
                        "fragments are expanded"
                    )
    except _TooCostly as error:
        raise GraphQLError(
            error.message, extensions={"code": "GRAPHQL_VALIDATION_FAILED"}
        ) from None
    return total


#: documents that passed the checks depending on the document alone and validation, by
#: (document, strawberry schema) identity: a schema's extensions, made with it, fix its field cap
#: and validation rules. Each entry holds its document and schema, so their ids are not reused
#: while it is here. Cleared when full.
_PASSED: dict[tuple[int, int], tuple[DocumentNode, object]] = {}
PASSED_SIZE = 512


def passed_before(document: DocumentNode, schema: object) -> bool:
    """Whether `document` (by identity) passed this strawberry schema's validation before:
    only its variables remain to be checked (here and in `schema.fastpath`)."""
    found = _PASSED.get((id(document), id(schema)))
    return found is not None and found[0] is document and found[1] is schema


def _remember(document: DocumentNode, schema: object) -> None:
    if len(_PASSED) >= PASSED_SIZE:
        _PASSED.clear()
    _PASSED[(id(document), id(schema))] = (document, schema)


class CostedValidationCache(ValidationCache):
    """Strawberry's `ValidationCache`, which validates every document, preceded by the
    expanded-field count (a document over `max_fields` is refused without being validated) and
    the searches for Int literals too long for Python to read and for name or id arguments over
    `argbounds.MAX_TEXT`.

    The parser cache hands back the same document object for the same text, so a document that
    passed is known by identity (`_PASSED`): sent again (a client's createExecution, 100 times
    a second), only its variables are checked. Strawberry's cache finds a validated document
    by hashing it, which walks the whole tree (~25 µs for a small mutation), and the count walks
    it again (~16 µs); a refused or invalid document is checked each time, as before."""

    def __init__(self, maxsize: int, max_fields: int) -> None:
        super().__init__(maxsize=maxsize)
        self.max_fields = max_fields

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is None:
            yield from super().on_validate()
            return
        if passed_before(document, context.schema):
            refused = self._checked(
                lambda: argbounds.too_long_argument(document, context.variables)
            )
            context.pre_execution_errors = [] if refused is None else [refused]
            yield
            return
        refused = self._checked(lambda: self._refusal(document))
        if refused is not None:
            context.pre_execution_errors = [refused]
            yield
            return
        yield from super().on_validate()
        if not context.pre_execution_errors:
            _remember(document, context.schema)

    def _refusal(self, document: DocumentNode) -> GraphQLError | None:
        """Why the document is refused before validation, if it is."""
        context = self.execution_context
        expanded_fields(document, self.max_fields)
        return literals.oversized_int_literal(
            context.query or "", document
        ) or argbounds.too_long_argument(document, context.variables)

    @staticmethod
    def _checked(check: Callable[[], GraphQLError | None]) -> GraphQLError | None:
        """A check's refusal. A check that fails unexpectedly (a bug) refuses the document with
        an error carrying the exception, which the masking extension turns into
        INTERNAL_SERVER_ERROR, logged with its `errorId` (raised from here, it would escape the
        masking and read as the user's validation error)."""
        try:
            return check()
        except GraphQLError as error:
            return error
        except Exception as error:
            return GraphQLError(str(error), original_error=error)
