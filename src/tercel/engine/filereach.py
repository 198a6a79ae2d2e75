"""What an execution may read from internal storage: `read()` in expressions, `inputFiles`
URIs, ForEachItem `items` and the file routes of the HTTP API (docs/semantics.md#files).

Pure code. An execution reads its own files; the files of every execution up its parent chain
(the Subflow or ForEachItem task that started it, that one's parent, and so on); the upstream
execution of a Flow trigger (Kestra's `trigger.executionId`); its FILE inputs; and the
namespace files of its flow's namespace and of each parent namespace. Anything else is
refused, and `FileStorage.open` refuses a URI outside the scope it is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from tercel.engine import files, model, namespacefiles
from tercel.engine.files import FileRefused, FileStorage, shown

__all__ = [
    "ANCESTORS",
    "READ_LIMIT",
    "Reader",
    "ancestors_for_child",
    "file_inputs",
    "open_of_execution",
    "readable",
    "scopes_of",
]

#: the task types whose child executions read their parent's files, and Kestra's Flow trigger
#: (its execution reads the files of the execution that triggered it)
_PARENT_TRIGGERS = (
    ".flow.Subflow",
    ".flows.Subflow",
    ".flows.Flow",
    ".flow.ForEachItem",
    ".trigger.Flow",
    ".types.Flow",
)
#: the key of `Execution.variables` holding a child's parent chain, nearest first, each
#: `[namespace, flowId, executionId]` (written when the Subflow or ForEachItem creates it)
ANCESTORS = "parentExecutions"
#: the longest parent chain recorded (deeper ancestors are not readable)
_MAX_ANCESTORS = 100
#: largest file `read()` returns (an expression's output is capped at 1 MiB too)
READ_LIMIT = 1 << 20


def _parent_of_trigger(ex: model.Execution) -> list[str] | None:
    trigger = ex.trigger or {}
    if not str(trigger.get("type", "")).endswith(_PARENT_TRIGGERS):
        return None
    found = trigger.get("variables")
    if not isinstance(found, Mapping):
        return None
    parent = [found.get(key) for key in ("namespace", "flowId", "executionId")]
    if not all(isinstance(part, str) and part for part in parent):
        return None
    return [str(part) for part in parent]


def _ancestors(ex: model.Execution) -> list[list[str]]:
    """`ex`'s parent chain, nearest first: the one recorded at its creation, else (an
    execution created before chains were recorded, a Flow trigger's) its trigger's parent."""
    recorded = ex.variables.get(ANCESTORS) if isinstance(ex.variables, Mapping) else None
    chain = [
        [str(part) for part in link]
        for link in (recorded if isinstance(recorded, list) else [])
        if isinstance(link, list) and len(link) == 3 and all(isinstance(p, str) for p in link)
    ]
    direct = _parent_of_trigger(ex)
    if direct is not None and direct not in chain:
        chain.insert(0, direct)
    return chain


def ancestors_for_child(parent: model.Execution) -> list[list[str]]:
    """The chain a child of `parent` records: `parent`, then `parent`'s own chain."""
    own = [parent.namespace, parent.flow_id, parent.id]
    return [own, *(_ancestors(parent))][:_MAX_ANCESTORS]


def scopes_of(ex: model.Execution) -> tuple[tuple[str, ...], ...]:
    """Where `ex` may read: its own files, its parent chain's, and the namespace files of its
    namespace and parent namespaces."""
    found = [files.execution_prefix(ex.namespace, ex.flow_id, ex.id)]
    for namespace, flow_id, execution_id in _ancestors(ex):
        try:
            found.append(files.execution_prefix(namespace, flow_id, execution_id))
        except FileRefused:
            continue
    for namespace in namespacefiles.readable_namespaces(ex.namespace):
        try:
            found.append(namespacefiles.namespace_scope(namespace))
        except FileRefused:
            continue
    return tuple(found)


def file_inputs(defs: Iterable[model.InputDef], values: Mapping[str, Any] | None) -> frozenset[str]:
    """The URIs of an execution's FILE inputs, which it may read even when they are another
    execution's files (a Subflow's parent passed them on; they were checked against the
    namespace when the execution was created). Only FILE inputs: a STRING input holding a
    URI grants nothing."""
    given = values or {}
    found = (given.get(d.id) for d in defs if d.type.upper() == "FILE")
    return frozenset(value for value in found if isinstance(value, str))


def readable(
    uri: str, scopes: Sequence[tuple[str, ...]], granted: frozenset[str]
) -> tuple[str, ...]:
    """The scope to open `uri` with: the first of `scopes` it lies under, or the URI itself
    when it is one of the execution's FILE inputs (`granted`). Raises FileRefused otherwise."""
    if uri in granted:
        return files.segments(uri)[:-1]
    for scope in scopes:
        if files.is_within(uri, scope):
            return scope
    raise FileRefused(f"`{shown(uri)}` is not a file of this execution")


def open_of_execution(
    storage: FileStorage, ex: model.Execution, defs: Iterable[model.InputDef], uri: str
) -> BinaryIO:
    """Open a file `ex` (of a flow with the input definitions `defs`) may read."""
    return storage.open(uri, readable(uri, scopes_of(ex), file_inputs(defs, ex.inputs)))


@dataclass(frozen=True, slots=True)
class Reader:
    """`read(path)` of expressions for one execution: the text of a file it may read. Plain
    data (the storage is a folder name), so a render process can receive it."""

    storage: FileStorage
    scopes: tuple[tuple[str, ...], ...]
    granted: frozenset[str]
    namespace: str

    @classmethod
    def of(
        cls, storage: FileStorage, ex: model.Execution, defs: Iterable[model.InputDef]
    ) -> Reader:
        return cls(storage, scopes_of(ex), file_inputs(defs, ex.inputs), ex.namespace)

    def __call__(self, uri: str) -> str:
        """The text of a `kestra:///` URI. Raises FileRefused, FileMissing, or ValueError (too
        large, not UTF-8 text)."""
        with self.storage.open(uri, readable(uri, self.scopes, self.granted)) as handle:
            data = handle.read(READ_LIMIT + 1)
        if len(data) > READ_LIMIT:
            raise ValueError(f"`{shown(uri)}` is larger than {READ_LIMIT} bytes")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(f"`{shown(uri)}` is not UTF-8 text (byte {error.start})") from None

    def namespace_file(self, path: str, namespace: str | None = None) -> str:
        """The text of the namespace file `path` of the flow's namespace, or of `namespace`
        when given (the flow's own or a parent namespace; others are refused)."""
        (chosen,) = namespacefiles.readable_namespaces(self.namespace, namespace or self.namespace)
        return self(namespacefiles.file_uri(chosen, path))
