"""The one length bound of the name and id arguments, checked before validation (#12 fuzz).

A namespace is matched with LIKE (the namespace and its sub-namespaces), which SQLite refuses
for patterns over 50,000 bytes: `flows(namespace: <70,000 characters>)` was a masked
INTERNAL_SERVER_ERROR. Every `namespace`, `flowId`, id and free-text `q` argument of a root
field, given literally or as a variable, directly or in its `filter`, is at most `MAX_TEXT`
characters; nothing else (a flow source, JSON inputs) is looked at.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    value_from_ast_untyped,
)

from tercel.schema.errors import BadUserInput

__all__ = ["MAX_TEXT", "NAMES", "check_length", "too_long_argument"]

#: longest name, id or search text (SQLite refuses LIKE patterns over 50,000 bytes)
MAX_TEXT = 1000

#: the arguments, and fields of a root field's `filter`, that `MAX_TEXT` bounds
NAMES = frozenset(
    {
        "namespace",
        "namespaceEquals",
        "flowId",
        "id",
        "executionId",
        "taskRunId",
        "taskId",
        "parentId",
        "originalId",
        "parentTaskRunId",
        "q",
    }
)


def check_length(value: object, where: str) -> None:
    """Raise `BadUserInput` naming `where` when `value` is a string over `MAX_TEXT`."""
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise BadUserInput(f"`{where}` is longer than {MAX_TEXT} characters ({len(value)})")


def too_long_argument(document: DocumentNode, variables: object) -> GraphQLError | None:
    """A `BAD_USER_INPUT` error for the first bounded argument over `MAX_TEXT`, if any."""
    given = variables if isinstance(variables, Mapping) else {}
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        for field in _root_fields(definition.selection_set, fragments, set()):
            for argument in field.arguments or ():
                try:
                    _check_argument(argument, given)
                except BadUserInput as error:
                    return GraphQLError(str(error), argument, original_error=error)
    return None


def _check_argument(argument: ArgumentNode, variables: Mapping[str, Any]) -> None:
    name = argument.name.value
    if name not in NAMES and name != "filter":
        return
    value = value_from_ast_untyped(argument.value, dict(variables))
    if name != "filter":
        check_length(value, name)
    elif isinstance(value, Mapping):
        for key in NAMES & value.keys():
            check_length(value[key], f"filter.{key}")


def _root_fields(
    selection_set: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode], seen: set[str]
) -> Iterator[FieldNode]:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                seen.add(name)
                yield from _root_fields(fragment.selection_set, fragments, seen)
