"""The import-cycle check of `make lint` (scripts/import_cycles.py) on packages built here: it
fails on a cycle made of a function-level or a TYPE_CHECKING import, and passes Tercel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "import_cycles.py"


def check(package: str, path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(path), str(ROOT / "src")])}
    return subprocess.run(
        [sys.executable, str(SCRIPT), package], capture_output=True, text=True, env=env, timeout=60
    )


def build(root: Path, name: str, modules: dict[str, str]) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    for module, text in modules.items():
        (folder / f"{module}.py").write_text(text)
    return root


def test_a_cycle_through_a_function_level_import_fails(tmp_path: Path) -> None:
    build(
        tmp_path,
        "loopy",
        {
            "alpha": "from loopy import beta\n",
            "beta": "def late():\n    from loopy import alpha\n    return alpha\n",
            "gamma": "from loopy import alpha\n",
        },
    )
    done = check("loopy", tmp_path)
    assert done.returncode == 1, done.stderr
    assert "import cycle: loopy.alpha <-> loopy.beta" in done.stderr
    assert "gamma" not in done.stderr


def test_a_cycle_through_a_type_checking_import_fails(tmp_path: Path) -> None:
    typed = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from typer_ import one\n"
    build(tmp_path, "typer_", {"one": "from typer_ import two\n", "two": typed})
    done = check("typer_", tmp_path)
    assert done.returncode == 1
    assert "typer_.one <-> typer_.two" in done.stderr


def test_a_package_without_cycles_passes(tmp_path: Path) -> None:
    build(tmp_path, "tidy", {"low": "X = 1\n", "high": "from tidy import low\n"})
    assert check("tidy", tmp_path).returncode == 0


def test_tercel_has_no_cycle_but_the_known_ones() -> None:
    done = check("tercel", ROOT / "src")
    assert done.returncode == 0, done.stderr
