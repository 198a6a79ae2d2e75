"""Honest refusals (docs/semantics.md#honest-refusals): a Kestra core or scripts type or
property that Tercel does not run is named as such; any other unknown name gets the closest
known one suggested.

The names are data, `kestra_types.txt`, generated from Kestra's sources by
scripts/kestra_types.py: `task|trigger|condition NAME` lines (legacy aliases included) and
`property TYPE NAME` lines for the tasks of io.kestra.plugin.core.* and scripts.shell.*.
"""

from __future__ import annotations

import difflib
import functools
from collections import defaultdict
from collections.abc import Iterable
from importlib import resources

__all__ = [
    "FLOW",
    "kestra_kind",
    "unknown_flow_property_message",
    "unknown_property_message",
    "unknown_type_message",
]

#: the name the flow's own properties are listed under
FLOW = "io.kestra.core.models.flows.Flow"


@functools.cache
def _catalog() -> tuple[dict[str, str], dict[str, frozenset[str]]]:
    kinds: dict[str, str] = {}
    properties: dict[str, set[str]] = defaultdict(set)
    text = resources.files(__package__).joinpath("kestra_types.txt").read_text("utf-8")
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and not line.startswith("#"):
            kinds[parts[1]] = parts[0]
        elif len(parts) == 3 and parts[0] == "property":
            properties[parts[1]].add(parts[2])
    return kinds, {name: frozenset(found) for name, found in properties.items()}


def kestra_kind(name: str) -> str | None:
    """`task`, `trigger` or `condition` when `name` is one of Kestra's core or scripts types."""
    return _catalog()[0].get(name)


def unknown_type_message(written: str, known: Iterable[str], kind: str = "task") -> str:
    """Why a `kind` type Tercel does not register is refused (`known`: the names it runs)."""
    found = kestra_kind(written)
    if found == kind:
        return f"`{written}` is a Kestra {kind} type that Tercel does not run"
    if found is not None:
        return f"`{written}` is a Kestra {found} type, not a {kind} type"
    hint = _closest(written, sorted(known))
    return f"unknown {kind} type `{written}`" + (f"; did you mean `{hint}`?" if hint else "")


def unknown_property_message(type_names: Iterable[str], written: str, known: Iterable[str]) -> str:
    """Why a property is refused on a task of one of `type_names` (its name and aliases)."""
    properties = _catalog()[1]
    for type_name in type_names:
        if written in properties.get(type_name, ()):
            return f"`{written}` is a property of Kestra's `{type_name}` that Tercel does not run"
    close = difflib.get_close_matches(written, sorted(known), n=1, cutoff=0.7)
    return f"unknown property `{written}`" + (f"; did you mean `{close[0]}`?" if close else "")


def unknown_flow_property_message(written: str, known: Iterable[str]) -> str:
    """Why a top-level key of a flow is refused."""
    if written in _catalog()[1].get(FLOW, ()):
        return f"`{written}` is a Kestra flow property that Tercel does not run"
    close = difflib.get_close_matches(written, sorted(known), n=1, cutoff=0.7)
    return f"unknown property `{written}`" + (f"; did you mean `{close[0]}`?" if close else "")


def _closest(written: str, known: list[str]) -> str | None:
    """The known name nearest to `written`: by the full name, else by the class name alone
    (`io.kestra.plugin.core.log.Logg` and `Log` both suggest `io.kestra.plugin.core.log.Log`)."""
    close = difflib.get_close_matches(written, known, n=1, cutoff=0.8)
    if close:
        return close[0]
    by_short = {name.rsplit(".", 1)[-1]: name for name in known}
    short = difflib.get_close_matches(written.rsplit(".", 1)[-1], list(by_short), n=1, cutoff=0.75)
    return by_short[short[0]] if short else None
