"""At engine start, before anything runs: remove the files of executions that were never
committed (docs/semantics.md#files).

Files of a new execution (FILE inputs of createExecution, a replay's) are stored before its
row commits, under a mark of the storage's journal (`FileStorage.mark_pending`). A crash in
between leaves the mark. For each mark: no row with that id means the creation never
committed, so no committed row can refer to its files and its folder goes; a row means it did
commit, and only the mark goes. Nothing else is swept, so this can never remove a file a
committed row refers to, nor files kept on purpose (`deleteStorage: false`); and it runs
before the engine serves anything, so no work in flight can own a marked folder.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable

from tercel.engine.files import FileRefused, FileStorage

__all__ = ["sweep_pending"]


async def sweep_pending(
    storage: FileStorage, existing: Callable[[list[str]], Awaitable[set[str]]]
) -> int:
    """Sweep the marked executions; `existing(ids)` answers which ids have a row. Returns
    how many files went. A folder that cannot be removed keeps its mark (tried again at the
    next start) and is reported on stderr."""
    marked = await asyncio.to_thread(storage.pending)
    if not marked:
        return 0
    present = await existing([execution_id for _, _, execution_id in marked])
    removed = 0
    for namespace, flow_id, execution_id in marked:
        if execution_id not in present:
            try:
                removed += await asyncio.to_thread(
                    storage.delete_execution, namespace, flow_id, execution_id
                )
            except (OSError, FileRefused) as error:
                print(f"tercel: files of execution {execution_id} not removed: {error}",
                      file=sys.stderr)  # fmt: skip
                continue
        await asyncio.to_thread(storage.clear_pending, execution_id)
    return removed
