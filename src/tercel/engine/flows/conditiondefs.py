"""The conditions of a Flow trigger (docs/semantics.md#flow-trigger), and the small field readers
the trigger definitions share.

Kestra's ExecutionStatus (`in`, `notIn`), ExecutionFlow (`namespace`, `flowId`) and
ExecutionNamespace (`namespace`, `comparison` EQUALS | PREFIX, or the older `prefix: true`), by
their current names and their `...Condition` aliases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from tercel.engine import states
from tercel.engine.flows import kestratypes, validation
from tercel.engine.flows import values as fv
from tercel.engine.flows import yamlsource as ys

__all__ = ["Condition", "ConditionKind", "choice", "parse_conditions", "read", "required"]

_CONDITION_PREFIXES = (
    "io.kestra.plugin.core.condition.",
    "io.kestra.core.models.conditions.types.",
)
ConditionKind = Literal["STATUS", "FLOW", "NAMESPACE"]
_CONDITIONS: dict[str, ConditionKind] = {
    "ExecutionStatus": "STATUS",
    "ExecutionFlow": "FLOW",
    "ExecutionNamespace": "NAMESPACE",
}


@dataclass(frozen=True, slots=True)
class Condition:
    """One Flow-trigger condition; `kind` says which fields apply."""

    kind: ConditionKind
    type: str
    states_in: tuple[states.StateType, ...] = ()
    states_not_in: tuple[states.StateType, ...] = ()
    namespace: str | None = None
    flow_id: str | None = None
    comparison: Literal["EQUALS", "PREFIX"] = "EQUALS"


def read(given: fv.Fields, name: str, reader: Any) -> Any:
    return reader(given[name][1]) if name in given else None


def required(
    issues: validation.Issues, entry: ys.MapNode, given: fv.Fields, name: str, reader: Any
) -> Any:
    if name not in given:
        issues.missing(entry, ys.child_path(entry.path, name))
        return None
    return reader(given[name][1])


def choice(issues: validation.Issues, node: ys.Node, allowed: Sequence[str]) -> str | None:
    text = fv.string(issues, node)
    if text is not None and text not in allowed:
        issues.add(node, f"expected one of {', '.join(allowed)}, got `{text}`")
        return None
    return text


def parse_conditions(issues: validation.Issues, node: ys.Node) -> list[Condition]:
    seq = fv.sequence(issues, node)
    if seq is None:
        return []
    found = []
    for item in seq.items:
        entry = fv.mapping(issues, item)
        condition = None if entry is None else _condition(issues, entry)
        if condition is not None:
            found.append(condition)
    return found


def _condition(issues: validation.Issues, entry: ys.MapNode) -> Condition | None:
    given = fv.fields(entry)
    written = required(issues, entry, given, "type", lambda n: fv.string(issues, n))
    if written is None:
        return None
    kind = _condition_kind(written)
    if kind is None:
        names = ", ".join(f"{name}Condition" for name in _CONDITIONS)
        refused = f"unknown condition type `{written}`"
        if kestratypes.kestra_kind(written) == "condition":
            refused = f"`{written}` is a Kestra condition type that Tercel does not run"
        issues.add(given["type"][1], f"{refused} (Tercel runs {names})")
        return None
    fields = {"STATUS": ("in", "notIn"), "FLOW": ("namespace", "flowId")}
    known = ("type", *fields.get(kind, ("namespace", "comparison", "prefix")))
    fv.unknown_keys(issues, entry, known)
    if kind == "STATUS":
        return Condition(
            "STATUS",
            written,
            tuple(read(given, "in", lambda n: _states(issues, n)) or ()),
            tuple(read(given, "notIn", lambda n: _states(issues, n)) or ()),
        )
    namespace = required(issues, entry, given, "namespace", lambda n: fv.string(issues, n))
    if kind == "FLOW":
        flow_id = required(issues, entry, given, "flowId", lambda n: fv.string(issues, n))
        return Condition("FLOW", written, namespace=namespace, flow_id=flow_id)
    prefix = bool(read(given, "prefix", lambda n: fv.boolean(issues, n)) or False)
    comparison = read(given, "comparison", lambda n: choice(issues, n, ("EQUALS", "PREFIX")))
    return Condition(
        "NAMESPACE", written, namespace=namespace, comparison=comparison or _prefix_or(prefix)
    )


def _prefix_or(prefix: bool) -> Literal["EQUALS", "PREFIX"]:
    return "PREFIX" if prefix else "EQUALS"


def _condition_kind(written: str) -> ConditionKind | None:
    for prefix in _CONDITION_PREFIXES:
        if written.startswith(prefix):
            short = written[len(prefix) :].removesuffix("Condition")
            kind = _CONDITIONS.get(short)
            if kind is not None:
                return kind
    return None


def _states(issues: validation.Issues, node: ys.Node) -> list[states.StateType]:
    names = fv.string_list(issues, node) or []
    found = []
    for name, item in zip(names, node.items if isinstance(node, ys.SeqNode) else (), strict=False):
        try:
            found.append(states.StateType(name))
        except ValueError:
            issues.add(item, f"unknown state `{name}`")
    return found
