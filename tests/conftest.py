"""Suite-wide collection order: the longest single file first.

`make test` hands whole files to two pytest-xdist workers in collection order (`--dist loadfile
--no-loadscope-reorder`). `tests/unit/engine/test_rules.py` (the full state x event matrix,
thousands of cases in one file, so one worker) came near the end: its worker ran alone for the
last 10-20 s of the traced run while the other had finished (CONTRIBUTING.md#coverage). Started
first, it overlaps with the other worker's files."""

from __future__ import annotations

from pathlib import Path

import pytest

#: files that run long as one unit, started before everything else
FIRST = (Path(__file__).parent / "unit" / "engine" / "test_rules.py",)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    del config
    first = [item for item in items if item.path in FIRST]
    if first:
        items[:] = first + [item for item in items if item.path not in FIRST]
