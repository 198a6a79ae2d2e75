"""The `Flow` type: a stored revision; definition fields come from parsing its source lazily."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import strawberry

from tercel.engine import durations, model
from tercel.schema import types
from tercel.schema.scalars import JSON, DateTime
from tercel.storage import flowstore

__all__ = ["Flow"]


@strawberry.type
class Flow:
    namespace: str
    id: str
    revision: int
    disabled: bool
    source: str = strawberry.field(description="the YAML as deployed")
    updated: DateTime
    _parsed: strawberry.Private[model.Flow | None] = None

    @classmethod
    def from_row(cls, row: flowstore.FlowRow, parsed: model.Flow | None = None) -> Flow:
        return cls(
            namespace=row.namespace,
            id=row.id,
            revision=row.revision,
            disabled=row.disabled,
            source=row.source,
            updated=DateTime(row.updated),
            _parsed=parsed,
        )

    def definition(self) -> model.Flow:
        if self._parsed is None:
            from tercel.engine.flows import loader

            self._parsed = loader.load_flow(self.source, revision=self.revision)
        return self._parsed

    @strawberry.field
    def description(self) -> str | None:
        return self.definition().description

    @strawberry.field
    def labels(self) -> list[types.Label]:
        return [types.Label(key=lb.key, value=lb.value) for lb in self.definition().labels]

    @strawberry.field
    def inputs(self) -> JSON | None:
        found = [_input(i) for i in self.definition().inputs]
        return JSON(found) if found else None

    @strawberry.field
    def outputs(self) -> JSON | None:
        found = [_output(o) for o in self.definition().outputs]
        return JSON(found) if found else None


def _input(definition: model.InputDef) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": definition.id,
        "type": definition.type,
        "required": definition.required,
        "defaults": definition.defaults,
    }
    optional = {
        "description": definition.description,
        "displayName": definition.display_name,
        "itemType": definition.item_type,
        "validator": definition.validator,
        "min": definition.min,
        "max": definition.max,
        "after": definition.after,
        "before": definition.before,
        "values": list(definition.values) if definition.values is not None else None,
        "allowCustomValue": definition.allow_custom_value or None,
    }
    found.update({k: v for k, v in optional.items() if v is not None})
    return {key: json_ready(value) for key, value in found.items()}


def json_ready(value: Any) -> Any:
    """`value` with every duration and instant as its ISO-8601 text (as Kestra's
    JSON shows them): the response encoder knows only JSON's own types."""
    if isinstance(value, timedelta):
        return durations.format_duration(value)
    if isinstance(value, datetime):  # `after` / `before`: aware UTC instants
        return durations.format_instant(value)
    if isinstance(value, dict):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    return value


def _output(definition: model.OutputDef) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": definition.id,
        "type": definition.type,
        "value": json_ready(definition.value),
    }
    if definition.description is not None:
        found["description"] = definition.description
    return found
