"""Task lists → `TaskDef`s: common properties, type properties by `Prop` spec, nested branches.

Task ids are unique in the whole flow, so one `TaskLoader` reads every task list of a flow.
Plugin defaults are merged into each task mapping before it is checked (`flowdefaults`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any

from tercel.engine import expressions, model
from tercel.engine.batches import BatchError, parse_size, whole
from tercel.engine.flows import inputdefs, kestratypes, plugindefaults, retrypolicies, validation
from tercel.engine.flows import values as fv
from tercel.engine.flows import yamlsource as ys
from tercel.engine.tasks import base, itemtasks, registry, retention

__all__ = ["TaskLoader"]

_ID_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_-]*")
K = base.PropKind
_INVALID = object()


class TaskLoader:
    """Loads the task lists of one flow, checking ids across all of them."""

    def __init__(
        self, issues: validation.Issues, defaults: Sequence[plugindefaults.PluginDefault] = ()
    ) -> None:
        self.issues = issues
        self._defaults = defaults
        self._ids: dict[str, ys.Node] = {}

    def tasks(self, node: ys.Node, *, non_empty: bool = False) -> tuple[model.TaskDef, ...]:
        """A task list; invalid tasks are left out (with issues)."""
        seq = fv.sequence(self.issues, node, "a list of tasks")
        if seq is None:
            return ()
        if non_empty and not seq.items:
            self.issues.add(seq, "must not be empty")
        found = (self.task(item) for item in seq.items)
        return tuple(task for task in found if task is not None)

    def task(self, node: ys.Node) -> model.TaskDef | None:
        if not isinstance(node, ys.MapNode):
            self.issues.add(node, "expected a task (a mapping with `id` and `type`)")
            return None
        entry = node
        given = fv.fields(entry)
        ident = self._id(entry, given)
        task_type, written = self._type(entry, given)
        if task_type is None or written is None:
            return None
        entry = plugindefaults.apply(entry, task_type, written, self._defaults)
        task = _Task(self, task_type, entry)
        if ident is None:
            return None
        found = model.TaskDef(
            id=ident,
            type=task_type.name,
            written_type=written,
            kind=task_type.kind,
            properties=task.properties,
            branches=task.branches,
            cases=task.cases,
            location=model.Location(entry.line, entry.column),
            **task.common,
        )
        if task_type.name != itemtasks.TYPE:
            return found
        for suffix in itemtasks.SUFFIXES:  # its children's ids are taken too
            self._taken(ident + suffix, given["id"][1])
        return itemtasks.expand(found)

    def _id(self, entry: ys.MapNode, given: fv.Fields) -> str | None:
        if "id" not in given:
            self.issues.missing(entry, ys.child_path(entry.path, "id"))
            return None
        node = given["id"][1]
        text = fv.string(self.issues, node)
        if text is None:
            return None
        if not _ID_RE.fullmatch(text):
            self.issues.add(node, f"`{text}` must match `^{_ID_RE.pattern}$`")
            return None
        return text if self._taken(text, node) else None

    def _taken(self, text: str, node: ys.Node) -> bool:
        """Record the task id `text` written at `node`; False (an issue) when it is taken."""
        if text in self._ids:
            # the one written later in the file is the duplicate (`errors` may precede `tasks`)
            first, later = sorted((self._ids[text], node), key=lambda n: (n.line, n.column))
            self.issues.add(later, f"duplicate task id `{text}` (first at line {first.line})")
            return False
        self._ids[text] = node
        return True

    def _type(self, entry: ys.MapNode, given: fv.Fields) -> tuple[base.TaskType | None, str | None]:
        if "type" not in given:
            self.issues.missing(entry, ys.child_path(entry.path, "type"))
            return None, None
        node = given["type"][1]
        written = fv.string(self.issues, node)
        if written is None:
            return None, None
        task_type = registry.get(written)
        if task_type is None:
            self.issues.add(node, kestratypes.unknown_type_message(written, registry.names()))
        return task_type, written


class _Task:
    """The checked properties of one task mapping (plugin defaults already merged)."""

    def __init__(self, loader: TaskLoader, task_type: base.TaskType, entry: ys.MapNode) -> None:
        self._loader = loader
        self._issues = loader.issues
        self.properties: dict[str, Any] = {}
        self.branches: dict[str, tuple[model.TaskDef, ...]] = {}
        self.cases: dict[str, tuple[model.TaskDef, ...]] = {}
        self.common: dict[str, Any] = {}
        known = plugindefaults.known_names(task_type)
        seen: dict[str, ys.ScalarNode] = {}
        for key, value in entry.entries:
            name = known.get(key.text)
            if key.text in ("id", "type"):
                continue
            if name is None:
                self._issues.add(key, _unknown_property(task_type, key.text, known))
            elif name in seen:
                self._issues.add(key, f"`{key.text}` repeats `{seen[name].text}`: keep one")
            elif not (isinstance(value, ys.ScalarNode) and value.is_null):
                seen[name] = key
                self._one(task_type, name, value)
        self._absent(task_type, entry, seen)

    def _one(self, task_type: base.TaskType, name: str, node: ys.Node) -> None:
        prop = task_type.properties.get(name)
        if prop is None:
            self._common(name, node)
            return
        if prop.kind is K.TASKS:
            self.branches[name] = self._loader.tasks(node, non_empty=prop.non_empty)
        elif prop.kind is K.CASES:
            self.cases = self._cases(node)
        else:
            value = self._value(prop, node)
            if value is not _INVALID:  # ignored ones too: the task warns that it ignores them
                self.properties[name] = value

    def _absent(
        self, task_type: base.TaskType, entry: ys.MapNode, seen: dict[str, ys.ScalarNode]
    ) -> None:
        for name, prop in task_type.properties.items():
            if name in seen:
                continue
            if prop.required:
                self._issues.missing(entry, ys.child_path(entry.path, name))
            elif prop.default is not None and prop.kind not in (K.TASKS, K.CASES, K.INPUTS):
                self.properties[name] = copy.deepcopy(prop.default)

    def _common(self, name: str, node: ys.Node) -> None:
        issues = self._issues
        value: Any
        if name == "description":
            value = fv.string(issues, node)
        elif name in ("disabled", "allowFailure", "allowWarning"):
            value = fv.boolean(issues, node)
        elif name == "runIf":
            value = fv.string(issues, node, dynamic=True)
        elif name == "retry":
            value = retrypolicies.parse_retry(issues, node)
        elif name == "timeout":
            value = fv.duration_text(issues, node)
        else:  # logLevel
            level = fv.level(issues, node)
            value = None if level is None else model.LogLevel[level]
        if value is not None:
            self.common[_FIELDS.get(name, name)] = value

    def _cases(self, node: ys.Node) -> dict[str, tuple[model.TaskDef, ...]]:
        cases = fv.mapping(self._issues, node)
        if cases is None:
            return {}
        return {key.text: self._loader.tasks(value) for key, value in cases.entries}

    def _value(self, prop: base.Prop, node: ys.Node) -> Any:
        issues = self._issues
        kind = prop.kind
        value: Any
        if kind is K.STRING:
            value = fv.string(issues, node, dynamic=True)
        elif kind is K.STRING_LIST:
            value = fv.string_list(issues, node, dynamic=True)
        elif kind is K.STRING_OR_LIST:
            value = _string_or_list(issues, node)
        elif kind is K.INT:
            value = fv.integer(issues, node, prop.minimum)
        elif kind is K.NUMBER:
            value = fv.number(issues, node, prop.minimum)
        elif kind is K.BOOL:
            value = fv.boolean(issues, node)
        elif kind is K.DURATION:
            value = fv.duration_text(issues, node)
        elif kind is K.LEVEL:
            value = fv.level(issues, node)
        elif kind is K.LEVELS:
            value = fv.levels(issues, node)
        elif kind is K.ENDED_STATES:
            value = fv.ended_states(issues, node)
        elif kind is K.DATE:
            value = _date_text(issues, node)
        elif kind is K.MAP:
            value = None if fv.mapping(issues, node) is None else fv.data(issues, node)
        elif kind is K.BATCH:
            value = _batch(issues, node)
        elif kind is K.LIST_OR_STRING_VALUES:
            value = _list_or_string(issues, node)
        elif kind is K.INPUTS:
            return inputdefs.parse_input_defs(issues, node, on_resume=True)
        else:  # ANY
            return fv.data(issues, node)
        return _INVALID if value is None else value


_FIELDS = {
    "allowFailure": "allow_failure",
    "allowWarning": "allow_warning",
    "runIf": "run_if",
    "logLevel": "log_level",
}


def _batch(issues: validation.Issues, node: ys.Node) -> dict[str, Any] | None:
    """ForEachItem `batch`: `rows`, `bytes` (a size: `10MB`) or `partitions`, each a value
    checked here or a template rendered when the task starts (engine/batches.py)."""
    before = len(issues)
    entries = fv.mapping(issues, node)
    if entries is None:
        return None
    fv.unknown_keys(issues, entries, ("rows", "bytes", "partitions"))
    batch: dict[str, Any] = {}
    for key, value in entries.entries:
        if key.text in ("rows", "bytes", "partitions"):
            batch[key.text] = _batch_value(issues, key.text, value)
    return None if len(issues) > before else batch


def _batch_value(issues: validation.Issues, name: str, node: ys.Node) -> Any:
    text = node.value if isinstance(node, ys.ScalarNode) else None
    if isinstance(text, str) and expressions.is_template(text):
        return fv.string(issues, node, dynamic=True)
    try:
        return parse_size(text) if name == "bytes" else whole(name, text)
    except BatchError as error:
        issues.add(node, str(error))
        return None


def _date_text(issues: validation.Issues, node: ys.Node) -> str | None:
    """A template (checked, rendered at run time) or an ISO date that parses."""
    text = fv.string(issues, node, dynamic=True)
    if text is None or expressions.is_template(text):
        return text
    try:
        retention.parse_date(text)
    except ValueError as error:
        issues.add(node, str(error))
        return None
    return text


def _string_or_list(issues: validation.Issues, node: ys.Node) -> str | list[str] | None:
    if isinstance(node, ys.SeqNode):
        return fv.string_list(issues, node, dynamic=True)
    return fv.string(issues, node, dynamic=True)


def _list_or_string(issues: validation.Issues, node: ys.Node) -> Any:
    if isinstance(node, ys.SeqNode):
        return fv.data(issues, node)
    if isinstance(node, ys.ScalarNode) and isinstance(node.value, str):
        fv.check_template(issues, node, node.text)
        return node.text
    issues.add(node, "expected a list, or a string holding a JSON array or an expression")
    return None


def _unknown_property(task_type: base.TaskType, written: str, known: dict[str, str]) -> str:
    """`written` is not a property of `task_type`: Kestra's property Tercel does not run, or a
    name with the closest known one suggested."""
    names = (task_type.name, *task_type.aliases)
    return kestratypes.unknown_property_message(names, written, [*known, "id", "type"])
