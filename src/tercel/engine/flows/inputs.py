"""Execution inputs: resolve given values against the flow's definitions (docs/semantics.md#inputs).

Pure code. `resolve` gives the stored form (`execution.inputs`) and every problem at once (Kestra
stops at the first); `for_expressions` gives the `inputs` variable of expressions; `coerce_output`
applies the same type rules to a rendered flow output (docs/semantics.md#flow-outputs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import regex

from tercel.engine import model, secretinputs, storable
from tercel.engine.flows import _input_types as types
from tercel.engine.flows import fileinputs
from tercel.engine.outcomes import InputIssue

__all__ = ["InputIssue", "ResolvedInputs", "coerce_output", "for_expressions", "resolve"]

#: longest a STRING input's `validator` may take to match one value (it runs on the engine's
#: thread; `regex` checks its timeout every few steps, so the hold can be ~3 times this)
VALIDATOR_SECONDS = 0.05


@dataclass(frozen=True)
class ResolvedInputs:
    """The outcome of `resolve`."""

    #: the stored form (JSON data), keyed by input id in declaration order; an optional input
    #: without a value, and an input with an issue, map to None
    values: dict[str, Any] = field(default_factory=dict)
    #: one issue per invalid input, in declaration order; empty when every input is valid
    issues: list[InputIssue] = field(default_factory=list)
    #: given names that no definition declares (the engine WARN-logs them), in given order
    undeclared: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.issues


def resolve(
    defs: Sequence[model.InputDef],
    given: Mapping[str, Any],
    *,
    from_text: bool = False,
    namespace: str | None = None,
) -> ResolvedInputs:
    """Resolve each declared input: the given value if not None, else `defaults`, else None.

    `from_text` marks values from the CLI (`--input NAME=VALUE`), all strings. The rules already
    read a string as text for every type (STRING keeps it, JSON and ARRAY parse it, INT, FLOAT,
    BOOLEAN, DATETIME and DURATION parse it), so both modes resolve a string the same way.
    `namespace`: the new execution's; a FILE value must be a file of it or of a parent
    namespace (docs/semantics.md#files).
    """
    del from_text  # see the docstring: strings are read as text in both modes
    values: dict[str, Any] = {}
    issues: list[InputIssue] = []
    for definition in defs:
        raw = given.get(definition.id)
        if raw is None:
            raw = definition.defaults
        values[definition.id] = None
        unstorable = storable.first_unstorable(raw, definition.id)
        if unstorable is not None:
            where, why = unstorable
            message = f"Invalid input for `{definition.id}`: `{where}` {why}"
            issues.append(InputIssue(input=definition.id, message=message))
            continue
        if raw is None:
            if definition.required:
                issues.append(_issue(definition.id, "missing required input", None))
            continue
        try:
            values[definition.id] = _coerce(definition, raw)
        except types.CoercionError as error:
            secret = definition.type == "SECRET"  # never echo a secret back
            received = secretinputs.MASK if secret else error.received
            issues.append(_issue(definition.id, error.reason, received))
            continue
        wide = storable.first_unstorable(values[definition.id], definition.id)
        if wide is not None:  # a JSON text parsed into an integer beyond 64 bits
            values[definition.id] = None
            message = f"Invalid input for `{definition.id}`: `{wide[0]}` {wide[1]}"
            issues.append(InputIssue(input=definition.id, message=message))
    if namespace is not None:
        issues += fileinputs.namespace_problems(defs, values, namespace)
    declared = {definition.id for definition in defs}
    undeclared = [name for name in given if name not in declared]
    return ResolvedInputs(values=values, issues=issues, undeclared=undeclared)


def for_expressions(defs: Sequence[model.InputDef], values: Mapping[str, Any]) -> dict[str, Any]:
    """The `inputs` variable: DATETIME values as aware UTC datetimes, dotted ids nested."""
    by_id = {definition.id: definition for definition in defs}
    result: dict[str, Any] = {}
    for key, stored in values.items():
        definition = by_id.get(key)
        value = stored
        if definition is not None:
            value = types.from_stored(definition.type, stored, item_type=definition.item_type)
        _put(result, key, value)
    return result


def coerce_output(
    type_name: str, value: Any, *, output_id: str | None = None, item_type: str | None = None
) -> Any:
    """A rendered flow output in its stored form, by the input rules of `type_name`
    (docs/semantics.md#flow-outputs).

    Raises ValueError (``Invalid output for `id`, expected INT, but received `abc` `` when
    `output_id` is given, else from `expected INT` on) when the value does not fit.
    """
    try:
        return types.to_stored(types.parse(type_name, value, item_type=item_type))
    except types.CoercionError as error:
        prefix = f"Invalid output for `{output_id}`, " if output_id is not None else ""
        raise ValueError(f"{prefix}{error}") from None


def _issue(input_id: str, reason: str, received: Any) -> InputIssue:
    line = f"Invalid input for `{input_id}`, {reason}, but received `{types.show(received)}`"
    return InputIssue(input=input_id, message=line)


def _coerce(definition: model.InputDef, raw: Any) -> Any:
    native = types.parse(definition.type, raw, item_type=definition.item_type)
    reason = _constraint_failure(definition, native)
    if reason is not None:
        raise types.CoercionError(reason, raw)
    return types.to_stored(native)


def _constraint_failure(definition: model.InputDef, native: Any) -> str | None:
    """The reason `native` breaks a constraint of `definition`, or None when it fits.

    Bounds are inclusive, as in Kestra: a value equal to `min`, `max`, `after` or `before` fits.
    """
    kind = definition.type.upper()
    if kind in ("STRING", "SECRET") and definition.validator is not None:
        return _pattern_failure(definition.validator, secretinputs.reveal(native))
    elif kind in ("SELECT", "ENUM", "MULTISELECT"):
        return _choice_failure(definition, native)
    elif kind in ("INT", "FLOAT", "DURATION"):
        low, high = definition.min, definition.max
        if low is not None and native < _bound(definition, "min", low):
            return f"it must be more than `{types.show(low)}`"
        if high is not None and native > _bound(definition, "max", high):
            return f"it must be less than `{types.show(high)}`"
    elif kind in ("DATETIME", "DATE", "TIME"):
        after, before = definition.after, definition.before
        if after is not None and native < _bound(definition, "after", after):
            return f"it must be after `{types.show(_bound(definition, 'after', after))}`"
        if before is not None and native > _bound(definition, "before", before):
            return f"it must be before `{types.show(_bound(definition, 'before', before))}`"
    return None


def _choice_failure(definition: model.InputDef, native: Any) -> str | None:
    """Why a SELECT, ENUM or MULTISELECT value is outside `values` (Kestra's message, the
    list as Java prints it), or None. MULTISELECT elements compare by their text."""
    if definition.allow_custom_value or definition.values is None:
        return None
    chosen = native if isinstance(native, list) else [native]
    allowed = set(definition.values)
    if all(types.show(item) in allowed for item in chosen):
        return None
    return f"it must match the values `[{', '.join(definition.values)}]`"


def _pattern_failure(pattern: str, text: str) -> str | None:
    """Why `text` does not fully match the `validator`, or None. The `regex` module's timeout
    stops a pattern that backtracks exponentially (`(a+)+` on 27 characters took 17 s with
    `re`, on the event loop)."""
    try:
        matched = regex.fullmatch(pattern, text, timeout=VALIDATOR_SECONDS)
    except regex.error:  # validation refuses bad patterns; a bad one matches nothing
        matched = None
    except TimeoutError:
        return (
            f"matching it against the pattern `{pattern}` took longer than "
            f"{VALIDATOR_SECONDS * 1000:g} ms"
        )
    return None if matched is not None else f"it must match the pattern `{pattern}`"


def _bound(definition: model.InputDef, name: str, bound: Any) -> Any:
    """A constraint in native form; a naive datetime bound is read as UTC."""
    if isinstance(bound, datetime) and bound.tzinfo is None:
        bound = bound.replace(tzinfo=UTC)
    try:
        return types.parse(definition.type, bound)
    except types.CoercionError as error:
        raise ValueError(f"input `{definition.id}` has an invalid `{name}`: {error}") from None


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    """Set `value` at the path of the dotted `key`, copying the dicts it writes into.

    A step that already holds a non-map value keeps it; the rest of the key is then set as one
    dotted name at that level, so no value is lost.
    """
    parts = key.split(".")
    node = target
    for index, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is not None and not isinstance(child, dict):
            node[".".join(parts[index:])] = value
            return
        node[part] = dict(child) if child is not None else {}
        node = node[part]
    leaf = parts[-1]
    existing = node.get(leaf)
    if isinstance(existing, dict) and isinstance(value, dict):
        value = {**value, **existing}
    node[leaf] = value
