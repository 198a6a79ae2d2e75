"""A flow's `triggers:` list → checked trigger definitions (docs/semantics.md#triggers).

Tercel runs three Kestra trigger types: Schedule, Flow (with the ExecutionStatus, ExecutionFlow
and ExecutionNamespace conditions) and Webhook. Any other type is a validation error at its line
and column: a Kestra type Tercel does not run is named as such, any other name gets the closest
known one suggested. Only `tercel server` runs triggers (`engine/triggers/schedules.py`, the webhook
route); the definitions are plain frozen data.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from tercel.engine import model
from tercel.engine.flows import conditiondefs, crons, kestratypes, validation
from tercel.engine.flows import values as fv
from tercel.engine.flows import yamlsource as ys
from tercel.engine.flows.conditiondefs import choice, read, required

__all__ = [
    "FLOW",
    "SCHEDULE",
    "WEBHOOK",
    "FlowTriggerDef",
    "ScheduleDef",
    "TriggerDef",
    "WebhookDef",
    "parse_triggers",
]

SCHEDULE = "io.kestra.plugin.core.trigger.Schedule"
FLOW = "io.kestra.plugin.core.trigger.Flow"
WEBHOOK = "io.kestra.plugin.core.trigger.Webhook"
_TYPES = {
    SCHEDULE: SCHEDULE,
    "io.kestra.core.models.triggers.types.Schedule": SCHEDULE,
    FLOW: FLOW,
    "io.kestra.core.models.triggers.types.Flow": FLOW,
    WEBHOOK: WEBHOOK,
    "io.kestra.core.models.triggers.types.Webhook": WEBHOOK,
}
#: Kestra trigger types Tercel knows of but does not run
_KESTRA_NOT_RUN = frozenset(
    {
        "io.kestra.plugin.core.trigger.ScheduleOnDates",
        "io.kestra.plugin.core.trigger.Toggle",
        "io.kestra.core.models.triggers.types.ScheduleOnDates",
    }
)
_PLUGIN_TRIGGER_RE = re.compile(r"io\.kestra\.plugin\.[\w.]+\.(Realtime)?Trigger")
_ID_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_-]*")
_COMMON = ("id", "type", "description", "disabled")
_RECOVER = ("ALL", "LAST", "NONE")


@dataclass(frozen=True, slots=True)
class ScheduleDef:
    id: str
    cron: crons.Cron
    disabled: bool = False
    inputs: dict[str, Any] = field(default_factory=dict)
    late_maximum_delay: timedelta | None = None
    recover_missed_schedules: Literal["ALL", "LAST", "NONE"] = "ALL"
    location: model.Location | None = None
    type: str = SCHEDULE


@dataclass(frozen=True, slots=True)
class FlowTriggerDef:
    id: str
    conditions: tuple[conditiondefs.Condition, ...] = ()
    disabled: bool = False
    inputs: dict[str, Any] = field(default_factory=dict)
    location: model.Location | None = None
    type: str = FLOW


@dataclass(frozen=True, slots=True)
class WebhookDef:
    id: str
    key: str
    disabled: bool = False
    location: model.Location | None = None
    type: str = WEBHOOK


TriggerDef = ScheduleDef | FlowTriggerDef | WebhookDef


def parse_triggers(issues: validation.Issues, node: ys.Node) -> tuple[TriggerDef, ...]:
    """Every trigger of the list; each problem recorded at its node."""
    seq = fv.sequence(issues, node)
    if seq is None:
        return ()
    found: list[TriggerDef] = []
    seen: dict[str, ys.Node] = {}
    for item in seq.items:
        entry = fv.mapping(issues, item)
        if entry is None:
            continue
        trigger = _trigger(issues, entry, seen)
        if trigger is not None:
            found.append(trigger)
    return tuple(found)


def _trigger(
    issues: validation.Issues, entry: ys.MapNode, seen: dict[str, ys.Node]
) -> TriggerDef | None:
    given = fv.fields(entry)
    ident = _ident(issues, entry, given, seen)
    kind = _type(issues, entry, given)
    if kind is None:
        return None
    known = (
        _COMMON
        + {
            SCHEDULE: (
                "cron",
                "withSeconds",
                "timezone",
                "inputs",
                "lateMaximumDelay",
                "recoverMissedSchedules",
            ),
            FLOW: ("conditions", "inputs"),
            WEBHOOK: ("key",),
        }[kind]
    )
    fv.unknown_keys(issues, entry, known)
    disabled = bool(read(given, "disabled", lambda n: fv.boolean(issues, n)) or False)
    where = model.Location(entry.line, entry.column)
    if kind == SCHEDULE:
        cron = _cron(issues, entry, given)
        rest = _schedule_fields(issues, given)
        if ident is None or cron is None:
            return None
        return ScheduleDef(ident, cron, disabled, location=where, **rest)
    if kind == FLOW:
        conditions = (
            read(given, "conditions", lambda n: conditiondefs.parse_conditions(issues, n)) or ()
        )
        inputs = read(given, "inputs", lambda n: fv.data_map(issues, n)) or {}
        if ident is None:
            return None
        return FlowTriggerDef(ident, tuple(conditions), disabled, inputs, where)
    key = required(issues, entry, given, "key", lambda n: fv.string(issues, n))
    if ident is None or key is None:
        return None
    return WebhookDef(ident, key, disabled, where)


def _ident(
    issues: validation.Issues, entry: ys.MapNode, given: fv.Fields, seen: dict[str, ys.Node]
) -> str | None:
    text: str | None = required(issues, entry, given, "id", lambda n: fv.string(issues, n))
    if text is None:
        return None
    node = given["id"][1]
    if not _ID_RE.fullmatch(text):
        issues.add(node, f"`{text}` must match `^{_ID_RE.pattern}$`")
        return None
    if text in seen:
        issues.add(node, f"duplicate trigger id `{text}` (first at line {seen[text].line})")
        return None
    seen[text] = node
    return text


def _type(issues: validation.Issues, entry: ys.MapNode, given: fv.Fields) -> str | None:
    written: str | None = required(issues, entry, given, "type", lambda n: fv.string(issues, n))
    if written is None:
        return None
    canonical = _TYPES.get(written)
    if canonical is None:
        issues.add(given["type"][1], unknown_type_message(written))
    return canonical


def unknown_type_message(written: str) -> str:
    """Why `written` is refused: a Kestra type Tercel does not run, or an unknown name."""
    runs = "Tercel runs Schedule, Flow and Webhook triggers"
    kestra = kestratypes.kestra_kind(written) == "trigger"
    if kestra or written in _KESTRA_NOT_RUN or _PLUGIN_TRIGGER_RE.fullmatch(written):
        return f"trigger type `{written}` is a Kestra trigger Tercel does not run ({runs})"
    candidates = [*_TYPES, *(name.rsplit(".", 1)[-1] for name in (SCHEDULE, FLOW, WEBHOOK))]
    close = difflib.get_close_matches(written, candidates, n=1, cutoff=0.6)
    hint = ""
    if close:
        suggestion = close[0] if "." in close[0] else f"io.kestra.plugin.core.trigger.{close[0]}"
        hint = f"; did you mean `{_TYPES.get(suggestion, suggestion)}`?"
    return f"unknown trigger type `{written}` ({runs}){hint}"


def _cron(issues: validation.Issues, entry: ys.MapNode, given: fv.Fields) -> crons.Cron | None:
    expression = required(issues, entry, given, "cron", lambda n: fv.string(issues, n))
    with_seconds = bool(read(given, "withSeconds", lambda n: fv.boolean(issues, n)) or False)
    zone = read(given, "timezone", lambda n: fv.string(issues, n)) or "UTC"
    zone_problem = crons.zone_problem(zone)
    if zone_problem is not None:
        issues.add(given["timezone"][1], zone_problem)
    if expression is None:
        return None
    problem = crons.cron_problem(expression, with_seconds)
    if problem is not None:
        issues.add(given["cron"][1], problem)
    if problem is not None or zone_problem is not None:
        return None
    return crons.Cron(expression, with_seconds, zone)


def _schedule_fields(issues: validation.Issues, given: fv.Fields) -> dict[str, Any]:
    recover = read(given, "recoverMissedSchedules", lambda n: choice(issues, n, _RECOVER))
    return {
        "inputs": read(given, "inputs", lambda n: fv.data_map(issues, n)) or {},
        "late_maximum_delay": read(given, "lateMaximumDelay", lambda n: fv.duration(issues, n)),
        "recover_missed_schedules": recover or "ALL",
    }
