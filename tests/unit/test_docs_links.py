"""The pointers into the documentation cannot rot: every `semantics.md#anchor`,
`architecture.md#anchor` or `ui/README.md#anchor` named in the code, and every
`[text](page.md#anchor)` or `(#anchor)` link of the markdown pages, must name an anchor that the
page has (an `<a id="...">` or a heading), and no file of the package, the UI, the tests, benches
or scripts cites a "§" of the design documents that are not in the repository
(docs/semantics.md#spec-references)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: a page of docs/ named in code or comments: `docs/semantics.md#pause-execution`
CODE_POINTER = re.compile(r"\b(semantics|architecture)\.md#([A-Za-z0-9_-]+)")
#: the UI's own page named in its sources: `ui/README.md#stable-hooks`
UI_POINTER = re.compile(r"\bui/README\.md#([A-Za-z0-9_-]+)")
#: a markdown link with an anchor: `[kill](#kill)`, `[the store](architecture.md#store)`
MD_LINK = re.compile(r"\]\(([^)#\s]*)#([^)\s]+)\)")
ANCHOR = re.compile(r"""<a\s+(?:id|name)=["']([^"']+)["']""")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
CODE_SUFFIXES = {".py", ".sql", ".ts", ".svelte", ".toml"}


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = page.read_text(encoding="utf-8")
    return set(ANCHOR.findall(text)) | {slug(h) for h in HEADING.findall(text)}


def _code_files(root: Path) -> list[Path]:
    found: list[Path] = []
    for folder in (
        root / "src",
        root / "ui" / "src",
        root / "tests",
        root / "scripts",
        root / "bench",
    ):
        if folder.is_dir():
            found += [p for p in folder.rglob("*") if p.suffix in CODE_SUFFIXES]
    # this file's examples are wrong on purpose
    return sorted(p for p in found if "node_modules" not in p.parts and p != Path(__file__))


def _pages(root: Path) -> list[Path]:
    found = [root / "README.md", root / "CONTRIBUTING.md", root / "ui" / "README.md"]
    found += sorted((root / "docs").glob("*.md"))
    return [p for p in found if p.is_file()]


def broken_links(root: Path) -> list[str]:
    """`file:line: what` for every pointer whose page or anchor does not exist."""
    known: dict[Path, set[str]] = {}

    def has(page: Path, anchor: str) -> bool:
        if page not in known:
            known[page] = anchors(page) if page.is_file() else set()
        return anchor in known[page]

    found: list[str] = []
    for path in _code_files(root):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for page, anchor in CODE_POINTER.findall(line):
                if not has(root / "docs" / f"{page}.md", anchor):
                    where = path.relative_to(root)
                    found.append(f"{where}:{number}: docs/{page}.md has no anchor #{anchor}")
            for anchor in UI_POINTER.findall(line):
                if not has(root / "ui" / "README.md", anchor):
                    where = path.relative_to(root)
                    found.append(f"{where}:{number}: ui/README.md has no anchor #{anchor}")
    for path in _pages(root):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for target, anchor in MD_LINK.findall(line):
                if target.startswith(("http:", "https:")):
                    continue
                page = (path.parent / target).resolve() if target else path
                if page.suffix == ".md" and not has(page, anchor):
                    where = path.relative_to(root)
                    found.append(f"{where}:{number}: {target or path.name} has no anchor #{anchor}")
    return found


def section_signs(root: Path) -> list[str]:
    """`file:line` of every "§" left in the sources, tests, benches and scripts: a reader of the
    repository cannot open the section it cites (point at docs/semantics.md or
    docs/architecture.md by anchor, or name the Kestra test or RFC section in words)."""
    return [
        f"{path.relative_to(root)}:{number}"
        for path in _code_files(root)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "§" in line
    ]


def test_every_pointer_into_the_docs_lands_on_an_anchor() -> None:
    assert broken_links(ROOT) == []


def test_no_source_cites_a_section_of_the_design_documents() -> None:
    assert section_signs(ROOT) == []


def _tree(root: Path, source: str, readme: str) -> Path:
    (root / "docs").mkdir()
    (root / "docs" / "semantics.md").write_text(
        '# Semantics\n\n<a id="kill"></a>\n## Kill\n\n## Pause and resume\n', encoding="utf-8"
    )
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "pkg" / "mod.py").write_text(source, encoding="utf-8")
    (root / "README.md").write_text(readme, encoding="utf-8")
    return root


def test_a_section_sign_in_tests_bench_or_scripts_is_reported(tmp_path: Path) -> None:
    for folder, text in (
        ("tests/engine", '"""\u00a712.5: three executions end RETRIED, RETRIED, FAILED."""\n'),
        ("bench", "X = 1  # graphql-api \u00a77\n"),
        ("scripts", "# a frame (RFC 6455, section 5.2): not a section sign\n"),
        ("ui/src", "// the hooks of contract \u00a76\n"),
    ):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "mod.py").write_text(text, encoding="utf-8")
    assert section_signs(tmp_path) == ["bench/mod.py:1", "tests/engine/mod.py:1", "ui/src/mod.py:1"]


def test_a_bad_anchor_or_a_section_sign_is_reported(tmp_path: Path) -> None:
    source = (
        '"""Kill (docs/semantics.md#kill), pause (semantics.md#pause-and-resume)."""\n'
        "# a typo: semantics.md#kil, a page that is not there: architecture.md#layers\n"
        "X = 1  # execution-model §25.1\n"
        "# the hooks: ui/README.md#stable-hooks\n"
    )
    readme = "[kill](docs/semantics.md#kill) [nope](docs/semantics.md#nope) [self](#top)\n# Top\n"
    root = _tree(tmp_path, source, readme)
    assert broken_links(root) == [
        "src/pkg/mod.py:2: docs/semantics.md has no anchor #kil",
        "src/pkg/mod.py:2: docs/architecture.md has no anchor #layers",
        "src/pkg/mod.py:4: ui/README.md has no anchor #stable-hooks",
        "README.md:1: docs/semantics.md has no anchor #nope",
    ]
    assert section_signs(root) == ["src/pkg/mod.py:3"]
