"""Trigger operations for the API: list, switch off and on, backfill, and the webhook.

Each returns a domain value or a domain error value (`service.NotFound`, `InvalidState`,
`InvalidInputs`), never raises for an expected outcome.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tercel.engine import model, service
from tercel.engine.flows import inputs, triggerdefs
from tercel.engine.run import creation
from tercel.engine.runtime.scheduler import Engine
from tercel.engine.store import StoredTrigger
from tercel.engine.triggers import schedules

__all__ = [
    "MAX_BACKFILL",
    "TriggerInfo",
    "backfill",
    "list_triggers",
    "set_trigger_disabled",
    "webhook",
]

#: most executions one backfill may create (the rest of a longer range is refused with a count)
MAX_BACKFILL = 10_000
BACKFILL_LABEL = model.Label("system.backfill", "true")


@dataclass(frozen=True, slots=True)
class TriggerInfo:
    namespace: str
    flow_id: str
    id: str
    type: str
    disabled: bool
    next_date: datetime | None
    last_execution_id: str | None


async def _latest(engine: Engine, namespace: str, flow_id: str) -> model.Flow | None:
    db = engine.db
    row = await engine.call(lambda: db.latest_flow(namespace, flow_id))
    if row is None:
        return None
    flow = await engine.flow(namespace, flow_id, row.revision)
    return None if flow is None else _with_switch(flow, row.disabled)


def _with_switch(flow: model.Flow, switched_off: bool) -> model.Flow:
    """The flow as disabled when it was switched off through the API."""
    return dataclasses.replace(flow, disabled=True) if switched_off else flow


async def list_triggers(engine: Engine, namespace: str | None) -> list[TriggerInfo]:
    """Every trigger of the latest revisions (of `namespace` and its sub-namespaces)."""
    db = engine.db
    rows = await engine.call(lambda: db.latest_flows(namespace))
    stored = await engine.call(db.trigger_states)
    found: list[TriggerInfo] = []
    for row in rows:
        flow = engine.flows.get(row.namespace, row.id, row.revision) or engine.flows.from_row(row)
        for trigger in () if flow is None else flow.triggers:
            key = (row.namespace, row.id, trigger.id)
            found.append(_info(row.namespace, row.id, trigger, stored.get(key)))
    return found


def _info(
    namespace: str,
    flow_id: str,
    trigger: triggerdefs.TriggerDef,
    stored: StoredTrigger | None,
) -> TriggerInfo:
    next_date = None
    if isinstance(trigger, triggerdefs.ScheduleDef) and stored is not None:
        next_date = stored.row.next_date
    return TriggerInfo(
        namespace,
        flow_id,
        trigger.id,
        trigger.type,
        trigger.disabled or bool(stored and stored.disabled),
        next_date,
        None if stored is None else stored.row.last_execution_id,
    )


async def _find(
    engine: Engine, namespace: str, flow_id: str, trigger_id: str
) -> tuple[model.Flow, triggerdefs.TriggerDef] | service.NotFound:
    flow = await _latest(engine, namespace, flow_id)
    if flow is None:
        return service.NotFound("flow", f"{namespace}.{flow_id}")
    for trigger in flow.triggers:
        if trigger.id == trigger_id:
            return flow, trigger
    return service.NotFound("trigger", f"{namespace}.{flow_id}.{trigger_id}")


async def set_trigger_disabled(
    engine: Engine, namespace: str, flow_id: str, trigger_id: str, disabled: bool
) -> TriggerInfo | service.NotFound:
    found = await _find(engine, namespace, flow_id, trigger_id)
    if isinstance(found, service.NotFound):
        return found
    db = engine.db
    await engine.call(lambda: db.set_trigger_disabled(namespace, flow_id, trigger_id, disabled))
    stored = await engine.call(db.trigger_states)
    return _info(namespace, flow_id, found[1], stored.get((namespace, flow_id, trigger_id)))


async def backfill(
    engine: Engine,
    namespace: str,
    flow_id: str,
    trigger_id: str,
    start: datetime,
    end: datetime | None,
    given: Mapping[str, Any] | None,
) -> list[model.Execution] | service.NotFound | service.InvalidState | service.InvalidInputs:
    """One execution per date of the Schedule in [start, end] (end: now), oldest first, labelled
    `system.backfill=true`, all created by one command and committed together."""
    found = await _find(engine, namespace, flow_id, trigger_id)
    if isinstance(found, service.NotFound):
        return found
    flow, trigger = found
    if not isinstance(trigger, triggerdefs.ScheduleDef):
        return service.InvalidState(f"trigger `{trigger_id}` is not a Schedule: no dates")
    if flow.disabled:
        return service.InvalidState(f"flow `{namespace}.{flow_id}` is disabled")
    last = end or engine.clock.now()
    if start > last:
        return _invalid("end", "`start` is after `end`")
    # up to 10,001 croniter steps (~2 s): on a thread, so the loop goes on serving meanwhile
    dates = await asyncio.to_thread(trigger.cron.dates_between, start, last, MAX_BACKFILL + 1)
    if len(dates) > MAX_BACKFILL:
        return _invalid("end", f"more than {MAX_BACKFILL} dates between start and end")
    given_inputs = {**trigger.inputs, **(given or {})}
    resolved = inputs.resolve(flow.inputs, given_inputs, namespace=flow.namespace)
    if resolved.issues:
        return service.InvalidInputs(resolved.issues)

    def command() -> list[model.Execution]:
        created = []
        for date in dates:
            started = {
                "id": trigger.id,
                "type": trigger.type,
                "variables": schedules.schedule_variables(trigger, date),
            }
            values = resolved.values if flow.inputs else None
            now = engine.clock.now()
            es = creation.new_execution(flow, values, [BACKFILL_LABEL], now, trigger=started)
            engine.track(es)
            created.append(copy.deepcopy(es.ex))  # as created: the engine goes on with es.ex
        return created

    return await engine.submit(command)


def _invalid(field: str, message: str) -> service.InvalidInputs:
    return service.InvalidInputs([inputs.InputIssue(field, message)])


@dataclass(frozen=True, slots=True)
class WebhookCall:
    """What the webhook request carried: `trigger.body`, `headers`, `parameters`."""

    body: Any
    headers: dict[str, list[str]]
    parameters: dict[str, list[str]]


async def webhook(
    engine: Engine, namespace: str, flow_id: str, key: str, call: WebhookCall
) -> model.Execution | service.NotFound | service.InvalidInputs | service.InvalidState:
    """Start the flow of the Webhook trigger whose key is `key` (compared in constant time);
    an unknown flow or key, a disabled flow or trigger are all NotFound (HTTP 404)."""
    flow = await _latest(engine, namespace, flow_id)
    unknown = service.NotFound("webhook", f"{namespace}.{flow_id}")
    if flow is None or flow.disabled:
        return unknown
    matched = None
    for trigger in flow.triggers:
        if isinstance(trigger, triggerdefs.WebhookDef):
            same = hmac.compare_digest(trigger.key.encode(), key.encode())
            matched = trigger if same and matched is None else matched
    if matched is None or matched.disabled:
        return unknown
    switched_off = engine.loop_reads.switched_off_triggers()
    if (namespace, flow_id, matched.id) in switched_off:
        return unknown
    variables = {"body": call.body, "headers": call.headers, "parameters": call.parameters}
    return await schedules.start_triggered(engine, flow, matched, None, variables)
