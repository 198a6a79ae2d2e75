"""Retry policies of tasks and flows (docs/semantics.md#retries).

Tercel refuses unbounded retries: a policy needs `maxAttempt` or `maxDuration`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal, cast

from tercel.engine import model
from tercel.engine.flows import validation
from tercel.engine.flows import values as fv
from tercel.engine.flows import yamlsource as ys

__all__ = ["parse_retry"]

_TYPES = ("constant", "exponential", "random")
_BEHAVIORS = ("RETRY_FAILED_TASK", "CREATE_NEW_EXECUTION")
_COMMON = ("type", "maxAttempt", "maxAttempts", "maxDuration", "warningOnRetry", "behavior")
#: the fields each type takes besides the common ones
_SPECIFIC: dict[str, tuple[str, ...]] = {
    "constant": ("interval",),
    "exponential": ("interval", "maxInterval", "delayFactor"),
    "random": ("minInterval", "maxInterval"),
}
_DURATIONS = ("maxDuration", "interval", "maxInterval", "minInterval")
_ALL = frozenset(_COMMON).union(*_SPECIFIC.values())
#: pairs (smaller, larger) that must hold when both are set
_ORDERED: dict[str, tuple[tuple[str, str], ...]] = {
    "constant": (("interval", "maxDuration"),),
    "exponential": (("interval", "maxInterval"), ("interval", "maxDuration")),
    "random": (("minInterval", "maxInterval"), ("maxInterval", "maxDuration")),
}


def parse_retry(issues: validation.Issues, node: ys.Node) -> model.RetryPolicy | None:
    """The policy, or None (with issues) when it is invalid."""
    retry = fv.mapping(issues, node)
    if retry is None:
        return None
    before = len(issues)
    fv.unknown_keys(issues, retry, _ALL)
    given = fv.fields(retry)
    kind = _type(issues, retry, given)
    if kind is not None:
        for name, (key, _) in given.items():
            if name in _ALL and name not in _COMMON and name not in _SPECIFIC[kind]:
                issues.add(key, f"`{name}` does not apply to {kind} retries")
    times = {name: fv.duration(issues, given[name][1]) for name in _DURATIONS if name in given}
    attempts = _max_attempt(issues, retry, given)
    factor = fv.number(issues, given["delayFactor"][1]) if "delayFactor" in given else None
    warning = fv.boolean(issues, given["warningOnRetry"][1]) if "warningOnRetry" in given else None
    behavior = _behavior(issues, given)
    if "maxAttempt" not in given and "maxAttempts" not in given and "maxDuration" not in given:
        issues.add(retry, "needs `maxAttempt` or `maxDuration` (unbounded retries are refused)")
    if kind is not None:
        _check_intervals(issues, retry, kind, given, times)
    if kind is None or len(issues) > before:
        return None
    return model.RetryPolicy(
        type=cast(Literal["constant", "exponential", "random"], kind),
        max_attempt=attempts,
        max_duration=times.get("maxDuration"),
        interval=times.get("interval"),
        max_interval=times.get("maxInterval"),
        delay_factor=None if factor is None else float(factor),
        min_interval=times.get("minInterval"),
        warning_on_retry=bool(warning),
        behavior=cast(Literal["RETRY_FAILED_TASK", "CREATE_NEW_EXECUTION"], behavior),
    )


Given = dict[str, tuple[ys.ScalarNode, ys.Node]]


def _type(issues: validation.Issues, retry: ys.MapNode, given: Given) -> str | None:
    if "type" not in given:
        issues.missing(
            retry,
            ys.child_path(retry.path, "type"),
            "is required (constant, exponential or random)",
        )
        return None
    node = given["type"][1]
    text = fv.string(issues, node)
    if text is not None and text not in _TYPES:
        issues.add(node, f"unknown retry type `{text}`, expected constant, exponential or random")
        return None
    return text


def _max_attempt(issues: validation.Issues, retry: ys.MapNode, given: Given) -> int | None:
    if "maxAttempt" in given and "maxAttempts" in given:
        issues.add(given["maxAttempts"][0], "`maxAttempts` repeats `maxAttempt`: keep one")
    entry = given.get("maxAttempt") or given.get("maxAttempts")
    return None if entry is None else fv.integer(issues, entry[1], minimum=1)


def _behavior(issues: validation.Issues, given: Given) -> str:
    if "behavior" not in given:
        return "RETRY_FAILED_TASK"
    node = given["behavior"][1]
    text = fv.string(issues, node)
    if text is not None and text not in _BEHAVIORS:
        issues.add(node, f"expected RETRY_FAILED_TASK or CREATE_NEW_EXECUTION, got `{text}`")
    return text or "RETRY_FAILED_TASK"


def _check_intervals(
    issues: validation.Issues,
    retry: ys.MapNode,
    kind: str,
    given: Given,
    times: dict[str, timedelta | None],
) -> None:
    needed = {
        "constant": ("interval",),
        "exponential": ("interval", "maxInterval"),
        "random": ("minInterval", "maxInterval"),
    }[kind]
    for name in needed:
        if name not in given:
            issues.missing(
                retry, ys.child_path(retry.path, name), f"is required for {kind} retries"
            )
    for smaller, larger in _ORDERED[kind]:
        low, high = times.get(smaller), times.get(larger)
        if low is not None and high is not None and not low < high:
            issues.add(given[smaller][1], f"must be less than `{larger}`")
