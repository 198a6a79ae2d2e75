"""A flow's `concurrency` (docs/semantics.md#concurrency; Kestra's `Concurrency`): `limit`
(an integer of at least 1, required) and `behavior` (QUEUE, the default, CANCEL or FAIL), every
problem with its line and column."""

from __future__ import annotations

from tercel.engine import model
from tercel.engine.flows import validation
from tercel.engine.flows import values as fv
from tercel.engine.flows import yamlsource as ys
from tercel.engine.types import ConcurrencyBehavior

__all__ = ["parse_concurrency"]

_KEYS = ("limit", "behavior")
_BEHAVIORS = ", ".join(b.value for b in ConcurrencyBehavior)


def parse_concurrency(issues: validation.Issues, node: ys.Node) -> model.Concurrency | None:
    """The flow's limit, or None (with issues) when it is invalid."""
    found = fv.mapping(issues, node)
    if found is None:
        return None
    before = len(issues)
    fv.unknown_keys(issues, found, _KEYS)
    given = fv.fields(found)
    limit = None
    if "limit" in given:
        limit = fv.integer(issues, given["limit"][1], minimum=1)
    else:
        issues.missing(found, ys.child_path(found.path, "limit"), "is required (at least 1)")
    behavior = ConcurrencyBehavior.QUEUE
    if "behavior" in given:
        behavior = _behavior(issues, given["behavior"][1]) or behavior
    if limit is None or len(issues) > before:
        return None
    return model.Concurrency(limit, behavior)


def _behavior(issues: validation.Issues, node: ys.Node) -> ConcurrencyBehavior | None:
    text = fv.string(issues, node)
    if text is None:
        return None
    try:
        return ConcurrencyBehavior(text)
    except ValueError:
        issues.add(node, f"unknown behavior `{text}`, expected {_BEHAVIORS}")
        return None
