"""Input definitions (flow `inputs`, Pause `onResume`) and flow output definitions
(docs/semantics.md#inputs, #flow-outputs).

Only validation happens here; coercing given values is the inputs resolver's job. What the
definitions hold: `min`/`max` are ints (INT), numbers (FLOAT) or timedeltas (DURATION);
`after`/`before` are aware UTC datetimes; a STRING input's scalar `defaults` keeps its source text.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import regex

from tercel.engine import model
from tercel.engine.flows import _more_input_types, inputchoices, validation
from tercel.engine.flows import values as fv
from tercel.engine.flows import yamlsource as ys

__all__ = ["INPUT_TYPES", "UNSUPPORTED_TYPES", "parse_input_defs", "parse_output_defs"]

INPUT_TYPES = (
    "STRING",
    "INT",
    "FLOAT",
    "BOOLEAN",
    "DATETIME",
    "DURATION",
    "JSON",
    "ARRAY",
    *_more_input_types.TYPES,
    "FILE",  # docs/semantics.md#files
)
UNSUPPORTED_TYPES: frozenset[str] = frozenset()
_ID_RE = re.compile(r"[a-zA-Z0-9][.a-zA-Z0-9_-]*")
_INPUT_KEYS = frozenset(
    {
        "id",
        "name",
        "type",
        "required",
        "defaults",
        "description",
        "displayName",
        "itemType",
        "validator",
        "min",
        "max",
        "after",
        "before",
        "dependsOn",
        *inputchoices.CHOICE_KEYS,
    }
)
#: input types a flow output cannot have (a SECRET output would be shown unmasked)
_NOT_OUTPUT_TYPES = frozenset({"SECRET"})
_OUTPUT_KEYS = frozenset({"id", "type", "value", "description", "displayName"})
#: constraint -> the types it applies to
_CONSTRAINTS: dict[str, tuple[str, ...]] = {
    "itemType": ("ARRAY", "MULTISELECT"),
    "validator": ("STRING", "SECRET"),
    "min": ("INT", "FLOAT", "DURATION"),
    "max": ("INT", "FLOAT", "DURATION"),
    "after": ("DATETIME", "DATE", "TIME"),
    "before": ("DATETIME", "DATE", "TIME"),
}

Issues = validation.Issues
Fields = dict[str, tuple[ys.ScalarNode, ys.Node]]


def parse_input_defs(
    issues: Issues, node: ys.Node, *, on_resume: bool = False
) -> tuple[model.InputDef, ...]:
    """A list of input definitions; invalid entries are left out (with issues). `on_resume`:
    a Pause's `onResume`, whose values become the Pause's outputs, so no SECRET there."""
    seq = fv.sequence(issues, node, "a list of inputs")
    if seq is None:
        return ()
    defs: list[model.InputDef] = []
    seen: dict[str, ys.Node] = {}
    for item in seq.items:
        entry = fv.mapping(issues, item)
        if entry is not None:
            found = _input(issues, entry, seen)
            if on_resume and found is not None and found.type == "SECRET":
                message = "a SECRET input cannot be an `onResume` input (its value is an output)"
                issues.add(entry, message)
                found = None
            if found is not None:
                defs.append(found)
    return tuple(defs)


def parse_output_defs(issues: Issues, node: ys.Node) -> tuple[model.OutputDef, ...]:
    """The flow's `outputs` list."""
    seq = fv.sequence(issues, node, "a list of outputs")
    if seq is None:
        return ()
    defs: list[model.OutputDef] = []
    seen: dict[str, ys.Node] = {}
    for item in seq.items:
        entry = fv.mapping(issues, item)
        if entry is None:
            continue
        fv.unknown_keys(issues, entry, _OUTPUT_KEYS)
        given = fv.fields(entry)
        before = len(issues)
        ident = _ident(issues, entry, given, seen, ("id",))
        kind = _type(issues, entry, given, "type")
        if kind in _NOT_OUTPUT_TYPES:
            issues.add(given["type"][1], f"output type `{kind}` is not supported")
        value = _value(issues, entry, given, kind)
        description, display = _texts(issues, given)
        if ident is not None and kind is not None and len(issues) == before:
            defs.append(model.OutputDef(ident, kind, value, description, display))
    return tuple(defs)


def _input(issues: Issues, entry: ys.MapNode, seen: dict[str, ys.Node]) -> model.InputDef | None:
    fv.unknown_keys(issues, entry, _INPUT_KEYS)
    given = fv.fields(entry)
    before = len(issues)
    if "dependsOn" in given:
        issues.add(given["dependsOn"][0], "`dependsOn` is not supported")
    ident = _ident(issues, entry, given, seen, ("id", "name"))
    kind = _type(issues, entry, given, "type")
    constraints = _constraints(issues, entry, given, kind)
    constraints.update(inputchoices.parse_choices(issues, entry, given, kind))
    required = fv.boolean(issues, given["required"][1]) if "required" in given else True
    defaults = _defaults(issues, given, kind)
    description, display = _texts(issues, given)
    if ident is None or kind is None or len(issues) > before:
        return None
    return model.InputDef(
        id=ident,
        type=kind,
        required=required is not False,
        defaults=defaults,
        description=description,
        display_name=display,
        **constraints,
    )


def _ident(
    issues: Issues,
    entry: ys.MapNode,
    given: Fields,
    seen: dict[str, ys.Node],
    names: tuple[str, ...],
) -> str | None:
    present = [name for name in names if name in given]
    if not present:
        issues.missing(entry, ys.child_path(entry.path, "id"))
        return None
    if len(present) > 1:
        issues.add(given[present[1]][0], f"`{present[1]}` repeats `{present[0]}`: keep one")
    node = given[present[0]][1]
    text = fv.string(issues, node)
    if text is None:
        return None
    if not _ID_RE.fullmatch(text):
        issues.add(node, f"`{text}` must match `^{_ID_RE.pattern}$`")
        return None
    if text in seen:
        issues.add(node, f"duplicate id `{text}` (first at line {seen[text].line})")
        return None
    seen[text] = node
    return text


def _type(issues: Issues, entry: ys.MapNode, given: Fields, name: str) -> str | None:
    if name not in given:
        issues.missing(entry, ys.child_path(entry.path, name))
        return None
    return _type_of(issues, given[name][1])


def _type_of(issues: Issues, node: ys.Node) -> str | None:
    text = fv.string(issues, node)
    if text is None:
        return None
    if text == "BOOL":
        return "BOOLEAN"
    if text in UNSUPPORTED_TYPES:
        issues.add(node, f"input type `{text}` is not supported")
    elif text not in INPUT_TYPES:
        issues.add(node, f"unknown input type `{text}`, expected one of {', '.join(INPUT_TYPES)}")
    else:
        return text
    return None


def _constraints(
    issues: Issues, entry: ys.MapNode, given: Fields, kind: str | None
) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, types in _CONSTRAINTS.items():
        if name not in given or kind is None:
            continue
        key, node = given[name]
        if kind not in types:
            issues.add(key, f"`{name}` applies to {_either(types)} inputs only")
            continue
        found[_FIELD.get(name, name)] = _constraint(issues, name, node, kind)
    if kind == "ARRAY" and "itemType" not in given:
        issues.missing(entry, ys.child_path(entry.path, "itemType"), "is required for ARRAY inputs")
    return found


_FIELD = {"itemType": "item_type"}


def _either(types: tuple[str, ...]) -> str:
    return types[0] if len(types) == 1 else f"{', '.join(types[:-1])} and {types[-1]}"


def _constraint(issues: Issues, name: str, node: ys.Node, kind: str) -> Any:
    if name == "itemType":
        item = _type_of(issues, node)
        if item in ("ARRAY", "MULTISELECT", "SECRET"):
            issues.add(node, f"`itemType` cannot be {item}")
        return item
    if name == "validator":
        return _regex(issues, node)
    if name in ("after", "before"):
        return _instant(issues, node) if kind == "DATETIME" else _local(issues, node, kind)
    if kind == "INT":
        return fv.integer(issues, node)
    if kind == "FLOAT":
        return fv.number(issues, node)
    return fv.duration(issues, node)


def _regex(issues: Issues, node: ys.Node) -> str | None:
    text = fv.string(issues, node)
    if text is None:
        return None
    try:
        re.compile(text)  # its messages; the engine matches with `regex`, which must accept it
        regex.compile(text)
    except (re.error, regex.error, RecursionError, OverflowError, ValueError) as exc:
        issues.add(node, f"invalid regular expression: {exc}")
        return None
    return text


def _local(issues: Issues, node: ys.Node, kind: str) -> Any:
    """A DATE or TIME bound (`2024-01-31`, `10:15:30`)."""
    text = fv.string(issues, node)
    if text is None:
        return None
    try:
        return _more_input_types.parse_more(kind, text)
    except ValueError:
        example = "2024-01-31" if kind == "DATE" else "10:15:30"
        issues.add(node, f"expected an ISO-8601 {kind.lower()} like {example}, got `{text}`")
        return None


def _instant(issues: Issues, node: ys.Node) -> datetime | None:
    text = fv.string(issues, node)
    if text is None:
        return None
    try:
        instant = datetime.fromisoformat(text)
        if instant.tzinfo is not None:
            return instant.astimezone(UTC)
    except (ValueError, OverflowError):
        pass
    issues.add(node, f"expected an ISO-8601 date-time with `Z` or an offset, got `{text}`")
    return None


def _defaults(issues: Issues, given: Fields, kind: str | None) -> Any:
    if "defaults" not in given:
        return None
    node = given["defaults"][1]
    if kind in _TEXT_TYPES and isinstance(node, ys.ScalarNode):
        return node.text
    return fv.data(issues, node, dynamic=False)


#: types whose scalar `defaults` keep their source text (`1.10` stays `1.10`)
_TEXT_TYPES = frozenset({"STRING", "SELECT", "ENUM", "URI", "EMAIL", "SECRET"})


def _value(issues: Issues, entry: ys.MapNode, given: Fields, kind: str | None) -> Any:
    if "value" not in given:
        issues.missing(entry, ys.child_path(entry.path, "value"))
        return None
    node = given["value"][1]
    if kind == "STRING" and isinstance(node, ys.ScalarNode):
        fv.check_template(issues, node, node.text)
        return node.text
    return fv.data(issues, node)


def _texts(issues: Issues, given: Fields) -> tuple[str | None, str | None]:
    description = fv.string(issues, given["description"][1]) if "description" in given else None
    display = fv.string(issues, given["displayName"][1]) if "displayName" in given else None
    return description, display
