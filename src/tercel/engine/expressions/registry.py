"""The filters, tests and functions of docs/semantics.md#expression-functions, and their guarded
Jinja2 callables.

Every callable registered in the environment checks the render deadline, refuses undefined
arguments (except where undefined is the point: `default`, `defined`, `??`), and checks the size
of what it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from jinja2 import Undefined, pass_context
from jinja2.runtime import Context

from tercel.engine.expressions import (
    bounded,
    dates,
    filters,
    functions,
    guard,
    predicates,
    sandbox,
)

__all__ = ["FILTERS", "FUNCTIONS", "TESTS", "Spec", "jinja_filters", "jinja_tests"]


@dataclass(frozen=True, slots=True)
class Spec:
    fn: Callable[..., Any]
    #: receives the render context (a Mapping) as first argument
    context: bool = False
    #: accepts an undefined input value
    undefined: bool = False


def _specs(table: dict[str, Callable[..., Any]]) -> dict[str, Spec]:
    return {name: Spec(fn) for name, fn in table.items()}


FILTERS: dict[str, Spec] = {
    **_specs(filters.FILTERS),
    **_specs(dates.FILTERS),
    "default": Spec(filters.default, undefined=True),
}
TESTS: dict[str, Spec] = {
    **_specs(predicates.TESTS),
    "defined": Spec(predicates.defined, undefined=True),
}
FUNCTIONS: dict[str, Spec] = {
    **_specs(functions.FUNCTIONS),
    "now": Spec(dates.now),
    **{name: Spec(fn, context=True) for name, fn in functions.CONTEXT_FUNCTIONS.items()},
}
_INTERNAL_FILTERS: dict[str, Spec] = {
    "__contains": Spec(bounded.contains),
    "__compare": Spec(bounded.compare),
    "__concat": Spec(filters.concat),
    "__range": Spec(functions.range_),
    "__var": Spec(functions.variable, context=True),
}
_INTERNAL_TESTS: dict[str, Spec] = {
    "__present": Spec(predicates.defined, undefined=True),
    "__resolved": Spec(predicates.resolved, undefined=True),
}


def _check_arguments(args: Iterable[Any]) -> None:
    for arg in args:
        if isinstance(arg, Undefined):
            sandbox.fail(arg)


def _filter(spec: Spec) -> Callable[..., Any]:
    fn, with_context, undefined_ok = spec.fn, spec.context, spec.undefined

    @pass_context
    def call(context: Context, value: Any, *args: Any, **kwargs: Any) -> Any:
        guard.check_deadline()
        if not undefined_ok and isinstance(value, Undefined):
            sandbox.fail(value)
        if args:
            _check_arguments(args)
        if kwargs:
            _check_arguments(kwargs.values())
        if with_context:
            return guard.check_result(fn(context.parent, value, *args, **kwargs))
        return guard.check_result(fn(value, *args, **kwargs))

    return call


def _function(spec: Spec) -> Callable[..., Any]:
    fn, with_context = spec.fn, spec.context

    @pass_context
    def call(context: Context, _: None, *args: Any, **kwargs: Any) -> Any:
        guard.check_deadline()
        _check_arguments(args)
        _check_arguments(kwargs.values())
        if with_context:
            return guard.check_result(fn(context.parent, *args, **kwargs))
        return guard.check_result(fn(*args, **kwargs))

    return call


def _test(spec: Spec) -> Callable[..., bool]:
    call = _filter(spec)

    @pass_context
    def test(context: Context, value: Any, *args: Any, **kwargs: Any) -> bool:
        return bool(call(context, value, *args, **kwargs))

    return test


@pass_context
def _store(context: Context, value: Any, slot: int) -> Any:
    """Keep the left side of `??` so it is evaluated once (see parser)."""
    context.vars[f"__slot{slot}"] = value
    return value


@pass_context
def _load(context: Context, _: None, slot: int) -> Any:
    return context.vars[f"__slot{slot}"]


def jinja_filters() -> dict[str, Callable[..., Any]]:
    table = {name: _filter(spec) for name, spec in {**FILTERS, **_INTERNAL_FILTERS}.items()}
    table.update({f"__fn_{name}": _function(spec) for name, spec in FUNCTIONS.items()})
    table.update({"__store": _store, "__load": _load})
    return table


def jinja_tests() -> dict[str, Callable[..., bool]]:
    return {name: _test(spec) for name, spec in {**TESTS, **_INTERNAL_TESTS}.items()}
