"""The event loop's render slice (guard.open_slice, #12 item 4): renders an inline task makes on
the loop share LOOP_SLICE_SECONDS per turn; the one that outgrows it is abandoned with
SliceExceeded (the engine runs it again on a render thread), and once the turn's slice is spent
the next ones leave at once, until the loop gets control back."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from tercel.engine.expressions import ExpressionError, errors, guard, render, variables

MB = "a" * 1_000_000
#: 10,000 passes over 1 MB: runs into any deadline
SLOW = "{{ render(vars.inner) }}" * 100
CONTEXT: dict[str, Any] = {"big": MB, "vars": {"inner": "{{ (big | upper) | length }}" * 100}}
#: 100 passes over 1 MB, without `render()` (which leaves a slice at once): ~0.1 s
LONGER = CONTEXT["vars"]["inner"]


def _outcome(template: str) -> str:
    try:
        return render(template, CONTEXT)
    except errors.SliceExceeded:
        return "abandoned"
    except ExpressionError as error:
        return str(error).split(" in the expression")[0]


def test_renders_on_the_loop_share_the_slice_then_leave(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guard, "LOOP_SLICE_SECONDS", 0.05)
    variables(LONGER)  # compiling is not rendering: cache it

    async def turns() -> tuple[list[str], float]:
        guard.open_slice()
        try:
            outcomes = [_outcome("{{ 1 + 1 }}")]  # within the slice: rendered here
            began = time.monotonic()
            outcomes.append(_outcome(LONGER))
            took = time.monotonic() - began
            outcomes.append(_outcome("{{ 1 + 1 }}"))  # the turn's slice is spent
            await asyncio.sleep(0)  # the loop got control: a fresh turn
            outcomes.append(_outcome("{{ 1 + 1 }}"))
            outcomes.append(_outcome('{{ 1 | jq(".") }}'))  # never waits on jq on the loop
            outcomes.append(_outcome("{{ render('{{ 1 + 1 }}') }}"))  # nor compiles a new one
            outcomes.append(_outcome("{{ 1 + 1 }}"))  # the slice is still there
        finally:
            guard.close_slice()
        return outcomes, took

    outcomes, took = asyncio.run(turns())
    expected = ["2", "abandoned", "abandoned", "2", "abandoned", "abandoned", "2"]
    assert outcomes == expected, outcomes
    assert took < 0.3, f"abandoned after {took:.2f} s, not at the 0.05 s slice"


def test_without_a_slice_or_off_the_loop_renders_keep_their_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Renders nobody can move (runIf, plans, worker tasks) and renders on a render thread run
    to the deadline as before; a thread that continues an abandoned render gets what is left."""
    monkeypatch.setattr(guard, "LOOP_SLICE_SECONDS", 0.05)
    monkeypatch.setattr(guard, "DEADLINE_SECONDS", 0.3)

    async def unsliced() -> str:
        return _outcome(SLOW)

    on_thread: list[tuple[str, float]] = []

    def off_loop() -> None:
        guard.open_slice()
        guard.set_spent(0.1)
        try:
            began = time.monotonic()
            on_thread.append((_outcome(SLOW), time.monotonic() - began))
        finally:
            guard.set_spent(0.0)
            guard.close_slice()

    assert asyncio.run(unsliced()) == "Rendering took longer than the 0.3 s time limit"
    thread = threading.Thread(target=off_loop)
    thread.start()
    thread.join()
    [(outcome, took)] = on_thread
    assert outcome == "Rendering took longer than the 0.3 s time limit"
    assert 0.15 < took < 0.5, took  # 0.3 s less the 0.1 s already spent


def test_a_template_that_outgrew_the_slice_leaves_at_once_the_next_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second render of a template that outgrew the slice does not spend the slice (and
    the uninterruptible step past its end) on the loop again: it is abandoned before starting,
    in a fresh turn with the whole slice left."""
    monkeypatch.setattr(guard, "LOOP_SLICE_SECONDS", 0.05)
    template = LONGER + "{{ 'heavy-once' }}"
    variables(template)  # compiled outside the timing

    async def turns() -> list[tuple[str, float]]:
        outcomes = []
        guard.open_slice()
        try:
            for _ in range(2):
                await asyncio.sleep(0)  # a fresh turn: the whole slice is left
                began = time.monotonic()
                outcomes.append((_outcome(template), time.monotonic() - began))
        finally:
            guard.close_slice()
        return outcomes

    [(first, first_took), (second, second_took)] = asyncio.run(turns())
    assert (first, second) == ("abandoned", "abandoned")
    assert first_took >= 0.05, first_took
    assert second_took < 0.02, f"the known-heavy template took {second_took:.3f} s on the loop"
