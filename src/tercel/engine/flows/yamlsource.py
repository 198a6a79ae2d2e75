"""Safe YAML → located nodes: every node knows its document path, line and column (1-based).

Tercel reads flows from the YAML event stream of ruamel's pure-Python parser and composes the
nodes itself, so nothing is ever constructed from a tag and every value keeps its position and
source text. Refused (docs/semantics.md#validation): sources over 256 KiB, nesting over 32 levels,
anchors and aliases (alias bombs never expand), duplicate keys, tags outside YAML 1.2's core
schema, several documents. Scalars resolve with YAML 1.2 core rules: only `true`/`false` (and
their capitalised forms) are booleans; `yes`, `on`, `2024-01-01` stay strings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import ruamel.yaml
from ruamel.yaml import error as yaml_error

from tercel.engine import storable
from tercel.engine.flows import validation

__all__ = [
    "MAX_DEPTH",
    "MAX_SOURCE_BYTES",
    "MapNode",
    "Node",
    "ScalarNode",
    "SeqNode",
    "child_path",
    "parse",
    "to_data",
]

MAX_SOURCE_BYTES = 256 * 1024
MAX_DEPTH = 32

_CORE = "tag:yaml.org,2002:"
_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")
_NULL_RE = re.compile(r"~|null|Null|NULL|")
_BOOL_RE = re.compile(r"true|True|TRUE|false|False|FALSE")
_INT_RE = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT_RE = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)

ScalarValue = str | int | float | bool | None


@dataclass(frozen=True, slots=True, eq=False)
class Node:
    path: str  #: where the node stands in its document (`tasks[2].retry`), "" for the root
    line: int
    column: int


@dataclass(frozen=True, slots=True, eq=False)
class ScalarNode(Node):
    text: str  #: the scalar's content as written (quotes and escapes resolved)
    value: ScalarValue  #: resolved with YAML 1.2 core rules

    @property
    def is_null(self) -> bool:
        return self.value is None


@dataclass(frozen=True, slots=True, eq=False)
class SeqNode(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True, eq=False)
class MapNode(Node):
    #: key nodes carry the path of their entry, so an issue about a key points at it
    entries: tuple[tuple[ScalarNode, Node], ...]

    def get(self, key: str) -> Node | None:
        for name, value in self.entries:
            if name.text == key:
                return value
        return None


def child_path(parent: str, key: str | int) -> str:
    """`tasks` + 2 → `tasks[2]`; `tasks[2]` + `retry` → `tasks[2].retry`; odd keys are quoted."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if not _KEY_RE.fullmatch(key):
        escaped = key.replace("\\", "\\\\").replace('"', '\\"')
        return f'{parent}["{escaped}"]'
    return f"{parent}.{key}" if parent else key


def to_data(node: Node) -> Any:
    """Plain Python data (dict, list, str, int, float, bool, None); map keys are their text."""
    if isinstance(node, ScalarNode):
        return node.value
    if isinstance(node, SeqNode):
        return [to_data(item) for item in node.items]
    assert isinstance(node, MapNode)
    return {key.text: to_data(value) for key, value in node.entries}


def parse(source: str, issues: validation.Issues, *, stored: bool = False) -> Node | None:
    """The document's root node, or None when the source cannot be read (issues say why).

    `stored`: a revision already stored, deployed before text that cannot be stored was
    refused: its lone surrogates read as U+FFFD instead (see storable)."""
    if len(source.encode("utf-8", "surrogatepass")) > MAX_SOURCE_BYTES:
        issues.add_at("", "the flow source is larger than 256 KiB")
        return None
    composer = _Composer(source, issues, stored)
    try:
        return composer.compose()
    except _TooDeep:
        return None
    except yaml_error.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(part for part in (exc.context, exc.problem) if part) or "invalid YAML"
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        issues.add_at("", f"invalid YAML: {message}", line, column)
    except yaml_error.YAMLError as exc:
        line, column = _position(source, getattr(exc, "position", None))
        reason = getattr(exc, "reason", None) or str(exc).splitlines()[0]
        issues.add_at("", f"invalid YAML: {reason}", line, column)
    except (ValueError, TypeError, IndexError, UnicodeError, StopIteration) as exc:
        issues.add_at("", f"invalid YAML: {exc}")
    return None


class _TooDeep(Exception):
    pass


def _position(source: str, index: object) -> tuple[int | None, int | None]:
    if not isinstance(index, int) or not 0 <= index <= len(source):
        return None, None
    line = source.count("\n", 0, index) + 1
    return line, index - (source.rfind("\n", 0, index) + 1) + 1


def _display_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag


class _Composer:
    """Builds nodes from parser events, reporting refusals without ever expanding an alias."""

    def __init__(self, source: str, issues: validation.Issues, stored: bool) -> None:
        self._issues, self._stored = issues, stored
        self._events: Iterator[Any] = iter(ruamel.yaml.YAML(typ="safe", pure=True).parse(source))

    def _next(self) -> Any:
        return next(self._events)

    def compose(self) -> Node | None:
        self._next()  # StreamStart
        event = self._next()
        if type(event).__name__ == "StreamEndEvent":
            self._issues.add_at("", "the flow must be a YAML mapping, got an empty document")
            return None
        root = self._node(self._next(), "", 1)
        self._next()  # DocumentEnd
        event = self._next()
        if type(event).__name__ != "StreamEndEvent":
            self._report(event, "", "expected a single YAML document, found another one")
        if not isinstance(root, MapNode):
            self._issues.add_at("", "the flow must be a YAML mapping", root.line, root.column)
            return None
        return root

    def _report(self, event: Any, path: str, message: str) -> None:
        mark = event.start_mark
        self._issues.add_at(path, message, mark.line + 1, mark.column + 1)

    def _node(self, event: Any, path: str, depth: int) -> Node:
        kind = type(event).__name__
        line, column = event.start_mark.line + 1, event.start_mark.column + 1
        if kind == "AliasEvent":
            self._report(event, path, "YAML aliases are not allowed")
            return ScalarNode(path, line, column, "", None)
        if event.anchor is not None:
            self._report(event, path, "YAML anchors are not allowed")
        if kind == "ScalarEvent":
            return self._scalar(event, path, line, column)
        if depth > MAX_DEPTH:
            self._report(event, path, f"nesting deeper than {MAX_DEPTH} levels")
            raise _TooDeep
        expected = "seq" if kind == "SequenceStartEvent" else "map"
        if event.tag not in (None, "!", _CORE + expected):
            self._report(event, path, f"tag `{_display_tag(str(event.tag))}` is not allowed")
        if kind == "SequenceStartEvent":
            return self._sequence(path, line, column, depth)
        return self._mapping(path, line, column, depth)

    def _sequence(self, path: str, line: int, column: int, depth: int) -> SeqNode:
        items: list[Node] = []
        event = self._next()
        while type(event).__name__ != "SequenceEndEvent":
            items.append(self._node(event, child_path(path, len(items)), depth + 1))
            event = self._next()
        return SeqNode(path, line, column, tuple(items))

    def _mapping(self, path: str, line: int, column: int, depth: int) -> MapNode:
        entries: dict[str, tuple[ScalarNode, Node]] = {}
        event = self._next()
        while type(event).__name__ != "MappingEndEvent":
            key = self._node(event, path, depth + 1)
            entry_path = child_path(path, key.text) if isinstance(key, ScalarNode) else path
            value = self._node(self._next(), entry_path, depth + 1)
            if not isinstance(key, ScalarNode):
                self._issues.add_at(path, "mapping keys must be scalars", key.line, key.column)
            elif key.text in entries:
                first = entries[key.text][0]
                message = f"duplicate key `{key.text}` (first at line {first.line})"
                self._issues.add_at(entry_path, message, key.line, key.column)
            else:
                entries[key.text] = (
                    ScalarNode(entry_path, key.line, key.column, key.text, key.value),
                    value,
                )
            event = self._next()
        return MapNode(path, line, column, tuple(entries.values()))

    def _scalar(self, event: Any, path: str, line: int, column: int) -> ScalarNode:
        text = storable.joined(event.value)
        unstorable = storable.problem(text)
        if unstorable is not None:  # a `\udfff` escape: refused here, for every field at once
            if not self._stored:
                self._issues.add_at(path, unstorable, line, column)
            text = storable.scrubbed(text)
        tag = None if event.tag is None else str(event.tag)
        if tag is None or tag == "!":
            value = _resolve(text) if event.style is None and tag is None else text
            return ScalarNode(path, line, column, text, value)
        name = tag[len(_CORE) :] if tag.startswith(_CORE) else None
        if name == "str":
            return ScalarNode(path, line, column, text, text)
        if name in ("int", "float", "bool", "null"):
            value = _resolve(text)
            kind = {"int": int, "float": float, "bool": bool, "null": type(None)}[name]
            if name == "float" and type(value) is int:
                value = float(value)
            if type(value) is kind:
                return ScalarNode(path, line, column, text, value)
            self._issues.add_at(path, f"`{text}` is not a valid !!{name}", line, column)
        else:
            self._issues.add_at(path, f"tag `{_display_tag(tag)}` is not allowed", line, column)
        return ScalarNode(path, line, column, text, text)


def _resolve(text: str) -> ScalarValue:
    """YAML 1.2 core schema resolution of a plain scalar."""
    if _NULL_RE.fullmatch(text):
        return None
    if _BOOL_RE.fullmatch(text):
        return text.lower() == "true"
    if _INT_RE.fullmatch(text):
        try:
            if text.startswith(("0o", "0x")):
                return int(text[2:], 8 if text[1] == "o" else 16)
            return int(text)
        except ValueError:  # more digits than Python converts: keep the text
            return text
    if _FLOAT_RE.fullmatch(text):
        lowered = text.lower()
        if lowered.endswith(".nan"):
            return math.nan
        if lowered.endswith(".inf"):
            return -math.inf if text.startswith("-") else math.inf
        return float(text)
    return text
