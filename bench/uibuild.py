"""Whether the web UI the bench serves was built from the checkout's sources.

The server serves `src/tercel/webui/dist` as it is, and `python -m bench --only ui` does not
build it (`make bench` does). A build older than its sources measures other code: the open
list's commit -> DOM of 2026-12-07 (p50 490 ms for a new row) was measured on a build made
before the list showed new rows from its stream (its app chunk, app-BWrkme4P.js, is what
f656ff7~1 builds), so every new row had waited for a query. The browser tests
(tests/browser/conftest.py) check the same: a stale build would test other code. The sources
are the Makefile's (`UI_SOURCES`): a build older than one of them is stale, as `make ui` sees
it."""

from __future__ import annotations

from pathlib import Path

#: the files `make ui` builds from, relative to the checkout (ui/src/gql is generated)
SOURCES = (
    "ui/src",
    "ui/index.html",
    "ui/graphiql.html",
    "ui/vite.config.ts",
    "ui/codegen.ts",
    "ui/tsconfig.json",
    "schema.graphql",
)
GENERATED = "ui/src/gql"


def newer_sources(checkout: Path, built: Path) -> list[Path]:
    """The UI sources of `checkout` modified after `built` (the build's index.html), newest
    first; every source when nothing was built."""
    found = []
    for name in SOURCES:
        root = checkout / name
        files = root.rglob("*") if root.is_dir() else [root]
        found += [f for f in files if f.is_file() and not f.is_relative_to(checkout / GENERATED)]
    if not built.is_file():
        return sorted(found)
    since = built.stat().st_mtime
    newer = [f for f in found if f.stat().st_mtime > since]
    return sorted(newer, key=lambda f: f.stat().st_mtime, reverse=True)


def check(dist: Path) -> None:
    """Refuse a stale build of the checkout that holds `dist` (<checkout>/src/tercel/webui/dist);
    a `dist` outside a checkout (a copy made for an A/B, bench/ui_ab.py) is taken as it is."""
    checkout = dist.parents[3]
    if not (checkout / "ui" / "src").is_dir():
        return
    newer = newer_sources(checkout, dist / "index.html")
    if newer:
        shown = ", ".join(str(f.relative_to(checkout)) for f in newer[:3])
        raise RuntimeError(
            f"the web UI in {dist} is older than {len(newer)} of its sources ({shown}): "
            "run `make ui` (the server serves the built files as they are)"
        )
