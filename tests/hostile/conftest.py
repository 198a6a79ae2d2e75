"""Hostile-input tests: one real `tercel server` subprocess for the whole folder; every test
checks afterwards that it still serves. `slow` tests are deselected unless `-m` is given."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.crash.server import TercelServer, deselect_slow, running_server


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    deselect_slow(config, items, Path(__file__).parent)


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TercelServer]:
    # a short `connection_init` wait (semantics.md#subscriptions), ignored by servers without the
    # setting
    env = {"TERCEL_CONNECTION_INIT_TIMEOUT": "1"}
    with running_server(tmp_path_factory.mktemp("hostile"), env) as started:
        yield started
    assert started.proc is not None
    assert started.proc.returncode == 0, started.log_tail()
