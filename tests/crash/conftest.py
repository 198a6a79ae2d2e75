"""Crash tests: a real `tercel server` subprocess SIGKILLed and restarted on the same file.

`slow` tests here (the long crash run) are deselected unless a `-m` expression is given:
`pytest tests/crash -m slow` runs them."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.crash.server import deselect_slow


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    deselect_slow(config, items, Path(__file__).parent)
