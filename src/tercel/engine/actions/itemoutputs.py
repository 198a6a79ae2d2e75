"""ForEachItem's merged subflow outputs (semantics.md#foreachitem): what Kestra's `_merge` task
run does, inside Tercel's one task run.

Each child's flow outputs are stored as a file of the task run when the child ends
(`outputs/{n}.json`, n its batch number), so a restart that applies a child's end again writes
the same file; when the last child ended they are joined, in batch order, into one JSON-lines
file whose URI is the task run's `subflowOutputs`.
"""

from __future__ import annotations

import io
import json

from tercel.engine import files, model
from tercel.engine.files import FileStorage
from tercel.engine.run.execution import ExecutionState

__all__ = ["keep", "merge"]

MERGED = "subflow-outputs.ion"


def _uri(es: ExecutionState, run: model.TaskRun, name: str) -> str:
    return files.task_uri(es.ex.namespace, es.ex.flow_id, es.ex.id, run.task_id, run.id, name)


def keep(
    storage: FileStorage, es: ExecutionState, run: model.TaskRun, child: model.Execution, n: int
) -> None:
    """Store the flow outputs of the child of batch `n` (an empty map when it has none)."""
    text = json.dumps(child.outputs or {}, separators=(",", ":"), ensure_ascii=False)
    storage.put(_uri(es, run, f"outputs/{n}.json"), io.BytesIO(text.encode()))


def merge(storage: FileStorage, es: ExecutionState, run: model.TaskRun, batches: int) -> str:
    """One line per batch, in batch order; the merged file's URI."""
    scope = files.execution_prefix(es.ex.namespace, es.ex.flow_id, es.ex.id)
    merged = io.BytesIO()
    for n in range(1, batches + 1):
        with storage.open(_uri(es, run, f"outputs/{n}.json"), scope) as handle:
            merged.write(handle.read() + b"\n")
    merged.seek(0)
    uri = _uri(es, run, MERGED)
    storage.put(uri, merged)
    return uri
