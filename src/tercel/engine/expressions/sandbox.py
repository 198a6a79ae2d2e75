"""The sandboxed Jinja2 environment: data-only lookups, chainable strict undefined, guarded
operators (docs/semantics.md#expression-operators, #expression-limits).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from jinja2 import Undefined, pass_context
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context, LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import missing

from tercel.engine.expressions import bounded, errors, guard, values

__all__ = ["Missing", "TercelEnvironment", "binop", "fail", "lookup"]


class Missing(Undefined):
    """Undefined that chains (`a.b.c` stays undefined) but raises on any use.

    Its name is the first path step that did not resolve, which is what the error names
    (docs/semantics.md#expression-errors).
    """

    __slots__ = ()

    def __init__(
        self,
        hint: str | None = None,
        obj: Any = missing,
        name: str | None = None,
        exc: type[Exception] = errors.UndefinedUse,
    ) -> None:
        super().__init__(hint, obj, name)

    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise errors.UndefinedUse(self._undefined_name or "value")

    def __getattr__(self, name: str) -> Any:
        if name[:2] == "__" and name[-2:] == "__":
            raise AttributeError(name)
        return self

    def __getitem__(self, key: Any) -> Missing:  # type: ignore[override]
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = _fail_with_undefined_error
    __mul__ = __rmul__ = __div__ = __rdiv__ = _fail_with_undefined_error
    __truediv__ = __rtruediv__ = _fail_with_undefined_error
    __floordiv__ = __rfloordiv__ = _fail_with_undefined_error
    __mod__ = __rmod__ = _fail_with_undefined_error
    __pos__ = __neg__ = __call__ = _fail_with_undefined_error
    __lt__ = __le__ = __gt__ = __ge__ = _fail_with_undefined_error
    __int__ = __float__ = __complex__ = _fail_with_undefined_error
    __pow__ = __rpow__ = _fail_with_undefined_error
    __iter__ = __str__ = __len__ = _fail_with_undefined_error
    __eq__ = __ne__ = __bool__ = __hash__ = _fail_with_undefined_error
    __contains__ = __html__ = _fail_with_undefined_error


def fail(value: Undefined) -> NoReturn:
    raise errors.UndefinedUse(value._undefined_name or "value")


def lookup(obj: Any, key: Any) -> Any:
    """`obj.key` / `obj[key]`: map keys and list indexes only, never Python attributes."""
    if type(obj) is dict or isinstance(obj, Mapping):
        try:
            return obj[key]
        except KeyError:
            if type(key) is int and str(key) in obj:
                return obj[str(key)]
        except TypeError:
            if isinstance(key, Undefined):
                fail(key)
            raise errors.RenderFailure(f"Cannot use a {type(key).__name__} as a key") from None
        return Missing(name=str(key))
    if isinstance(obj, (list, tuple)):
        index = _index(key)
        if index is not None and 0 <= index < len(obj):
            return obj[index]
        return Missing(name=str(key))
    if isinstance(obj, Undefined):
        return obj
    if isinstance(key, Undefined):
        fail(key)
    if isinstance(obj, LoopContext) and type(key) is str and key in _PEBBLE_LOOP:
        return getattr(obj, _PEBBLE_LOOP[key])
    return Missing(name=str(key))


#: Pebble's `loop` variables (semantics.md#expression-statements) on Jinja2's loop context:
#: `index` and `revindex` from 0
_PEBBLE_LOOP = {
    "index": "index0",
    "revindex": "revindex0",
    "first": "first",
    "last": "last",
    "length": "length",
}


def _index(key: Any) -> int | None:
    if type(key) is int:
        return key
    if type(key) is str and key.isdigit() and key.isascii():
        return int(key)
    if isinstance(key, Undefined):
        fail(key)
    return None


def binop(op: str, left: Any, right: Any) -> Any:
    """Arithmetic with Pebble's integer division and the caps of
    docs/semantics.md#expression-limits: integer operands of at most `MAX_INT_BITS` (dividing
    two huge integers is quadratic), `*` and `**` sized before they run, `%` on numbers only."""
    guard.check_deadline()
    for value in (left, right):
        if isinstance(value, Undefined):
            fail(value)
        if type(value) is int and value.bit_length() > guard.MAX_INT_BITS:
            raise errors.RenderFailure(f"Integer operand is larger than {guard.MAX_INT_BITS} bits")
    return _BINOPS[op](left, right)


def _add(left: Any, right: Any) -> Any:
    if type(left) is str and type(right) is str:
        guard.check_text_size(len(left) + len(right))
    elif isinstance(left, list) and isinstance(right, list):
        guard.check_items(len(left) + len(right))
    return _int_cap(left + right)


def _mul(left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, (str, list)):
        left, right = right, left
    if isinstance(left, str) and isinstance(right, int):
        guard.check_text_size(len(left) * max(right, 0))
    elif isinstance(left, list) and isinstance(right, int):
        count = max(right, 0)
        guard.check_items(len(left) * count)
        if left and count > 1:
            try:
                values.measure(left, guard.MAX_OUTPUT // count)
            except errors.RenderFailure:
                raise errors.RenderFailure(
                    f"Repeated list would be larger than {guard.MAX_OUTPUT} characters"
                ) from None
    elif isinstance(left, int) and isinstance(right, int):
        if left.bit_length() + right.bit_length() > guard.MAX_INT_BITS:
            raise errors.RenderFailure(f"Integer result is larger than {guard.MAX_INT_BITS} bits")
    return left * right


def _pow(left: Any, right: Any) -> Any:
    if isinstance(right, (int, float)) and abs(right) > guard.MAX_EXPONENT:
        raise errors.RenderFailure(f"Exponent {right} is larger than {guard.MAX_EXPONENT}")
    if isinstance(left, int) and isinstance(right, int) and right > 0:
        if left.bit_length() * right > guard.MAX_INT_BITS:
            raise errors.RenderFailure(f"Integer result is larger than {guard.MAX_INT_BITS} bits")
    try:
        return left**right
    except OverflowError as error:
        raise errors.RenderFailure("Numeric result is too large") from error


def _div(left: Any, right: Any) -> Any:
    if _is_int(left) and _is_int(right):
        if right == 0:
            raise errors.RenderFailure("/ by zero")
        quotient = abs(left) // abs(right)
        return quotient if (left < 0) == (right < 0) else -quotient
    return left / right


def _mod(left: Any, right: Any) -> Any:
    """Pebble's `%`: numeric modulo only, never Python's string formatting
    (docs/semantics.md#expression-operators)."""
    if _is_int(left) and _is_int(right):
        if right == 0:
            raise errors.RenderFailure("/ by zero")
        rest = abs(left) % abs(right)
        return rest if left >= 0 else -rest
    if _is_number(left) and _is_number(right):
        return math.fmod(left, right)
    raise errors.RenderFailure(
        f"`%` is numeric modulo only: it cannot take a {bounded.kind_of(left)} "
        f"and a {bounded.kind_of(right)}"
    )


def _floordiv(left: Any, right: Any) -> Any:
    if not (_is_number(left) and _is_number(right)):
        raise errors.RenderFailure(
            f"`//` takes numbers, not a {bounded.kind_of(left)} and a {bounded.kind_of(right)}"
        )
    if right == 0 and _is_int(left) and _is_int(right):
        raise errors.RenderFailure("/ by zero")
    return left // right


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_cap(value: Any) -> Any:
    if type(value) is int and value.bit_length() > guard.MAX_INT_BITS:
        raise errors.RenderFailure(f"Integer result is larger than {guard.MAX_INT_BITS} bits")
    return value


_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": _add,
    "-": lambda left, right: _int_cap(left - right),
    "*": _mul,
    "/": _div,
    "//": _floordiv,
    "%": _mod,
    "**": _pow,
}


class TercelEnvironment(ImmutableSandboxedEnvironment):
    """No loader, no globals, every binary operator intercepted (and so never folded)."""

    intercepted_binops = frozenset(_BINOPS)

    def getattr(self, obj: Any, attribute: str) -> Any:
        return lookup(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        return lookup(obj, argument)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        return binop(operator, left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        raise SecurityError("calling objects is not allowed in expressions")


@pass_context
def finalize(context: Context, value: Any) -> str:
    """Turn the value of a `{{ … }}` into text and count it against the output cap."""
    guard.check_deadline()
    text = value if type(value) is str else values.to_text(value)
    guard.add_output(len(text))
    return text
