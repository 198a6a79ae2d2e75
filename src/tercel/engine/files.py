"""Internal storage as the engine sees it: `kestra://` URIs and the `FileStorage` protocol
(docs/semantics.md#files).

Pure code. A file of an execution is addressed as Kestra addresses it:
`kestra:///{namespace, dots as slashes}/{flowId}/executions/{executionId}/tasks/{taskId}/
{taskRunId}/{file}` or `.../executions/{executionId}/inputs/{inputId}/{file}`. Each segment is
percent-encoded when a URI is built and decoded once when it is read back; a decoded segment
that is empty, `.` or `..`, or holds `/`, `\\` or NUL is refused, so no URI can name a place
outside the folder it spells (`%2F` does not become a separator). Where the bytes live
(`storage/files.py`) is behind the protocol, as the database is behind `store.Store`.
"""

from __future__ import annotations

import posixpath
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol
from urllib.parse import quote, unquote

from tercel.engine import model

__all__ = [
    "SCHEME",
    "FileMissing",
    "FileRefused",
    "FileStorage",
    "Reader",
    "delete_all",
    "execution_prefix",
    "file_inputs",
    "input_uri",
    "is_within",
    "open_of_execution",
    "readable",
    "safe_name",
    "scopes_of",
    "segments",
    "task_uri",
    "uri_of",
]

SCHEME = "kestra://"
_ROOT = "kestra:///"
_BAD_CHARACTERS = ("/", "\\", "\0")
#: the task types whose child executions may read their parent's files
_SUBFLOWS = (".flow.Subflow", ".flows.Subflow", ".flows.Flow", ".flow.ForEachItem")


class FileRefused(ValueError):
    """A URI that is not a well-formed internal-storage URI, or that points outside where its
    reader may look; the message names the URI and why."""


class FileMissing(LookupError):
    """A well-formed URI with no file behind it."""


def segments(uri: str) -> tuple[str, ...]:
    """The decoded path segments of an internal-storage URI; raises FileRefused."""
    if not isinstance(uri, str) or not uri.startswith(_ROOT):
        raise FileRefused(f"`{_shown(uri)}` is not an internal-storage URI (kestra:///...)")
    parts = tuple(unquote(part) for part in uri[len(_ROOT) :].split("/"))
    for part in parts:
        if part in ("", ".", "..") or any(bad in part for bad in _BAD_CHARACTERS):
            raise FileRefused(f"`{_shown(uri)}` has an invalid path segment `{_shown(part)}`")
    return parts


def uri_of(parts: tuple[str, ...]) -> str:
    """The URI of these decoded segments; raises FileRefused for a segment no URI may hold."""
    for part in parts:
        if part in ("", ".", "..") or any(bad in part for bad in _BAD_CHARACTERS):
            raise FileRefused(f"invalid path segment `{_shown(part)}`")
    return _ROOT + "/".join(quote(part, safe="") for part in parts)


def _execution_parts(namespace: str, flow_id: str, execution_id: str) -> tuple[str, ...]:
    return (*namespace.split("."), flow_id, "executions", execution_id)


def execution_prefix(namespace: str, flow_id: str, execution_id: str) -> tuple[str, ...]:
    """The segments every file of that execution starts with."""
    return _execution_parts(namespace, flow_id, execution_id)


def task_uri(
    namespace: str, flow_id: str, execution_id: str, task_id: str, task_run_id: str, name: str
) -> str:
    """The URI of a file a task run wrote; `name` may hold `/` (a relative path)."""
    base = (*_execution_parts(namespace, flow_id, execution_id), "tasks", task_id, task_run_id)
    return uri_of((*base, *name.split("/")))


def input_uri(namespace: str, flow_id: str, execution_id: str, input_id: str, name: str) -> str:
    """The URI of an execution's FILE input."""
    base = (*_execution_parts(namespace, flow_id, execution_id), "inputs", input_id)
    return uri_of((*base, safe_name(name)))


def is_within(uri: str, prefix: tuple[str, ...]) -> bool:
    """Whether `uri` (well formed: raises FileRefused otherwise) lies under `prefix`."""
    found = segments(uri)
    return len(found) > len(prefix) and found[: len(prefix)] == prefix


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
    """The scope to open `uri` with: the first of `scopes` (the execution's prefix, its
    parent's) it lies under, or the URI itself when it is one of the execution's FILE inputs
    (`granted`). Raises FileRefused otherwise."""
    if uri in granted:
        return segments(uri)[:-1]
    for scope in scopes:
        if is_within(uri, scope):
            return scope
    raise FileRefused(f"`{_shown(uri)}` is not a file of this execution")


def scopes_of(ex: model.Execution) -> tuple[tuple[str, ...], ...]:
    """Where `ex` may read: its own files, and those of the execution whose Subflow task
    started it (Kestra lets a subflow read its parent's files)."""
    own = execution_prefix(ex.namespace, ex.flow_id, ex.id)
    trigger = ex.trigger or {}
    found = trigger.get("variables") if str(trigger.get("type", "")).endswith(_SUBFLOWS) else None
    if not isinstance(found, Mapping):
        return (own,)
    parent = [found.get(key) for key in ("namespace", "flowId", "executionId")]
    if not all(isinstance(part, str) and part for part in parent):
        return (own,)
    return own, execution_prefix(*(str(part) for part in parent))


def open_of_execution(
    storage: FileStorage, ex: model.Execution, defs: Iterable[model.InputDef], uri: str
) -> BinaryIO:
    """Open a file `ex` (of a flow with the input definitions `defs`) may read: one of its
    own, or one of its FILE inputs."""
    return storage.open(uri, readable(uri, scopes_of(ex), file_inputs(defs, ex.inputs)))


#: largest file `read()` returns (an expression's output is capped at 1 MiB too)
READ_LIMIT = 1 << 20


@dataclass(frozen=True, slots=True)
class Reader:
    """`read(uri)` of expressions for one execution: the text of a file it may read. Plain
    data (the storage is a folder name), so a render process can receive it."""

    storage: FileStorage
    scopes: tuple[tuple[str, ...], ...]
    granted: frozenset[str]

    @classmethod
    def of(
        cls, storage: FileStorage, ex: model.Execution, defs: Iterable[model.InputDef]
    ) -> Reader:
        return cls(storage, scopes_of(ex), file_inputs(defs, ex.inputs))

    def __call__(self, uri: str) -> str:
        """Raises FileRefused, FileMissing, or ValueError (too large, not UTF-8 text)."""
        with self.storage.open(uri, readable(uri, self.scopes, self.granted)) as handle:
            data = handle.read(READ_LIMIT + 1)
        if len(data) > READ_LIMIT:
            raise ValueError(f"`{_shown(uri)}` is larger than {READ_LIMIT} bytes")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(f"`{_shown(uri)}` is not UTF-8 text (byte {error.start})") from None


def safe_name(name: str) -> str:
    """A client's file name as one path segment: its last part, never empty, `.` or `..`."""
    base = posixpath.basename(name.replace("\\", "/").replace("\0", ""))
    return base if base not in ("", ".", "..") else "file"


def _shown(value: object) -> str:
    text = str(value).replace("\0", "\\0")
    return text if len(text) <= 200 else text[:200] + "..."


def delete_all(storage: FileStorage, executions: Iterable[tuple[str, str, str]]) -> int:
    """Remove the files of deleted executions ((namespace, flow id, id) each) once their
    deletion is committed; a folder that cannot be removed is reported on stderr and left
    (the deletion stands). Returns how many files went. Blocking: run it on a thread."""
    count = 0
    for namespace, flow_id, execution_id in executions:
        try:
            count += storage.delete_execution(namespace, flow_id, execution_id)
        except (OSError, FileRefused) as error:
            print(f"tercel: files of execution {execution_id} not removed: {error}",
                  file=sys.stderr)  # fmt: skip
    return count


class FileStorage(Protocol):
    """Where the engine keeps an execution's files (internal storage). Every method raises
    FileRefused for a URI it will not touch and FileMissing for an absent file."""

    def put(self, uri: str, source: BinaryIO) -> int:
        """Store what `source` reads under `uri` (written under a temporary name, renamed
        into place); durable once `sync` has returned. Returns its size."""

    def sync(self) -> None:
        """Flush every file put so far, and its folder, to disk. The engine's writer calls it
        right before each commit, so a file is durable before the commit that refers to it."""

    def open(self, uri: str, scope: tuple[str, ...]) -> BinaryIO:
        """Open a stored file for reading; refused unless `uri` lies under `scope`."""

    def size(self, uri: str, scope: tuple[str, ...]) -> int: ...

    def under(self, prefix: tuple[str, ...]) -> Iterator[str]:
        """The URIs of every file under `prefix`, sorted."""

    def delete_execution(self, namespace: str, flow_id: str, execution_id: str) -> int:
        """Remove every file of one execution; returns how many files went."""
