"""A request's loaders are made on first use (a createExecution used none and made ten), one
per kind per request, so the loads of one request still batch together."""

from __future__ import annotations

from typing import Any

import pytest

from tercel.schema import context


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    made: list[str] = []
    original = context.DataLoader

    def counting(*args: Any, **kwargs: Any) -> Any:
        made.append("loader")
        return original(*args, **kwargs)

    monkeypatch.setattr(context, "DataLoader", counting)
    return made


def test_no_loader_is_made_before_its_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    made = _counting(monkeypatch)
    context.new_loaders(db=None)  # type: ignore[arg-type]  # no read happens
    assert made == []


def test_each_kind_is_made_once_per_request(monkeypatch: pytest.MonkeyPatch) -> None:
    made = _counting(monkeypatch)
    loaders = context.new_loaders(db=None)  # type: ignore[arg-type]
    assert loaders.histories is loaders.histories
    assert loaders.task_runs is not loaders.histories
    assert len(made) == 2
    other = context.new_loaders(db=None)  # type: ignore[arg-type]
    assert other.histories is not loaders.histories  # a new request: fresh caches
