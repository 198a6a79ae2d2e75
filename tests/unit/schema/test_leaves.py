"""The fast completion path: leaf completers and the domain objects that serve as GraphQL
values (`State`, `StateHistory`) must answer exactly what graphql-core's own path answers."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest
from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLError,
    GraphQLID,
    GraphQLInt,
    GraphQLString,
)

from tercel.engine import states
from tercel.resolvers.build import build_schema
from tercel.schema import leaves, types
from tercel.settings import Settings
from tercel.storage.read import rows

SCHEMA = build_schema(Settings(db_path=":memory:"))
STATE_TYPE = SCHEMA._schema.get_type("StateType")
DATE_TIME = SCHEMA._schema.get_type("DateTime")
DURATION = SCHEMA._schema.get_type("Duration")


def test_builtin_scalars_pass_exact_values_and_coerce_others() -> None:
    assert leaves.required(GraphQLString)("abc") == "abc"
    assert leaves.required(GraphQLString)(12) == "12"  # graphql-core's own coercion
    assert leaves.required(GraphQLID)("x1") == "x1"
    assert leaves.required(GraphQLInt)(7) == 7
    assert leaves.required(GraphQLInt)(True) == 1  # a bool is not exactly an int
    assert leaves.nullable(GraphQLBoolean)(None) is None
    with pytest.raises(leaves.NotPlain):
        leaves.required(GraphQLInt)(None)


@pytest.mark.parametrize("state", list(states.StateType))
def test_enum_names_match_graphql_core(state: states.StateType) -> None:
    assert isinstance(STATE_TYPE, GraphQLEnumType)
    assert leaves.required(STATE_TYPE)(state) == STATE_TYPE.serialize(state) == state.name


def test_enum_none_and_foreign_values() -> None:
    assert isinstance(STATE_TYPE, GraphQLEnumType)
    assert leaves.nullable(STATE_TYPE)(None) is None
    with pytest.raises(leaves.NotPlain):
        leaves.required(STATE_TYPE)(None)
    with pytest.raises(GraphQLError):  # graphql-core's own error for a non-member
        leaves.required(STATE_TYPE)(object())


def test_instants_and_durations_memoized_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    complete = leaves.required(DATE_TIME)  # type: ignore[arg-type]
    instant = datetime(2024, 5, 4, 12, 2, 54, 0, tzinfo=UTC)
    assert complete(instant) == "2024-05-04T12:02:54.000000Z"
    assert complete(instant) == DATE_TIME.serialize(instant)  # type: ignore[union-attr]
    # another zone, the same instant: the same text
    assert (
        complete(instant.astimezone(timezone(timedelta(hours=2)))) == "2024-05-04T12:02:54.000000Z"
    )
    duration = leaves.nullable(DURATION)  # type: ignore[arg-type]
    assert duration(timedelta(seconds=90)) == "PT1M30S"
    assert duration(None) is None
    monkeypatch.setattr(leaves, "MEMO_SIZE", 3)
    for second in range(10):
        complete(instant + timedelta(seconds=second))
    assert len(leaves._memos["DateTime"]) <= 3  # cleared when full, then filled again


@pytest.mark.parametrize(
    ("view", "domain"),
    [(types.State, states.State), (types.StateHistory, states.HistoryEntry)],
)
def test_domain_objects_carry_every_field_of_their_view(view: type, domain: type) -> None:
    at = datetime(2024, 1, 1, tzinfo=UTC)
    sample = states.State.new(states.StateType.CREATED, at).with_entry(
        states.StateType.SUCCESS, at + timedelta(seconds=2)
    )
    value = sample if domain is states.State else sample.histories[-1]
    definition = view.__strawberry_definition__  # type: ignore[attr-defined]
    for field in definition.fields:
        assert hasattr(value, field.python_name), f"{domain.__name__} lacks {field.python_name}"
    assert types.State.from_domain(sample) is sample  # no second object per state
    assert dataclasses.is_dataclass(domain)


def test_attempt_numbers_from_history_keys() -> None:
    state = states.State.new(states.StateType.CREATED, datetime(2024, 1, 1, tzinfo=UTC))
    histories = {
        ("E", "ex", None): state,
        ("T", "t1", None): state,
        ("A", "t1", 2): state,
        ("A", "t1", 1): state,
        ("A", "t2", 1): state,
    }
    assert rows.attempt_numbers(histories) == {"t1": [1, 2], "t2": [1]}
