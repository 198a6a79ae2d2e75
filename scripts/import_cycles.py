"""Fail when the import graph of a package has a cycle (`make lint` runs it on `tercel`).

Every import counts: at module level, inside functions, and under `if TYPE_CHECKING:`. Python
resolves a function-level import late, so such a cycle never fails at import time, but the
modules still cannot be understood or tested apart. import-linter's layers contract does not
see a cycle inside one layer; this check sees every one. It uses grimp, import-linter's own
graph library.

Usage: python scripts/import_cycles.py PACKAGE
"""

from __future__ import annotations

import sys

import grimp

#: The one place for known cycles (sorted module lists), each owned by a redesign under way;
#: none is welcome, and a new one fails `make lint`.
KNOWN: list[list[str]] = []


def cycles(package: str) -> list[list[str]]:
    """The strongly connected components of more than one module, each sorted."""
    graph = grimp.build_graph(package, cache_dir=None)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(root: str) -> None:  # iterative Tarjan: deep graphs need no recursion limit
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(edges[target])))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return sorted(found)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    new = [c for c in cycles(argv[1]) if c not in KNOWN]
    for component in new:
        print(f"import cycle: {' <-> '.join(component)}", file=sys.stderr)
    return 1 if new else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
