"""The internal-storage half of the fake RunContexts of the task unit tests."""

from __future__ import annotations

from typing import BinaryIO

from tercel.engine import filereach, model
from tercel.engine import files as uris
from tercel.storage.files import LocalFiles


class FilesOfAContext:
    """`open_file` and `store_file` as the engine's AttemptContext does them, over `files`."""

    files: LocalFiles
    namespace: str
    flow_id: str
    execution_id: str
    task_run_id: str
    task: model.TaskDef

    def open_file(self, uri: str) -> BinaryIO:
        prefix = uris.execution_prefix(self.namespace, self.flow_id, self.execution_id)
        return self.files.open(uri, filereach.readable(uri, [prefix], frozenset()))

    def store_file(self, name: str, source: BinaryIO) -> str:
        uri = uris.task_uri(
            self.namespace, self.flow_id, self.execution_id, self.task.id, self.task_run_id, name
        )
        self.files.put(uri, source)
        return uri
