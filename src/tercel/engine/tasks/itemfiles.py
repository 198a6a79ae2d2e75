"""The file work of ForEachItem (semantics.md#foreachitem): `_split` writes the batch files,
`_merge` joins the children's flow outputs. Both run as worker attempts, their file I/O on a
thread (`asyncio.to_thread`), so a large `items` file never holds the engine loop: the split
reads it by chunks and writes each batch as soon as it is complete.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from tercel.engine import files
from tercel.engine.batches import BatchError, batches_of, lines_of
from tercel.engine.tasks.base import RunContext, TaskFailure, TaskOutcome

__all__ = ["SPLITS", "child_outputs_uri", "outputs_prefix", "run_merge", "run_split"]

#: the split's list of batch URIs, one a line (Kestra's `splits.txt`)
SPLITS = "splits.txt"
#: the merged outputs of the children (Kestra's `outputs.ion`)
MERGED = "outputs.ion"
_T = TypeVar("_T")


class _Stopped(Exception):
    """The attempt was cancelled (kill, timeout) while its thread worked."""


async def _off_loop(work: Callable[[threading.Event], _T]) -> _T:
    """`work` on a thread; a cancelled attempt tells it to stop at its next step."""
    stop = threading.Event()
    try:
        return await asyncio.to_thread(work, stop)
    finally:
        stop.set()


async def run_split(ctx: RunContext) -> TaskOutcome:
    """Kestra's ForEachItemSplit: `items` into batch files `{n}{ext}` of this task run, and
    `splits`, the URI of the file listing them."""
    props = ctx.render({k: ctx.task.properties.get(k) for k in ("items", "batch")})
    uri = str(props["items"])
    if not uri.startswith(files.SCHEME):
        raise TaskFailure(
            f"Unable to split the items from {uri}, this is not an internal storage URI!"
        )
    batch = props["batch"] if isinstance(props["batch"], dict) else {}
    try:
        splits = await _off_loop(lambda stop: _split(ctx, uri, batch, stop))
    except BatchError as error:
        raise TaskFailure(str(error)) from None
    except (files.FileRefused, files.FileMissing, OSError) as error:
        raise TaskFailure(f"items: {error}") from None
    listing = "\n".join(splits).encode()
    stored = await asyncio.to_thread(ctx.store_file, SPLITS, io.BytesIO(listing))
    return TaskOutcome(outputs={"splits": stored})


def _split(ctx: RunContext, uri: str, batch: dict[str, Any], stop: threading.Event) -> list[str]:
    extension = _extension(uri)
    found: list[str] = []
    with ctx.open_file(uri) as handle:
        for n, part in enumerate(batches_of(lines_of(handle), batch), 1):
            if stop.is_set():
                raise _Stopped
            found.append(ctx.store_file(f"{n}{extension}", io.BytesIO(part)))
    return found


def _extension(uri: str) -> str:
    """The batch files keep the extension of `items` (`.tmp` without one), as in Kestra."""
    name = uri.rsplit("/", 1)[-1]
    return name[name.rindex(".") :] if "." in name else ".tmp"


def outputs_prefix(
    namespace: str, flow_id: str, execution_id: str, parent_task_id: str, parent_run_id: str
) -> tuple[str, ...]:
    """Where the children's flow outputs are kept: under the ForEachItem task run, which both
    `_items` (that keeps them) and `_merge` (that joins them) know as their parent."""
    uri = files.task_uri(namespace, flow_id, execution_id, parent_task_id, parent_run_id, "o")
    return (*files.segments(uri)[:-1], "outputs")


def child_outputs_uri(prefix: tuple[str, ...], iteration: int) -> str:
    return files.uri_of((*prefix, f"{iteration}.json"))


async def run_merge(ctx: RunContext) -> TaskOutcome:
    """Kestra's ForEachItemMergeOutputs: the kept outputs, one line per child in batch order,
    as `subflowOutputs`; no outputs when no child kept any (no child, or a subflow without
    flow outputs, or `wait: false`)."""
    parent_run_id = str(ctx.render("{{ taskrun.parentId }}"))
    parent_task_id = ctx.task.id[: -len("_merge")]
    prefix = outputs_prefix(
        ctx.namespace, ctx.flow_id, ctx.execution_id, parent_task_id, parent_run_id
    )
    merged = await _off_loop(lambda stop: _merge(ctx, prefix, stop))
    return TaskOutcome(outputs={} if merged is None else {"subflowOutputs": merged})


def _merge(ctx: RunContext, prefix: tuple[str, ...], stop: threading.Event) -> str | None:
    kept = sorted((_iteration(uri), uri) for uri in ctx.files.under(prefix))
    if not kept:
        return None
    joined = io.BytesIO()
    for _, uri in kept:
        if stop.is_set():
            raise _Stopped
        with ctx.files.open(uri, prefix) as handle:
            joined.write(handle.read().rstrip(b"\n") + b"\n")
    joined.seek(0)
    return ctx.store_file(MERGED, joined)


def _iteration(uri: str) -> int:
    name = files.segments(uri)[-1]
    return int(name.partition(".")[0]) if name.partition(".")[0].isdigit() else 0
