"""Caps of docs/semantics.md#expression-limits and the per-render budget (deadline, output size,
nesting), plus the budget of one turn of the event loop: renders run back to back on the
engine's thread share 1 s.

A caller that can finish a render elsewhere (an inline task: `open_slice`) gets a much shorter
budget on the loop, the slice: the renders of one turn share `LOOP_SLICE_SECONDS`, and the one
that outgrows it raises `SliceExceeded` (the caller runs it again on a thread, `set_spent`).

The budget lives in a thread-local so filters, functions and operators can check it without
receiving it: a render on one thread never sees another thread's deadline. A nested `render()`
shares the deadline of the render that started it.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from tercel.engine.expressions import errors

__all__ = [
    "DEADLINE_SECONDS",
    "EXTENSION_HOOKS",
    "LOOP_SLICE_SECONDS",
    "MAX_EXPONENT",
    "MAX_INT_BITS",
    "MAX_ITEMS",
    "MAX_JQ_PROGRAM",
    "MAX_NESTED_RENDERS",
    "MAX_OUTPUT",
    "MAX_RANGE",
    "MAX_TEMPLATE",
    "MAX_TEMPLATE_TOKENS",
    "TURN_SECONDS",
    "Budget",
    "add_output",
    "check_blocking",
    "check_deadline",
    "check_items",
    "check_result",
    "check_text_size",
    "close_slice",
    "count_iteration",
    "enter",
    "extend_deadline",
    "leave",
    "open_slice",
    "remaining",
    "set_spent",
]

#: time allowed for one render, nested `render()` calls included
DEADLINE_SECONDS = 1.0
#: time all renders may take between two turns of the event loop they run on: an engine pass
#: renders every iteration of a ForEach back to back, and eight renders running to their
#: deadline held HTTP, websockets and the engine for 8 s
TURN_SECONDS = 1.0
#: render time a turn of the event loop spends on renders that could run elsewhere: past it,
#: they do (an API request waits for a turn to end; the figures are in bench/RESULTS.md)
LOOP_SLICE_SECONDS = 0.01
#: largest template source, in UTF-8 bytes
MAX_TEMPLATE = 64 * 1024
#: most tokens in one template (expression tokens, plus one per text part): compiling one
#: costs ~40 µs, and it happens on the engine's thread
MAX_TEMPLATE_TOKENS = 1000
#: largest rendered string and largest intermediate string, in characters
MAX_OUTPUT = 1024 * 1024
#: largest intermediate list; a longer one could never be rendered under MAX_OUTPUT
MAX_ITEMS = MAX_OUTPUT
#: most elements a range (`1..5`, `range()`) may produce
MAX_RANGE = 10_000
#: largest exponent accepted by `**`
MAX_EXPONENT = 64
#: largest integer an operator may produce, in bits
MAX_INT_BITS = 65_536
#: largest jq program, in UTF-8 bytes
MAX_JQ_PROGRAM = 4 * 1024
#: deepest chain of `render()` calls inside one render
MAX_NESTED_RENDERS = 10


class _State(threading.local):
    def __init__(self) -> None:
        self.deadline = math.inf
        self.output = 0
        self.depth = 0
        #: `{% for %}` iterations of the outermost render and its nested renders
        self.iterations = 0
        #: when the outermost render started, and whether the turn's budget shortened it
        self.started = 0.0
        self.cut = False
        self.on_loop = False
        #: seconds spent rendering since this thread's event loop last got control
        self.turn_spent = 0.0
        self.turn_reset = False
        #: time the next outermost renders on this thread already took elsewhere (`set_spent`)
        self.spent = 0.0
        #: an `open_slice` caller is rendering; the current render ends at the slice's end
        self.slice_open = False
        self.sliced = False


_STATE = _State()


class Budget:
    """What `enter` saved, for `leave` to restore."""

    __slots__ = ("output",)

    def __init__(self, output: int) -> None:
        self.output = output


def enter(known_heavy: bool = False) -> Budget:
    """Start a render: a fresh deadline at the outermost level, a fresh output counter always.
    A `known_heavy` template (it outgrew a slice before) leaves a slice at once."""
    state = _STATE
    if state.depth == 0:
        full = DEADLINE_SECONDS - state.spent
        budget = full
        state.on_loop = _on_event_loop(state)
        if state.on_loop:
            budget = min(budget, max(TURN_SECONDS - state.turn_spent, 0.0))
        state.cut = budget < full
        state.sliced = False
        if state.on_loop and state.slice_open:
            left = LOOP_SLICE_SECONDS - state.turn_spent
            if left <= 0 or known_heavy:
                raise errors.SliceExceeded()
            state.sliced = left < budget
            budget = min(budget, left)
        state.started = time.monotonic()
        state.deadline = state.started + budget
        state.iterations = 0
    elif state.depth > MAX_NESTED_RENDERS:
        raise errors.RenderFailure(f"Too many nested renders (more than {MAX_NESTED_RENDERS})")
    state.depth += 1
    saved = Budget(state.output)
    state.output = 0
    return saved


def leave(saved: Budget) -> None:
    state = _STATE
    state.depth -= 1
    state.output = saved.output
    if state.depth == 0:
        state.deadline = math.inf
        state.sliced = False
        if state.on_loop:
            state.turn_spent += time.monotonic() - state.started


def _on_event_loop(state: _State) -> bool:
    """True on a thread running an event loop (the engine's); makes sure the turn's render
    time is reset once the loop gets control back."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return False
    if not state.turn_reset:  # the first render of this turn
        state.turn_reset, state.turn_spent = True, 0.0
        loop.call_soon(_reset_turn)
    return True


def _reset_turn() -> None:
    _STATE.turn_spent = 0.0
    _STATE.turn_reset = False


def open_slice() -> None:
    """The renders until `close_slice` may be abandoned (`SliceExceeded`) and run elsewhere."""
    _STATE.slice_open = True


def close_slice() -> None:
    _STATE.slice_open = False


def set_spent(seconds: float) -> None:
    """The outermost renders that follow on this thread already took `seconds` elsewhere (a
    render run again off the loop gets what its slice left of the deadline)."""
    _STATE.spent = seconds


def check_blocking() -> None:
    """Before work a deadline check cannot cut short (waiting on the jq process, compiling
    the template of a nested `render()`): a render that can go elsewhere leaves the loop."""
    if _STATE.sliced:
        raise errors.SliceExceeded()


def check_deadline() -> None:
    if time.monotonic() > _STATE.deadline:
        if _STATE.sliced:
            raise errors.SliceExceeded()
        if _STATE.cut:
            raise errors.RenderFailure(
                f"Rendering stopped: the renders of one engine pass may take {TURN_SECONDS:g} s "
                "in total"
            )
        raise errors.RenderFailure(
            f"Rendering took longer than the {DEADLINE_SECONDS:g} s time limit"
        )


def remaining() -> float:
    """Seconds left before the deadline (infinite outside a render)."""
    return _STATE.deadline - time.monotonic()


def extend_deadline(seconds: float) -> None:
    """Give back time the render did not spend on the expression (jq helper start-up)."""
    _STATE.deadline += seconds
    for hook in EXTENSION_HOOKS:
        hook(seconds)


#: told of every `extend_deadline` (a render process tells the engine that waits for it)
EXTENSION_HOOKS: list[Callable[[float], None]] = []


def add_output(size: int) -> None:
    state = _STATE
    state.output += size
    if state.output > MAX_OUTPUT:
        raise errors.RenderFailure(f"Rendered text is larger than {MAX_OUTPUT} characters")


def check_text_size(size: int) -> None:
    if size > MAX_OUTPUT:
        raise errors.RenderFailure(f"String is larger than {MAX_OUTPUT} characters")


def count_iteration() -> None:
    """One more `{% for %}` iteration: all loops of a render share the range cap
    (semantics.md#expression-limits),
    and every iteration checks the deadline, so nested loops can neither hang nor grow."""
    state = _STATE
    state.iterations += 1
    if state.iterations > MAX_RANGE:
        raise errors.RenderFailure(f"Loops ran more than {MAX_RANGE} iterations in one render")
    check_deadline()


def check_items(count: int) -> None:
    if count > MAX_ITEMS:
        raise errors.RenderFailure(f"List has more than {MAX_ITEMS} elements")


def check_result(value: Any) -> Any:
    """Refuse intermediate strings and lists above the caps; return `value`."""
    kind = type(value)
    if kind is str:
        if len(value) > MAX_OUTPUT:
            raise errors.RenderFailure(f"String is larger than {MAX_OUTPUT} characters")
    elif kind is list and len(value) > MAX_ITEMS:
        raise errors.RenderFailure(f"List has more than {MAX_ITEMS} elements")
    return value
