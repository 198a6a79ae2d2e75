"""The UI bench refuses to measure a stale build (bench/uibuild.py): the open list's 490 ms
p50 for a new row of 2026-12-07 was a build made before the list took new rows from its
stream, served by a checkout whose sources had moved on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from bench import uibuild


def _checkout(root: Path) -> Path:
    """A checkout with one UI source, a generated file and a build, all dated 1,000 s ago."""
    for name in ("ui/src/lib/live.ts", "ui/src/gql/graphql.ts", "schema.graphql"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x")
    dist = root / "src" / "tercel" / "webui" / "dist"
    dist.mkdir(parents=True)
    (dist / "index.html").write_text("<html></html>")
    for path in root.rglob("*"):
        os.utime(path, (1_000_000, 1_000_000))
    os.utime(dist / "index.html", (1_000_100, 1_000_100))
    return dist


def test_a_build_newer_than_its_sources_is_measured(tmp_path: Path) -> None:
    uibuild.check(_checkout(tmp_path))


def test_a_source_changed_after_the_build_is_refused_by_name(tmp_path: Path) -> None:
    dist = _checkout(tmp_path)
    os.utime(tmp_path / "ui/src/lib/live.ts", (1_000_200, 1_000_200))
    with pytest.raises(RuntimeError, match=r"older than 1 of its sources \(ui/src/lib/live.ts\)"):
        uibuild.check(dist)


def test_the_schema_counts_and_generated_code_does_not(tmp_path: Path) -> None:
    dist = _checkout(tmp_path)
    os.utime(tmp_path / "ui/src/gql/graphql.ts", (1_000_200, 1_000_200))
    uibuild.check(dist)
    os.utime(tmp_path / "schema.graphql", (1_000_300, 1_000_300))
    with pytest.raises(RuntimeError, match=r"schema\.graphql.*make ui"):
        uibuild.check(dist)


def test_no_build_at_all_is_refused(tmp_path: Path) -> None:
    dist = _checkout(tmp_path)
    (dist / "index.html").unlink()
    with pytest.raises(RuntimeError, match="older than 2 of its sources"):
        uibuild.check(dist)


def test_a_copy_outside_a_checkout_is_taken_as_it_is(tmp_path: Path) -> None:
    dist = tmp_path / "copy" / "tercel" / "webui" / "dist"  # bench/ui_ab.py's variants
    dist.mkdir(parents=True)
    uibuild.check(dist)
