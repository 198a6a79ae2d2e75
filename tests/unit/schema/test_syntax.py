"""Syntax errors inside string literals name the argument that holds the string."""

from __future__ import annotations

import pytest
from graphql import GraphQLError, parse

from tercel.schema import syntax


def _named(query: str) -> GraphQLError:
    with pytest.raises(GraphQLError) as caught:
        parse(query)
    return syntax.named_syntax_error(caught.value, query)


@pytest.mark.parametrize(
    ("query", "place"),
    [
        ('{ flow(namespace: "\\udfff", id: "x") { id } }', "argument `namespace` of field `flow`"),
        (
            '{ executions(filter: {q: "a\\ud800"}) { n } }',
            "argument `filter.q` of field `executions`",
        ),
        ('query($v: String = "\\ud800") { a }', "the default value of variable `$v`"),
        ('{ a @include(if: "\\ud800") }', "argument `if` of directive `@include`"),
        ('{ a(x: ["ok", "\\ud800\\uD801"]) }', "argument `x` of field `a`"),
        ('{ a(x: "\\u{D800}") }', "argument `x` of field `a`"),
        ('{ a(x: "\\q") }', "argument `x` of field `a`"),
        # two bad escapes: the first is reported, the second blanked on the way
        ('{ a(x: "\\udfff", y: "\\udfff") }', "argument `x` of field `a`"),
    ],
)
def test_the_place_of_a_bad_string_is_named(query: str, place: str) -> None:
    error = _named(query)
    assert error.message.startswith("Syntax Error: ")
    assert error.message.endswith(f"(in {place}).")
    assert error.locations, error


@pytest.mark.parametrize("query", ["{ a(x: 1", '{ a(x: "unterminated) }', "{ a(x: $) }"])
def test_other_syntax_errors_are_unchanged(query: str) -> None:
    with pytest.raises(GraphQLError) as caught:
        parse(query)
    assert syntax.named_syntax_error(caught.value, query) is caught.value
