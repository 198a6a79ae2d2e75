"""`pluginDefaults` (and the older `taskDefaults`): property values applied to matching tasks.

A default's `type` matches a task whose canonical or written type equals it, or starts with it
followed by "." (a package prefix). Non-forced values fill only what the task lacks (maps merged
deeply, the task's own values winning); forced values override. Keys that the task's type does not
take are skipped, so one default can target a whole package; a default naming exactly one type
must only set properties of that type.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tercel.engine.flows import kestratypes, validation
from tercel.engine.flows import values as fv
from tercel.engine.flows import yamlsource as ys
from tercel.engine.tasks import base, registry

__all__ = ["PluginDefault", "apply", "known_names", "parse_plugin_defaults"]

_KEYS = frozenset({"type", "values", "forced"})


@dataclass(frozen=True, slots=True)
class PluginDefault:
    type: str  #: as written: a class name, a legacy alias or a package prefix
    values: ys.MapNode
    forced: bool = False

    def matches(self, task_type: base.TaskType, written: str) -> bool:
        named = registry.get(self.type)
        if named is not None and named.name == task_type.name:
            return True
        prefix = self.type + "."
        return any(
            name == self.type or name.startswith(prefix) for name in (task_type.name, written)
        )


def known_names(task_type: base.TaskType) -> dict[str, str]:
    """Every property name a task of this type may set (aliases included) → its canonical name."""
    names = {name: name for name in registry.COMMON_PROPERTIES - {"id", "type"}}
    for name, prop in task_type.properties.items():
        names[name] = name
        names.update(dict.fromkeys(prop.aliases, name))
    return names


def parse_plugin_defaults(issues: validation.Issues, node: ys.Node) -> list[PluginDefault]:
    seq = fv.sequence(issues, node, "a list of plugin defaults")
    if seq is None:
        return []
    found: list[PluginDefault] = []
    for item in seq.items:
        entry = fv.mapping(issues, item)
        if entry is not None:
            default = _parse_one(issues, entry)
            if default is not None:
                found.append(default)
    return found


def _parse_one(issues: validation.Issues, entry: ys.MapNode) -> PluginDefault | None:
    fv.unknown_keys(issues, entry, _KEYS)
    given = fv.fields(entry)
    for name in ("type", "values"):
        if name not in given:
            issues.missing(entry, ys.child_path(entry.path, name))
    type_name = fv.string(issues, given["type"][1]) if "type" in given else None
    values = fv.mapping(issues, given["values"][1]) if "values" in given else None
    forced = fv.boolean(issues, given["forced"][1]) if "forced" in given else False
    if type_name is None or values is None:
        return None
    exact = registry.get(type_name)
    if exact is not None:
        known = known_names(exact)
        for key, _ in values.entries:
            if key.text in ("id", "type"):
                issues.add(key, f"`{key.text}` cannot have a default")
            elif key.text not in known:
                issues.add(key, _unknown(exact, type_name, key.text, known))
    return PluginDefault(type_name, values, bool(forced))


def _unknown(task_type: base.TaskType, written: str, name: str, known: Mapping[str, str]) -> str:
    """A Kestra property Tercel does not run is said to be one
    (docs/semantics.md#honest-refusals); another name gets the closest known one."""
    names = (task_type.name, *task_type.aliases)
    refused = kestratypes.unknown_property_message(names, name, known)
    if refused.startswith("unknown property"):
        return refused.replace(f"`{name}`", f"`{name}` for type `{written}`", 1)
    return refused


def apply(
    task: ys.MapNode, task_type: base.TaskType, written: str, defaults: Sequence[PluginDefault]
) -> ys.MapNode:
    """The task's mapping with every matching default merged in."""
    known = known_names(task_type)
    result = task
    for default in defaults:
        if not default.matches(task_type, written):
            continue
        for key, value in default.values.entries:
            if key.text in known:
                result = _merge_entry(result, key, value, default.forced, known)
    return result


def _merge_entry(
    target: ys.MapNode,
    key: ys.ScalarNode,
    value: ys.Node,
    forced: bool,
    canonical: Mapping[str, str],
) -> ys.MapNode:
    name = canonical.get(key.text, key.text)
    for index, (own_key, own_value) in enumerate(target.entries):
        if canonical.get(own_key.text, own_key.text) == name:
            entries = list(target.entries)
            entries[index] = (own_key, _merge_values(own_value, value, forced))
            return dataclasses.replace(target, entries=tuple(entries))
    return dataclasses.replace(target, entries=(*target.entries, (key, value)))


def _merge_values(own: ys.Node, default: ys.Node, forced: bool) -> ys.Node:
    if isinstance(own, ys.MapNode) and isinstance(default, ys.MapNode):
        merged = own
        for key, value in default.entries:
            merged = _merge_entry(merged, key, value, forced, {})
        return merged
    if isinstance(own, ys.ScalarNode) and own.is_null:
        return default
    return default if forced else own
