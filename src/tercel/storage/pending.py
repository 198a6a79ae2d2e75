"""The journal of executions whose files are written before their row commits
(docs/semantics.md#files): a FILE input's upload for a new execution, a replay's.

`mark` writes `.pending/{executionId}` (namespace and flow id, synced) in the storage folder
BEFORE the first file of that execution is stored; `clear` removes it once the execution is
committed or its files are dropped. A crash in between leaves the mark: at the next start,
before the engine runs anything, `engine.runtime.filesweep` removes the folder of each marked
execution that has no row (its creation never committed, so nothing can refer to its files)
and clears every mark. No other folder is ever swept: an execution deleted with
`deleteStorage: false` keeps its files, as asked.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Callable
from typing import BinaryIO

from tercel.engine import files as uris

#: `LocalFiles.write`: a durable write of the file at these folder segments
Write = Callable[[tuple[str, ...], BinaryIO], int]

__all__ = ["FOLDER", "clear", "mark", "marked"]

#: the journal's folder under the storage root (no namespace starts with a dot)
FOLDER = ".pending"


def mark(write: Write, namespace: str, flow_id: str, execution_id: str) -> None:
    """Journal that files of `execution_id` are about to be stored (durably, first)."""
    uris.uri_of((FOLDER, execution_id))  # refuses an id that is not one plain name
    body = json.dumps({"namespace": namespace, "flowId": flow_id}).encode()
    write((FOLDER, execution_id), io.BytesIO(body))


def clear(root: str, execution_id: str) -> None:
    """Forget the mark of `execution_id` (nothing when there is none)."""
    uris.uri_of((FOLDER, execution_id))
    path = os.path.join(root, FOLDER, execution_id)
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        os.unlink(path)


def marked(root: str) -> list[tuple[str, str, str]]:
    """(namespace, flow id, execution id) of every mark; unreadable marks are cleared."""
    folder = os.path.join(root, FOLDER)
    try:
        if os.path.islink(folder):
            return []  # never followed
        names = sorted(os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    found: list[tuple[str, str, str]] = []
    for name in names:
        if name.startswith(".tmp-"):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(folder, name))
            continue
        entry = _read(os.path.join(folder, name))
        if entry is None:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(folder, name))
        else:
            found.append((entry[0], entry[1], name))
    return found


def _read(path: str) -> tuple[str, str] | None:
    try:
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK  # a FIFO: no wait
        handle = os.open(path, flags)
        with os.fdopen(handle, "rb") as opened:
            data = json.loads(opened.read(4096))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    namespace, flow_id = data.get("namespace"), data.get("flowId")
    if isinstance(namespace, str) and isinstance(flow_id, str):
        return namespace, flow_id
    return None
