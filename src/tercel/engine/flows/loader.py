"""Flow YAML text → the immutable `model.Flow`, or a `FlowValidationError` listing every problem.

One validator for `tercel validate`, `tercel run`, `deployFlow` and `--flows`
(docs/semantics.md#validation). Reading the YAML safely is `yamlsource`'s job; tasks are
`taskdefs`', plugin defaults `plugindefaults`', inputs and outputs `inputdefs`', retry policies
`retrypolicies`', the concurrency limit `concurrencydefs`'.
"""

from __future__ import annotations

import re
from typing import Any

from tercel.engine import model
from tercel.engine.flows import (
    concurrencydefs,
    inputdefs,
    kestratypes,
    plugindefaults,
    retrypolicies,
    taskdefs,
    triggerdefs,
    validation,
)
from tercel.engine.flows import values as fv
from tercel.engine.flows import yamlsource as ys

__all__ = [
    "FlowValidationError",
    "Issue",
    "load_flow",
    "parse_input_defs",
    "parse_output_defs",
]

Issue = validation.Issue
FlowValidationError = validation.FlowValidationError
parse_input_defs = inputdefs.parse_input_defs
parse_output_defs = inputdefs.parse_output_defs

_FLOW_ID_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]*")
_NAMESPACE_RE = re.compile(r"[a-z0-9][a-z0-9._-]*")
_KEYS = frozenset(
    {
        "id",
        "namespace",
        "description",
        "labels",
        "inputs",
        "variables",
        "tasks",
        "errors",
        "finally",
        "outputs",
        "retry",
        "disabled",
        "pluginDefaults",
        "taskDefaults",
        "triggers",
        "concurrency",
        "revision",
    }
)


def load_flow(source: str, *, file: str | None = None, revision: int | None = None) -> model.Flow:
    """Validate a flow source; `revision` (else the YAML's `revision`, else 1) numbers it.
    A `revision` given means a stored one (see yamlsource.parse)."""
    issues = validation.Issues()
    root = ys.parse(source, issues, stored=revision is not None)
    flow = None if root is None else _build(issues, root, source, revision)
    if issues or flow is None:
        raise FlowValidationError(issues.sorted(), file)
    return flow


def _build(
    issues: validation.Issues, root: ys.Node, source: str, revision: int | None
) -> model.Flow | None:
    assert isinstance(root, ys.MapNode)  # yamlsource refuses any other root
    for key, _ in root.entries:
        if key.text not in _KEYS:
            issues.add(key, kestratypes.unknown_flow_property_message(key.text, _KEYS))
    given = fv.fields(root)

    def node(name: str) -> ys.Node | None:
        return given[name][1] if name in given else None

    ident = _name(issues, root, node("id"), "id", _FLOW_ID_RE, 100)
    namespace = _name(issues, root, node("namespace"), "namespace", _NAMESPACE_RE, 150)
    namespace_node = node("namespace")
    if namespace is not None and namespace_node and "_files" in namespace.split("."):
        issues.add(
            namespace_node,
            "`_files` cannot be a part of a namespace: namespace files live there",
        )
        namespace = None
    defaults = [
        default
        for name in ("pluginDefaults", "taskDefaults")
        if name in given
        for default in plugindefaults.parse_plugin_defaults(issues, given[name][1])
    ]
    loader = taskdefs.TaskLoader(issues, defaults)
    tasks_node = node("tasks")
    if tasks_node is None:
        issues.missing(root, "tasks")
    tasks = () if tasks_node is None else loader.tasks(tasks_node, non_empty=True)
    errors = _optional(node("errors"), loader.tasks, ())
    finally_ = _optional(node("finally"), loader.tasks, ())
    fields: dict[str, Any] = {
        "description": _optional(node("description"), lambda n: fv.string(issues, n), None),
        "labels": _optional(node("labels"), lambda n: _labels(issues, n), ()),
        "inputs": _optional(node("inputs"), lambda n: inputdefs.parse_input_defs(issues, n), ()),
        "variables": _optional(node("variables"), lambda n: fv.data_map(issues, n), {}),
        "outputs": _optional(node("outputs"), lambda n: inputdefs.parse_output_defs(issues, n), ()),
        "retry": _optional(node("retry"), lambda n: retrypolicies.parse_retry(issues, n), None),
        "disabled": bool(_optional(node("disabled"), lambda n: fv.boolean(issues, n), False)),
        "concurrency": _optional(
            node("concurrency"), lambda n: concurrencydefs.parse_concurrency(issues, n), None
        ),
        # a stored revision from before triggers were checked keeps loading, without them
        "triggers": _optional(
            node("triggers"),
            lambda n: triggerdefs.parse_triggers(
                issues if revision is None else validation.Issues(), n
            ),
            (),
        ),
    }
    written_revision = _revision(issues, node("revision"))
    if ident is None or namespace is None:
        return None
    return model.Flow(
        id=ident,
        namespace=namespace,
        tasks=tasks,
        revision=revision if revision is not None else written_revision,
        errors=errors,
        finally_=finally_,
        source=source,
        **fields,
    )


def _optional(node: ys.Node | None, read: Any, absent: Any) -> Any:
    return absent if node is None else read(node)


def _name(
    issues: validation.Issues,
    root: ys.MapNode,
    node: ys.Node | None,
    field: str,
    pattern: re.Pattern[str],
    limit: int,
) -> str | None:
    if node is None:
        issues.missing(root, field)
        return None
    text = fv.string(issues, node)
    if text is None:
        return None
    if not pattern.fullmatch(text):
        issues.add(node, f"`{text}` must match `^{pattern.pattern}$`")
        return None
    if len(text) > limit:
        issues.add(node, f"must be at most {limit} characters long")
        return None
    return text


def _revision(issues: validation.Issues, node: ys.Node | None) -> int:
    if node is None:
        return 1
    return fv.integer(issues, node, minimum=1) or 1


def _labels(issues: validation.Issues, node: ys.Node) -> tuple[model.Label, ...]:
    """A map of key → value, or a list of `{key, value}`; values become their text."""
    pairs: list[tuple[ys.Node, ys.Node]]
    if isinstance(node, ys.MapNode):
        pairs = [(key, value) for key, value in node.entries]
    elif isinstance(node, ys.SeqNode):
        pairs = [pair for item in node.items if (pair := _label_item(issues, item)) is not None]
    else:
        issues.add(node, "expected a map or a list of {key, value}")
        return ()
    labels = []
    for key, value in pairs:
        text = fv.string(issues, value)
        name = fv.string(issues, key)
        if text is not None and name is not None:
            labels.append(model.Label(name, text))
    return tuple(labels)


def _label_item(issues: validation.Issues, item: ys.Node) -> tuple[ys.Node, ys.Node] | None:
    entry = fv.mapping(issues, item)
    if entry is None:
        return None
    fv.unknown_keys(issues, entry, ("key", "value"))
    key, value = entry.get("key"), entry.get("value")
    for name, found in (("key", key), ("value", value)):
        if found is None:
            issues.missing(entry, ys.child_path(entry.path, name))
    return None if key is None or value is None else (key, value)
