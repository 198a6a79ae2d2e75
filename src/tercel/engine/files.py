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
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol
from urllib.parse import quote, unquote

__all__ = [
    "SCHEME",
    "Entry",
    "FileMissing",
    "FileRefused",
    "FileStorage",
    "delete_all",
    "execution_prefix",
    "input_uri",
    "is_within",
    "safe_name",
    "segments",
    "shown",
    "slug",
    "task_uri",
    "uri_of",
]

SCHEME = "kestra://"
_ROOT = "kestra:///"
_BAD_CHARACTERS = ("/", "\\", "\0")
#: a segment is a file or folder name on disk: longer than a file system's NAME_MAX it cannot be
#: stored nor exist, so it is refused by name instead of failing as an I/O error
MAX_SEGMENT_BYTES = 255
#: how deep a URI may go: opening a file walks its folders one by one from the root, and a sync
#: reopens each new folder, so depth is a cost per file (an execution's task file is about a
#: dozen deep)
MAX_SEGMENTS = 100


class FileRefused(ValueError):
    """A URI that is not a well-formed internal-storage URI, or that points outside where its
    reader may look; the message names the URI and why."""


class FileMissing(LookupError):
    """A well-formed URI with no file behind it."""


def segments(uri: str) -> tuple[str, ...]:
    """The decoded path segments of an internal-storage URI; raises FileRefused."""
    if not isinstance(uri, str) or not uri.startswith(_ROOT):
        raise FileRefused(f"`{shown(uri)}` is not an internal-storage URI (kestra:///...)")
    parts = tuple(unquote(part) for part in uri[len(_ROOT) :].split("/"))
    problem = _problem(parts)
    if problem:
        raise FileRefused(f"`{shown(uri)}` {problem}")
    return parts


def uri_of(parts: tuple[str, ...]) -> str:
    """The URI of these decoded segments; raises FileRefused for a segment no URI may hold."""
    problem = _problem(parts)
    if problem:
        raise FileRefused(f"the path `{shown('/'.join(parts))}` {problem}")
    return _ROOT + "/".join(quote(part, safe="") for part in parts)


def _problem(parts: tuple[str, ...]) -> str | None:
    """Why these decoded segments name no place in the storage folder, or None."""
    if len(parts) > MAX_SEGMENTS:
        return f"is {len(parts)} segments deep, more than {MAX_SEGMENTS}"
    for part in parts:
        if part in ("", ".", "..") or any(bad in part for bad in _BAD_CHARACTERS):
            return f"has an invalid path segment `{shown(part)}`"
        if len(part.encode("utf-8", "surrogatepass")) > MAX_SEGMENT_BYTES:
            return f"has a path segment longer than {MAX_SEGMENT_BYTES} bytes (`{shown(part)}`)"
    return None


def _execution_parts(namespace: str, flow_id: str, execution_id: str) -> tuple[str, ...]:
    return (*namespace.split("."), flow_id, "executions", execution_id)


def execution_prefix(namespace: str, flow_id: str, execution_id: str) -> tuple[str, ...]:
    """The segments every file of that execution starts with."""
    return _execution_parts(namespace, flow_id, execution_id)


def task_uri(
    namespace: str, flow_id: str, execution_id: str, task_id: str, task_run_id: str, name: str
) -> str:
    """The URI of a file a task run wrote; `name` may hold `/` (a relative path). The task id
    is slugified, as Kestra's `StorageContext` does (`each_split` -> `each-split`)."""
    task = slug(task_id)
    base = (*_execution_parts(namespace, flow_id, execution_id), "tasks", task, task_run_id)
    return uri_of((*base, *name.split("/")))


def slug(text: str) -> str:
    """Kestra's `Slugify.of`: spaces to `-`, accents and other signs dropped, `_` to `-`, runs
    of `-` to one, none at either end, lower case; the text itself if nothing is left."""
    decomposed = unicodedata.normalize("NFD", re.sub(r"\s", "-", text))
    kept = re.sub(r"[^\w-]", "", decomposed, flags=re.ASCII).replace("_", "-")
    return re.sub(r"-{2,}", "-", kept).strip("-").lower() or text


def input_uri(namespace: str, flow_id: str, execution_id: str, input_id: str, name: str) -> str:
    """The URI of an execution's FILE input."""
    base = (*_execution_parts(namespace, flow_id, execution_id), "inputs", input_id)
    return uri_of((*base, safe_name(name)))


def is_within(uri: str, prefix: tuple[str, ...]) -> bool:
    """Whether `uri` (well formed: raises FileRefused otherwise) lies under `prefix`."""
    found = segments(uri)
    return len(found) > len(prefix) and found[: len(prefix)] == prefix


def safe_name(name: str) -> str:
    """A client's file name as one path segment: its last part, never empty, `.` or `..`, cut
    to `MAX_SEGMENT_BYTES` (the end of its stem goes; its extension stays)."""
    base = posixpath.basename(name.replace("\\", "/").replace("\0", ""))
    if base in ("", ".", ".."):
        return "file"
    return _shortened(base)


def _shortened(name: str) -> str:
    if len(name.encode("utf-8", "surrogatepass")) <= MAX_SEGMENT_BYTES:
        return name
    stem, extension = posixpath.splitext(name)
    if len(extension.encode("utf-8", "surrogatepass")) > 32:
        stem, extension = name, ""
    room = MAX_SEGMENT_BYTES - len(extension.encode("utf-8", "surrogatepass"))
    cut = stem.encode("utf-8", "surrogatepass")[:room].decode("utf-8", "ignore")
    return cut + extension


def shown(value: object) -> str:
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


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry of a folder: Kestra's FileAttributes (`fileName`, `type`, `size`, times in
    epoch milliseconds)."""

    name: str
    folder: bool
    size: int
    modified: int
    created: int


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

    def listing(self, folder: tuple[str, ...]) -> list[Entry]:
        """The files and folders directly inside `folder` (FileMissing when absent)."""

    def remove(self, parts: tuple[str, ...], keep: tuple[str, ...]) -> int:
        """Remove the file or folder `parts` and the parent folders it leaves empty, up to
        `keep`; returns how many files went."""

    def mark_pending(self, namespace: str, flow_id: str, execution_id: str) -> None:
        """Journal, durably, that files of a not yet committed execution are being stored."""

    def clear_pending(self, execution_id: str) -> None:
        """Forget that mark (the execution committed, or its files were dropped)."""

    def pending(self) -> list[tuple[str, str, str]]:
        """(namespace, flow id, execution id) of every mark left."""
