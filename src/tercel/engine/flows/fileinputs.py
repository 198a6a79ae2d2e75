"""FILE inputs: uploads stored under the new execution, URIs kept to their namespace
(docs/semantics.md#files).

A FILE input's value is a `kestra:///` URI. An uploaded file (CLI `--input NAME=PATH`, GraphQL
`files`) is stored durably under `.../executions/{id}/inputs/{inputId}/{name}` before the
execution that refers to it is committed. A URI given as a plain value (a Subflow passing its
own file on) must lie in the new execution's namespace or a parent namespace, so no execution
can reach into another namespace's files through its inputs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from tercel.engine import faults, files, model, namespacefiles
from tercel.engine.outcomes import InputIssue

__all__ = [
    "Upload",
    "drop",
    "for_resume",
    "namespace_problems",
    "paused_inputs",
    "settled",
    "store",
    "upload_problems",
]


@dataclass(frozen=True, slots=True)
class Upload:
    """One file given for a FILE input: the client's file name and its content."""

    input_id: str
    filename: str
    source: BinaryIO


def upload_problems(
    defs: Sequence[model.InputDef], uploads: Sequence[Upload], owner: str = "the flow"
) -> list[InputIssue]:
    """Uploads for names that are not FILE inputs of `owner`, or given twice."""
    kinds = {definition.id: definition.type.upper() for definition in defs}
    problems: list[InputIssue] = []
    seen: set[str] = set()
    for upload in uploads:
        name = upload.input_id
        if kinds.get(name) != "FILE":
            what = "declares no input" if name not in kinds else f"has a {kinds[name]} input"
            message = f"Invalid file for `{name}`: {owner} {what} `{name}`, not a FILE input"
            problems.append(InputIssue(input=name, message=message))
        elif name in seen:
            problems.append(
                InputIssue(input=name, message=f"Invalid file for `{name}`: given twice")
            )
        seen.add(name)
    return problems


async def store(
    storage: files.FileStorage,
    flow: model.Flow,
    execution_id: str,
    uploads: Sequence[Upload],
    defs: Sequence[model.InputDef] | None = None,
) -> dict[str, str] | list[InputIssue]:
    """Store each upload for the FILE inputs among `defs` (default: the flow's inputs; a
    Pause's `onResume` ones for a resume) durably under the execution (on a thread): input id
    -> URI, or the problems of the uploads (nothing stored). A disk failure raises
    `faults.FilesTrouble`; for a new execution (`defs` None) what was stored goes first."""
    if not uploads:
        return {}
    if defs is None:
        problems = upload_problems(flow.inputs, uploads)
    else:
        problems = upload_problems(defs, uploads, "the paused task's onResume")
    if problems:
        return problems
    try:
        if defs is None:  # a new execution: journaled until committed (storage/pending.py)
            await asyncio.to_thread(storage.mark_pending, flow.namespace, flow.id, execution_id)
        return await asyncio.to_thread(_store_all, storage, flow, execution_id, uploads)
    except OSError as error:
        if defs is None:
            await drop(storage, flow, execution_id, any_stored=True)
        raise faults.FilesTrouble(f"cannot store an input file: {error}") from error


async def for_resume(
    storage: files.FileStorage,
    flow: model.Flow,
    ex: model.Execution,
    given: Mapping[str, Any],
    uploads: Sequence[Upload],
) -> dict[str, Any] | list[InputIssue]:
    """A resume's inputs with its uploads stored (their URIs in place), or the problems."""
    defs = paused_inputs(flow, ex)
    stored = await store(storage, flow, ex.id, uploads, defs)
    if not isinstance(stored, dict):
        return stored
    values = {**given, **stored}
    return namespace_problems(defs, values, ex.namespace) or values


def paused_inputs(flow: model.Flow, ex: model.Execution) -> tuple[model.InputDef, ...]:
    """The `onResume` inputs of the Pause the execution waits in (none: no Pause waits)."""
    tasks = {task.id: task for task in flow.all_tasks()}
    for run in ex.task_runs:
        task = tasks.get(run.task_id)
        if run.state.current.value == "PAUSED" and task is not None:
            return tuple(task.properties.get("onResume") or ())
    return ()


async def drop(
    storage: files.FileStorage, flow: model.Flow, execution_id: str, *, any_stored: bool
) -> None:
    """Remove the files stored for an execution that was not created after all (nothing to do
    unless `any_stored`)."""
    if any_stored:
        await asyncio.to_thread(storage.delete_execution, flow.namespace, flow.id, execution_id)
        await settled(storage, execution_id, any_stored=True)


async def settled(storage: files.FileStorage, execution_id: str, *, any_stored: bool) -> None:
    """The execution whose files were stored is committed (or dropped): forget its mark
    (there is none unless `any_stored`)."""
    if any_stored:
        await asyncio.to_thread(storage.clear_pending, execution_id)


def _store_all(
    storage: files.FileStorage, flow: model.Flow, execution_id: str, uploads: Sequence[Upload]
) -> dict[str, str]:
    stored: dict[str, str] = {}
    for upload in uploads:
        uri = files.input_uri(
            flow.namespace, flow.id, execution_id, upload.input_id, upload.filename
        )
        storage.put(uri, upload.source)
        stored[upload.input_id] = uri
    return stored


def namespace_problems(
    defs: Sequence[model.InputDef], values: Mapping[str, Any], namespace: str
) -> list[InputIssue]:
    """FILE values outside `namespace` and its parent namespaces."""
    problems: list[InputIssue] = []
    for definition in defs:
        value = values.get(definition.id)
        if definition.type.upper() != "FILE" or not isinstance(value, str):
            continue
        try:
            parts = files.segments(value)
        except files.FileRefused:
            continue  # not a URI at all: the type check says so (`expected FILE`)
        if not _in_namespace(parts, namespace.split(".")):
            message = (
                f"Invalid input for `{definition.id}`, the file must belong to namespace "
                f"`{namespace}` or a parent namespace, but received `{value}`"
            )
            if namespacefiles.FOLDER in parts:
                message += (
                    " (a namespace file is no execution's file: read it in an expression with"
                    " `read('path')`, or upload it as the input)"
                )
            problems.append(InputIssue(input=definition.id, message=message))
    return problems


def _in_namespace(parts: tuple[str, ...], namespace: list[str]) -> bool:
    """The URI is a file of an execution of a flow of `namespace` or of a parent namespace:
    `{that namespace}/{flowId}/executions/{id}/...`."""
    for depth in range(1, len(namespace) + 1):
        owner = tuple(namespace[:depth])
        if parts[:depth] == owner and len(parts) > depth + 3 and parts[depth + 1] == "executions":
            return True
    return False
