"""`ChangeSet.is_empty` counts every field: a change set holding only a plan, or only the end
of a process record, still has something to write."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tercel.engine import changes

FIELDS = [f.name for f in dataclasses.fields(changes.ChangeSet)]


def one_item(value: Any) -> Any:
    """A container of the field's kind holding one placeholder item."""
    return {"key": object()} if isinstance(value, dict) else [object()]


def test_a_fresh_change_set_is_empty() -> None:
    assert changes.ChangeSet().is_empty()


@pytest.mark.parametrize("name", FIELDS)
def test_every_field_counts(name: str) -> None:
    cs = changes.ChangeSet()
    setattr(cs, name, one_item(getattr(cs, name)))
    assert not cs.is_empty(), f"ChangeSet.is_empty ignores `{name}`"


def test_plans_and_ended_processes_are_fields() -> None:
    assert {"plans", "processes_ended"} <= set(FIELDS)
