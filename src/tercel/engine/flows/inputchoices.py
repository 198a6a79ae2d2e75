"""The choice properties of SELECT, MULTISELECT and ENUM input definitions: `values`
(`options`, MULTISELECT's deprecated name for it), `allowCustomValue`, `isRadio`
(docs/semantics.md#more-input-types; Kestra: SelectInput, MultiselectInput, EnumInput).

Kestra also takes `expression` (values rendered when the Execute form opens); Tercel refuses it
at validation rather than ignore it.
"""

from __future__ import annotations

from typing import Any

from tercel.engine.flows import validation
from tercel.engine.flows import values as fv
from tercel.engine.flows import yamlsource as ys

__all__ = ["CHOICE_KEYS", "CHOICE_TYPES", "parse_choices"]

CHOICE_TYPES = ("SELECT", "MULTISELECT", "ENUM")
#: property -> the types it applies to
_APPLIES: dict[str, tuple[str, ...]] = {
    "values": CHOICE_TYPES,
    "options": ("MULTISELECT",),
    "allowCustomValue": ("SELECT", "MULTISELECT"),
    "isRadio": ("SELECT",),
    "expression": ("SELECT", "MULTISELECT"),
}
CHOICE_KEYS = frozenset(_APPLIES)

Fields = dict[str, tuple[ys.ScalarNode, ys.Node]]


def parse_choices(
    issues: validation.Issues, entry: ys.MapNode, given: Fields, kind: str | None
) -> dict[str, Any]:
    """The InputDef fields `values` and `allow_custom_value` of one definition (issues for
    properties on the wrong type, a missing or empty list, both `values` and `options`)."""
    found: dict[str, Any] = {}
    for name, types in _APPLIES.items():
        if name in given and kind is not None and kind not in types:
            issues.add(given[name][0], f"`{name}` applies to {_either(types)} inputs only")
    if kind not in CHOICE_TYPES:
        return found
    if "expression" in given:
        message = "`expression` (values from an expression) is not supported: list the `values`"
        issues.add(given["expression"][0], message)
    if "values" in given and "options" in given:
        issues.add(given["options"][0], "you can't define both `values` and `options`")
    written = "values" if "values" in given else "options" if "options" in given else None
    if written is None:
        if "expression" not in given:
            path = ys.child_path(entry.path, "values")
            issues.missing(entry, path, f"is required for {kind} inputs")
    else:
        node = given[written][1]
        listed = fv.string_list(issues, node)
        if listed is not None and not listed:
            issues.add(node, "must list at least one value")
        found["values"] = tuple(listed) if listed else None
    if "allowCustomValue" in given:
        found["allow_custom_value"] = fv.boolean(issues, given["allowCustomValue"][1]) is True
    if "isRadio" in given:
        fv.boolean(issues, given["isRadio"][1])
    return found


def _either(types: tuple[str, ...]) -> str:
    return types[0] if len(types) == 1 else f"{', '.join(types[:-1])} and {types[-1]}"
