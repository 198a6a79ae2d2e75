"""Syntax errors inside string literals name the argument that holds the string (#12).

graphql-core refuses a lone surrogate escape (`"\\udfff"`), an unknown escape or a control
character inside a string with a located message that says nothing of *which* value is wrong.
For those errors the bad characters are blanked out (same length, so every position holds), the
document is parsed again, and the string literal at the error's position tells its place:
"in argument `namespace` of field `flow`", "in argument `filter.q` of field `executions`", or
"in the default value of variable `$v`". Any other syntax error, or one whose place cannot be
found, is returned unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    ArgumentNode,
    DirectiveNode,
    FieldNode,
    GraphQLError,
    GraphQLSyntaxError,
    Node,
    ObjectFieldNode,
    Source,
    StringValueNode,
    VariableDefinitionNode,
    Visitor,
    parse,
    visit,
)
from strawberry.extensions import ParserCache

__all__ = ["NamingParserCache", "named_syntax_error", "place_of"]

#: the descriptions of syntax errors found inside a string, and how many characters to blank
_INSIDE_STRINGS = (
    ("Invalid Unicode escape sequence", 2),  # `\u`: the hex digits that follow stay plain text
    ("Invalid character escape sequence", 2),
    ("Invalid character within String", 1),
)
#: bad characters blanked before giving up (a document may hold several)
_MAX_REPAIRS = 32


def named_syntax_error(error: GraphQLError, source: str) -> GraphQLError:
    """`error` with the place of its string literal appended, when it is a syntax error inside
    a string of `source` whose argument (or variable default) can be found."""
    if not isinstance(error, GraphQLSyntaxError) or not error.positions:
        return error
    position = next(iter(error.positions))
    place = place_of(source, position)
    if place is None:
        return error
    description = error.message.removeprefix("Syntax Error: ").rstrip(".")
    named = GraphQLSyntaxError(Source(source), position, f"{description} ({place}).")
    named.extensions = error.extensions
    return named


def place_of(source: str, position: int) -> str | None:
    """Where the string literal around `position` sits, once every bad character inside a
    string is blanked; None when the document does not parse then, or no string is there."""
    repaired = source
    for _ in range(_MAX_REPAIRS):
        try:
            document = parse(repaired, no_location=False)
        except GraphQLSyntaxError as error:
            blanked = _blanked(repaired, error)
            if blanked is None:
                return None
            repaired = blanked
            continue
        finder = _StringAt(position)
        visit(document, finder)
        return finder.place
    return None


def _blanked(source: str, error: GraphQLSyntaxError) -> str | None:
    """`source` with the bad characters `error` points at replaced by `_`."""
    description = error.message.removeprefix("Syntax Error: ")
    for prefix, width in _INSIDE_STRINGS:
        if description.startswith(prefix) and error.positions:
            at = next(iter(error.positions))
            return source[:at] + "_" * width + source[at + width :]
    return None


class _StringAt(Visitor):
    """Finds the string literal spanning a position and describes its place."""

    def __init__(self, position: int) -> None:
        super().__init__()
        self.position = position
        self.place: str | None = None

    def enter_string_value(self, node: StringValueNode, *args: Any) -> Any:
        loc = node.loc
        if loc is None or not loc.start <= self.position < loc.end:
            return None
        _key, parent, _path, ancestors = args
        self.place = _describe([*_nodes([*ancestors, parent])])
        return False


def _nodes(ancestors: list[Any]) -> Iterator[Node]:
    for found in ancestors:
        if isinstance(found, Node):
            yield found


def _describe(path: list[Node]) -> str | None:
    """ "in argument `a` of field `f`", "in argument `filter.q` of field `f`", ... from the
    ancestors of the string."""
    keys = [n.name.value for n in path if isinstance(n, ObjectFieldNode)]
    for node in reversed(path):
        if isinstance(node, VariableDefinitionNode):
            return f"in the default value of variable `${node.variable.name.value}`"
        if isinstance(node, ArgumentNode):
            where = ".".join([node.name.value, *keys])
            return f"in argument `{where}`{_owner(path)}"
    return None


def _owner(path: list[Node]) -> str:
    for node in reversed(path):
        if isinstance(node, FieldNode):
            return f" of field `{node.name.value}`"
        if isinstance(node, DirectiveNode):
            return f" of directive `@{node.name.value}`"
    return ""


class NamingParserCache(ParserCache):
    """Strawberry's parser cache, whose syntax errors inside strings name their argument."""

    def on_parse(self) -> Iterator[None]:
        try:
            yield from super().on_parse()
        except GraphQLError as error:
            raise named_syntax_error(error, self.execution_context.query or "") from None
