"""The public conformance cases, each run through the real CLI (`tercel run --json`) in a
subprocess and judged by the shared checker's own functions."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

HERE = Path(__file__).parent
TERCEL = [sys.executable, "-m", "tercel"]


def _checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tercel_conformance_check", HERE / "check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


CHECK = _checker()
CASES = CHECK.load_cases([str(HERE / "cases")])


def test_cases_were_found() -> None:
    assert len(CASES) >= 50


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: object) -> None:
    assert not case.problems, case.problems  # type: ignore[attr-defined]
    result = CHECK.run_case(case, TERCEL, 60.0, False)
    reasons = CHECK.evaluate(case, result)
    assert not reasons, (
        "\n".join(reasons) + "\nstderr:\n" + CHECK.stderr_tail(result.stderr, 30, 4000)
    )
