"""A replay's new inputs, with the files of its FILE inputs (docs/semantics.md#files): the
uploads are stored under the new execution's id (chosen first), then everything is resolved as
createExecution's inputs are; on a refusal what was stored goes again."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tercel.engine import files, model
from tercel.engine.flows import inputs
from tercel.engine.flows.fileinputs import Upload, drop, store
from tercel.engine.outcomes import InputIssue

__all__ = ["for_replay"]


async def for_replay(
    storage: files.FileStorage,
    flow: model.Flow,
    new_id: str,
    given: Mapping[str, Any] | None,
    uploads: Sequence[Upload],
) -> dict[str, Any] | list[InputIssue] | None:
    """A replay's new inputs (`given` with its uploads stored under the new execution
    `new_id`, their URIs in place), resolved like createExecution's; or the problems, with
    what was stored removed again."""
    stored = await store(storage, flow, new_id, uploads)
    if not isinstance(stored, dict):
        return stored
    resolved = inputs.resolve(flow.inputs, {**(given or {}), **stored}, namespace=flow.namespace)
    if resolved.issues:
        await drop(storage, flow, new_id, any_stored=bool(stored))
        return list(resolved.issues)
    return resolved.values if flow.inputs else None
