"""#12 item 4: the renders of the engine pass (runIf, ForEach values, If/Switch, subflow
properties, flow outputs) that outgrow the loop's slice finish in a render process
(engine/actions/deferred.py), so the event loop that also serves HTTP is not held by them; the
result is the same, and a render that runs into the 1 s limit fails its task run (or the
execution's outputs) with the same clear message naming the expression."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from tests.engine.conftest import Harness, log_messages, runs_of
from tests.engine.test_offloop import _largest_lag

from tercel.engine import expressions
from tercel.engine.expressions import guard

#: ~150 ms of rendering on this machine (40 x upper/lower over 1 MB)
SLOW = "{{ ('a' * 1000000) | upper | lower | length }}" * 40
#: runs into the 1 s deadline: 10,000 passes over 1 MB through `render()`
DEADLINE_BOUND = "{{ render(vars.inner) }}" * 100
INNER = "{{ ('a' * 1000000) | upper | lower | length }}" * 20
#: ForEach values from a slow template: 40 distinct numbers
SLOW_VALUES = (
    "["
    + ", ".join(f"{{{{ (('a' * 1000000) | upper | lower | length) + {i} }}}}" for i in range(40))
    + "]"
)
RETURN = "io.kestra.plugin.core.debug.Return"
FLOW = "io.kestra.plugin.core.flow."
#: how many renders a test runs: on the loop, they held it for all of them in one pass
TIMES = 8

CHILD = """
id: child
namespace: t.engine
inputs:
  - id: text
    type: STRING
tasks:
  - id: echo
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.text | length }}"
"""


def _flow(place: str, template: str, times: int) -> str:
    """A flow rendering `template` in `place`, `times` times in one engine pass (in the
    iterations of a ForEach, or as that many flow outputs)."""
    quoted = '"' + template.replace('"', '\\"') + '"'
    head = f'id: {place}\nnamespace: t.engine\nvariables:\n  inner: "{INNER}"\ntasks:\n'
    ret = f"type: {RETURN}\n  format: done\n"
    bodies = {
        "runIf": f"- id: guarded\n  runIf: {quoted}\n  {ret}",
        "foreach": (
            f"- id: each\n  type: {FLOW}ForEach\n  values: {quoted}\n  tasks:\n"
            f'    - id: item\n      type: {RETURN}\n      format: "{{{{ taskrun.value }}}}"\n'
        ),
        "if": f"- id: choose\n  type: {FLOW}If\n  condition: {quoted}\n  then:\n"
        f"    - id: yes\n      type: {RETURN}\n      format: done\n",
        "switch": f"- id: choose\n  type: {FLOW}Switch\n  value: {quoted}\n  defaults:\n"
        f"    - id: other\n      type: {RETURN}\n      format: done\n",
        "subflow": f"- id: call\n  type: {FLOW}Subflow\n  namespace: t.engine\n  flowId: child\n"
        f"  inputs:\n    text: {quoted}\n",
    }
    if place == "outputs":
        outputs = "".join(
            f"  - id: out{i}\n    type: STRING\n    value: {quoted}\n" for i in range(times)
        )
        return f"{head}  - id: first\n    type: {RETURN}\n    format: done\noutputs:\n{outputs}"
    body = "".join(f"      {line}\n" for line in bodies[place].splitlines())
    values = ", ".join(str(n) for n in range(times))
    return (
        f"{head}  - id: outer\n    type: {FLOW}ForEach\n    values: [{values}]\n"
        f"    concurrencyLimit: 0\n    tasks:\n{body}"
    )


def _one_render() -> float:
    began = time.monotonic()
    expressions.render(SLOW, {})
    return time.monotonic() - began


async def _run_watched(
    h: Harness, place: str, template: str, times: int = TIMES
) -> tuple[dict[str, Any], float]:
    """Run the flow; the longest the loop was held meanwhile."""
    if place == "subflow":
        await h.deploy(CHILD)
    flow = await h.deploy(_flow(place, template, times))  # compiles the templates
    stop = asyncio.Event()
    lag = asyncio.create_task(_largest_lag(stop))
    try:
        created = await h.create(flow)
        doc = await h.wait(created.id, timeout=60)
    finally:
        stop.set()
    return doc, await lag


PLACES = ["runIf", "foreach", "if", "switch", "subflow", "outputs"]


@pytest.mark.timing
@pytest.mark.parametrize("place", PLACES)
def test_slow_renders_in_the_pass_leave_the_loop_with_the_same_results(
    run_engine: Any, monkeypatch: pytest.MonkeyPatch, place: str
) -> None:
    """Eight ~150 ms renders in one pass held the loop for all of them (the pass rendered them
    there, >1 s); now each leaves after the loop's slice and the loop is never held long."""
    monkeypatch.setattr(guard, "DEADLINE_SECONDS", 10.0)  # a loaded machine never fails them
    monkeypatch.setattr(guard, "TURN_SECONDS", 10.0)
    template = SLOW_VALUES if place == "foreach" else SLOW
    one = _one_render()

    async def body(h: Harness) -> None:
        doc, largest = await _run_watched(h, place, template)
        assert doc["state"]["current"] == "SUCCESS", doc["state"]
        rendered = "1000000" * 40
        if place == "outputs":
            assert doc["outputs"] == {f"out{i}": rendered for i in range(TIMES)}
        elif place == "foreach":
            values = sorted(int(run["outputs"]["value"]) for run in runs_of(doc, "item"))
            assert values == sorted([1000000 + i for i in range(40)] * TIMES)
        else:
            task_id = {"runIf": "guarded", "if": "yes", "switch": "choose", "subflow": "call"}
            runs = runs_of(doc, task_id[place])
            assert [run["state"]["current"] for run in runs] == ["SUCCESS"] * TIMES
            if place == "switch":
                assert {run["outputs"]["value"] for run in runs} == {rendered}
        bound = 3 * one  # on the loop: at least TIMES * one
        assert largest < bound, f"the loop was held {largest:.3f} s, one render {one:.3f} s"

    run_engine(body)


@pytest.mark.timing
@pytest.mark.parametrize("place", PLACES)
def test_a_render_at_the_limit_fails_with_a_clear_error_and_leaves_the_loop(
    run_engine: Any, place: str
) -> None:
    """A render running into the 1 s deadline held the loop for that second; now it runs out
    in the render process and fails the task run (or the outputs) naming the expression."""

    async def body(h: Harness) -> None:
        doc, largest = await _run_watched(h, place, DEADLINE_BOUND, times=1)
        assert doc["state"]["current"] == "FAILED", doc["state"]
        messages = log_messages(h.db_path, doc["id"])
        failed = [m for m in messages if "Rendering took longer than the 1 s time limit" in m]
        assert len(failed) == 1, messages
        assert "in the expression `{{" in failed[0], failed[0]  # the one that ran out of time
        if place == "outputs":
            assert failed[0].startswith("Failed to render output values: "), failed[0]
        assert largest < 0.5, f"the loop was held {largest:.3f} s"  # on the loop: 1 s

    run_engine(body)


@pytest.mark.parametrize("place", ["runIf", "if"])
def test_output_over_one_mib_fails_the_same_off_the_loop(
    run_engine: Any, monkeypatch: pytest.MonkeyPatch, place: str
) -> None:
    """The 1 MiB output cap holds in the render process, with the same message; the slow
    renders before it no longer hold the loop."""
    monkeypatch.setattr(guard, "DEADLINE_SECONDS", 10.0)  # a loaded machine never fails them
    monkeypatch.setattr(guard, "TURN_SECONDS", 10.0)
    template = SLOW + "{{ 'a' * 1000000 }}" + "{{ 'b' * 100000 }}"
    one = _one_render()

    async def body(h: Harness) -> None:
        doc, largest = await _run_watched(h, place, template)
        assert doc["state"]["current"] == "FAILED", doc["state"]
        messages = log_messages(h.db_path, doc["id"])
        assert any("Rendered text is larger than 1048576 characters" in m for m in messages)
        bound = 3 * one  # on the loop: at least TIMES * one
        assert largest < bound, f"the loop was held {largest:.3f} s, one render {one:.3f} s"

    run_engine(body)
