"""#12 item 4: inline tasks whose renders outgrow the event loop's slice finish on a render
thread (engine/runtime/offloop.py), so the loop that also serves HTTP stays free, with the same
results: outputs, logs exactly once, metrics, and the engine's invariants (checked by
`Harness.run`)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from tests.engine.conftest import Harness, log_messages, run_of, runs_of

from tercel.engine import expressions, service
from tercel.engine.expressions import farm, guard
from tercel.engine.runtime import offloop
from tercel.storage.files import LocalFiles

#: ~150 ms of rendering on this machine (40 x upper/lower over 1 MB), far above the 10 ms slice
SLOW = "{{ (('a' * 1000000) | upper | lower | length) }}" * 40
FLOW = f"""
id: slow
namespace: t.engine
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: [1, 2, 3, 4]
    concurrencyLimit: 0
    tasks:
      - id: say
        type: io.kestra.plugin.core.log.Log
        message:
          - "first {{{{ taskrun.value }}}}"
          - "second {{{{ taskrun.value }}}} {SLOW}"
      - id: give
        type: io.kestra.plugin.core.debug.Return
        format: "{{{{ taskrun.value }}}}-{{{{ outputs.say is defined }}}}-{SLOW}"
"""


async def _largest_lag(stop: asyncio.Event) -> float:
    """The longest the loop was held past a 5 ms sleep, until `stop`."""
    largest = 0.0
    while not stop.is_set():
        began = time.monotonic()
        await asyncio.sleep(0.005)
        largest = max(largest, time.monotonic() - began - 0.005)
    return largest


def test_slow_inline_renders_leave_the_loop_with_the_same_results(
    run_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight ~150 ms renders per ForEach pass held the loop for all of them (6 s measured);
    off the loop no turn holds it for long. Each Log message is logged once although the slow
    one was abandoned on the loop after its first message had been logged there."""
    monkeypatch.setattr(guard, "DEADLINE_SECONDS", 10.0)  # a loaded machine never fails them
    monkeypatch.setattr(guard, "TURN_SECONDS", 10.0)
    began = time.monotonic()
    expressions.render(SLOW, {})  # what one render takes on this machine, under its load now
    one = time.monotonic() - began

    async def body(h: Harness) -> None:
        stop = asyncio.Event()
        lag = asyncio.create_task(_largest_lag(stop))
        doc = await h.run(FLOW, timeout=60)
        stop.set()
        largest = await lag
        assert doc["state"]["current"] == "SUCCESS", doc["state"]
        gives = sorted(run["outputs"]["value"] for run in runs_of(doc, "give"))
        assert gives == [f"{n}-true-" + "1000000" * 40 for n in (1, 2, 3, 4)]
        messages = log_messages(h.db_path, doc["id"])
        for n in (1, 2, 3, 4):
            assert messages.count(f"first {n}") == 1, messages
            assert messages.count(f"second {n} " + "1000000" * 40) == 1
        for run in runs_of(doc, "give"):
            [attempt] = run["attempts"]
            assert {m["name"] for m in attempt["metrics"]} == {"length", "duration"}
        # a pass renders all eight on the loop when it cannot hand them off
        assert largest < 3 * one, f"the loop was held {largest:.3f} s, one render {one:.3f} s"

    run_engine(body)


def test_cheap_inline_renders_stay_on_the_loop(run_engine: Any) -> None:
    """Renders well within the slice run inside the pass as before: the attempt commits with
    its result (one commit: the task run never shows RUNNING alone)."""
    flow = """
    id: cheap
    namespace: t.engine
    tasks:
      - id: give
        type: io.kestra.plugin.core.debug.Return
        format: "{{ 1 + 1 }}"
    """
    committed: list[list[str]] = []

    async def body(h: Harness) -> None:
        h.engine.listeners.append(
            lambda batch: committed.append([row.state.value for row in batch.changes.states])
        )
        doc = await h.run(flow)
        assert run_of(doc, "give")["outputs"] == {"value": "2"}
        together = [states for states in committed if "SUCCESS" in states]
        assert any(states.count("RUNNING") >= 2 for states in together), committed

    run_engine(body)


@pytest.mark.timing
def test_a_kill_reaches_a_task_rendering_off_the_loop(
    run_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The task run is RUNNING (committed) while its render runs on the thread; a kill ends it
    KILLED at once, and the render's late result is dropped."""
    monkeypatch.setattr(guard, "DEADLINE_SECONDS", 3.0)  # the thread's render: seconds of work
    chain = "{{ render(vars.inner) }}" * 40  # ~6 s of rendering
    flow = f"""
    id: long
    namespace: t.engine
    variables:
      inner: "{SLOW}"
    tasks:
      - id: give
        type: io.kestra.plugin.core.debug.Return
        format: "{chain}"
    """

    async def body(h: Harness) -> None:
        created = await h.create(await h.deploy(flow))
        deadline = time.monotonic() + 10
        while True:
            runs = runs_of(await h.doc(created.id), "give")
            if runs and runs[0]["state"]["current"] == "RUNNING":
                break
            assert time.monotonic() < deadline, "the task run never showed RUNNING"
            await asyncio.sleep(0.01)
        started = time.monotonic()
        killed = await service.kill_execution(h.engine, created.id)
        assert not isinstance(killed, service.InvalidState | service.NotFound), killed
        doc = await h.wait(created.id, timeout=5.0)
        assert time.monotonic() - started < 1.0
        assert doc["state"]["current"] == "KILLED"
        [attempt] = run_of(doc, "give")["attempts"]
        assert attempt["state"]["current"] == "KILLED"

    run_engine(body)


def test_a_context_that_cannot_be_copied_renders_on_the_loop(
    run_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The snapshot failing must not leave the task run RUNNING for ever: it renders on the
    loop as it did before the slice."""
    monkeypatch.setattr(guard, "DEADLINE_SECONDS", 10.0)
    monkeypatch.setattr(guard, "TURN_SECONDS", 10.0)  # a loaded machine never fails it

    def refuse(*_: Any) -> Any:
        raise TypeError("cannot copy")

    monkeypatch.setattr(offloop, "_snapshot", refuse)
    flow = f"""
    id: uncopied
    namespace: t.engine
    tasks:
      - id: give
        type: io.kestra.plugin.core.debug.Return
        format: "{SLOW}"
    """

    async def body(h: Harness) -> None:
        doc = await h.run(flow, timeout=30)
        assert doc["state"]["current"] == "SUCCESS", doc["state"]
        assert run_of(doc, "give")["outputs"] == {"value": "1000000" * 40}

    run_engine(body)


def test_a_context_with_the_file_reader_is_copied_for_the_render_thread(
    run_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`render()` and `read()` carry the execution's file reader, and with it the engine's
    storage: its pending flushes hold a lock, which failed the snapshot, so every such render
    quietly ran on the loop again (a ForEach of eight deadline-bound renders held it ~1 s).
    The snapshot now packs, and the storage it carries reads the same files."""
    monkeypatch.setattr(guard, "DEADLINE_SECONDS", 10.0)
    monkeypatch.setattr(guard, "TURN_SECONDS", 10.0)
    packed: list[dict[str, Any]] = []
    failed: list[BaseException] = []
    snapshot = offloop._snapshot

    def watched(*args: Any) -> bytes:
        try:
            blob = snapshot(*args)
        except BaseException as error:
            failed.append(error)
            raise
        packed.append(farm.unpack(blob))
        return blob

    monkeypatch.setattr(offloop, "_snapshot", watched)
    flow = f"""
    id: reader
    namespace: t.engine
    variables:
      inner: "{{{{ 1 + 1 }}}}"
    tasks:
      - id: give
        type: io.kestra.plugin.core.debug.Return
        format: "{{{{ render(vars.inner) }}}}-{SLOW}"
    """

    async def body(h: Harness) -> None:
        doc = await h.run(flow, timeout=30)
        assert doc["state"]["current"] == "SUCCESS", doc["state"]
        assert run_of(doc, "give")["outputs"] == {"value": "2-" + "1000000" * 40}
        assert failed == [] and len(packed) == 1
        reader, files = packed[0]["__readFile"], h.engine.files
        assert isinstance(files, LocalFiles) and reader.storage.root == files.root

    run_engine(body)


def test_an_inline_task_without_a_template_runs_without_holding_back(
    run_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Properties that hold no template render as written: nothing can outgrow the slice, so
    the task runs on the loop without the held context (its cost was ~10 % of a chain of 40
    Returns, bench/NOTES.md); one template anywhere in them keeps the guard. Same outputs, logs
    once, metrics."""
    held: list[str] = []

    class Watched(offloop.HeldContext):
        __slots__ = ()

        def __init__(self, target: Any, render: Any) -> None:
            super().__init__(target, render)
            held.append(target.task.id)

    monkeypatch.setattr(offloop, "HeldContext", Watched)
    flow = """
    id: plain
    namespace: t.engine
    tasks:
      - id: give
        type: io.kestra.plugin.core.debug.Return
        format: step one
      - id: say
        type: io.kestra.plugin.core.log.Log
        message: [plain words, "{{ outputs.give.value }} again"]
      - id: tell
        type: io.kestra.plugin.core.log.Log
        message: [only plain words]
      - id: keyed
        type: io.kestra.plugin.core.output.OutputValues
        values:
          "{{ 'k' }}": v
    """

    async def body(h: Harness) -> None:
        doc = await h.run(flow)
        assert doc["state"]["current"] == "SUCCESS", doc["state"]
        assert run_of(doc, "give")["outputs"] == {"value": "step one"}
        assert run_of(doc, "keyed")["outputs"] == {"values": {"k": "v"}}
        messages = log_messages(h.db_path, doc["id"])
        for message in ("step one", "plain words", "step one again", "only plain words"):
            assert messages.count(message) == 1, messages
        [attempt] = run_of(doc, "give")["attempts"]
        assert {m["name"] for m in attempt["metrics"]} == {"length", "duration"}

    run_engine(body)
    assert held == ["say", "keyed"]
