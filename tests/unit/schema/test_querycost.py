"""The expanded-field count of `querycost` (semantics.md#api-limits): linear in the document."""

from __future__ import annotations

import time

import pytest
from graphql import GraphQLError, parse

from tercel.schema.querycost import MAX_COMPARISONS, expanded_fields


def nested_fan_out(levels: int) -> str:
    """Each fragment selects the next one under two different fields: 2^levels fields and no
    two with the same name in one place."""
    parts = ["query { ...F0 }"]
    parts += [
        f"fragment F{i} on T {{ x {{ ...F{i + 1} }} y {{ ...F{i + 1} }} }}" for i in range(levels)
    ]
    parts.append(f"fragment F{levels} on T {{ leaf }}")
    return "\n".join(parts)


def test_fields_are_counted_with_fragments_expanded() -> None:
    assert expanded_fields(parse("{ a b { c d } }"), 2000) == 4
    assert expanded_fields(parse(nested_fan_out(3)), 2000) == 2 + 4 + 8 + 8


@pytest.mark.timing
def test_a_fan_out_is_refused_in_linear_time() -> None:
    began = time.monotonic()
    with pytest.raises(GraphQLError, match="more than 2000 fields once its fragments"):
        expanded_fields(parse(nested_fan_out(40)), 2000)
    assert time.monotonic() - began < 0.05


def test_same_named_fields_are_capped_by_comparisons() -> None:
    document = parse("{ " + "a { b } " * 150 + "}")
    with pytest.raises(GraphQLError, match=f"`a` 150 times .* more than {MAX_COMPARISONS}"):
        expanded_fields(document, 2000)
    assert expanded_fields(parse("{ " + "a { b } " * 50 + "}"), 2000) == 100


def test_unknown_and_cyclic_fragments_are_left_to_validation() -> None:
    assert expanded_fields(parse("query { ...Nope a }"), 2000) == 1
    cyclic = "query { ...A } fragment A on T { x ...B } fragment B on T { y ...A }"
    assert expanded_fields(parse(cyclic), 2000) == 2
