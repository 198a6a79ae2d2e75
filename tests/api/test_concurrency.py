"""Flow concurrency over a real server (semantics.md#concurrency), mirroring Kestra's
FlowConcurrencyCaseTest: over the limit a new execution is QUEUED, CANCELLED or FAILED; a
paused one holds its slot; queued ones start in creation order as slots free up, whatever ended
the running one; every change is seen on `stateChanges` by a real websocket client."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.api.concurrency_helpers import (
    deploy_limited,
    execution_log,
    log_lines,
    most_at_once,
    start_order,
)
from tests.api.conftest import Server
from tests.api.lifecycle_helpers import act, states, wait_end, wait_state
from tests.api.test_subscriptions import CHANGES, client

PROTOCOL = "graphql-transport-ws"


def execution_states(changes: list[dict[str, Any]]) -> list[str]:
    return [c["state"] for c in changes if c["entity"] == "EXECUTION"]


def test_queue_starts_the_queued_one_when_the_first_ends(api: Server, tmp_path: Path) -> None:
    """flowConcurrencyQueue: the second is CREATED, QUEUED, then RUNNING once the first
    succeeded, then SUCCESS; its stream shows each entry. The first holds its slot (`HOLD`)
    until the second is seen QUEUED, however slow the host."""
    namespace = "conc.queue"
    hold = tmp_path / "hold"
    hold.touch()
    flow_id = deploy_limited(api, namespace, "QUEUE", hold=str(hold))

    async def body() -> tuple[str, str, list[dict[str, Any]]]:
        first = await asyncio.to_thread(api.create, namespace, flow_id)
        await asyncio.to_thread(wait_state, api, first, "RUNNING")
        second = await asyncio.to_thread(api.create, namespace, flow_id)
        async with client(api, PROTOCOL) as ws:
            await ws.start("s", CHANGES, {"id": second})
            queued = await asyncio.to_thread(wait_state, api, second, "QUEUED")
            assert states(queued) == ["CREATED", "QUEUED"]
            hold.unlink()
            outcome = await ws.collect("s", timeout=20)
        assert outcome.end == "complete"
        return first, second, outcome.data("stateChanges")

    first, second, changes = asyncio.run(body())
    assert states(wait_end(api, first)) == ["CREATED", "RUNNING", "SUCCESS"]
    ended = wait_end(api, second)
    assert states(ended) == ["CREATED", "QUEUED", "RUNNING", "SUCCESS"]
    assert execution_states(changes) == ["CREATED", "QUEUED", "RUNNING", "SUCCESS"]
    messages = [line["message"] for line in log_lines(api, second)]
    assert "Flow concurrency limit (1) reached: execution queued" in messages
    assert "Flow started (a slot of the flow's concurrency limit freed)" in messages
    log = execution_log(api, namespace)
    ended_seq = next(s for s, ex, state in log if ex == first and state == "SUCCESS")
    started_seq = next(s for s, ex, state in log if ex == second and state == "RUNNING")
    assert ended_seq < started_seq


def test_cancel_and_fail_end_the_new_execution_at_once(api: Server, tmp_path: Path) -> None:
    """flowConcurrencyCancel / flowConcurrencyFail: the second ends CANCELLED (FAILED) with
    a log line saying why, while the first (held by `HOLD` until then) runs on to SUCCESS."""
    for behavior, end, level in (("CANCEL", "CANCELLED", "WARN"), ("FAIL", "FAILED", "ERROR")):
        namespace = f"conc.{behavior.lower()}"
        hold = tmp_path / behavior
        hold.touch()
        flow_id = deploy_limited(api, namespace, behavior, hold=str(hold))
        first = api.create(namespace, flow_id)
        wait_state(api, first, "RUNNING")
        second = api.create(namespace, flow_id)
        assert states(wait_end(api, second)) == ["CREATED", end]
        verb = end.lower()
        assert {
            "level": level,
            "message": f"Flow concurrency limit (1) reached: execution {verb}",
        } in log_lines(api, second)
        hold.unlink()
        assert states(wait_end(api, first)) == ["CREATED", "RUNNING", "SUCCESS"]


def test_a_paused_execution_holds_its_slot(api: Server) -> None:
    """flowConcurrencyQueuePause / CancelPause: while the first waits PAUSED (a Pause the test
    resumes, `PAUSE`) the second is QUEUED (CANCELLED); once the first is resumed and done, it
    runs."""
    for behavior in ("QUEUE", "CANCEL"):
        namespace = f"conc.pause.{behavior.lower()}"
        flow_id = deploy_limited(api, namespace, behavior, pause="yes")
        first = api.create(namespace, flow_id)
        wait_state(api, first, "PAUSED")
        second = api.create(namespace, flow_id)
        if behavior == "CANCEL":
            assert states(wait_end(api, second)) == ["CREATED", "CANCELLED"]
            act(api, "resumeExecution", first)
            assert wait_end(api, first)["state"]["current"] == "SUCCESS"
            continue
        wait_state(api, second, "QUEUED")
        assert states(wait_state(api, first, "PAUSED")) == ["CREATED", "RUNNING", "PAUSED"]
        act(api, "resumeExecution", first)
        assert wait_end(api, first)["state"]["current"] == "SUCCESS"
        wait_state(api, second, "PAUSED", timeout=20)
        act(api, "resumeExecution", second)
        ended = wait_end(api, second, timeout=20)
        assert states(ended)[:3] == ["CREATED", "QUEUED", "RUNNING"]
        assert ended["state"]["current"] == "SUCCESS"


def test_queued_ones_start_in_creation_order_never_past_the_limit(
    api: Server, tmp_path: Path
) -> None:
    """Limit 2, eight executions at once: never more than two hold a slot in the state-change
    log, and the six queued ones start in the order they were created. The first two hold
    their slots (`HOLD`) until the six are QUEUED: on a loaded host the eight creations can
    take longer than a Sleep, and a late one would then start at once, never queued."""
    namespace = "conc.order"
    hold = tmp_path / "hold"
    hold.touch()
    flow_id = deploy_limited(api, namespace, "QUEUE", limit=2, duration="PT0.3S", hold=str(hold))
    created = [api.create(namespace, flow_id) for _ in range(8)]
    for execution_id in created[2:]:
        wait_state(api, execution_id, "QUEUED")
    hold.unlink()
    for execution_id in created:
        assert wait_end(api, execution_id, timeout=30)["state"]["current"] == "SUCCESS"
    log = execution_log(api, namespace)
    assert most_at_once(log) == 2
    in_order, started = start_order(log)
    assert in_order == created
    assert len(started) == 6
    assert started == [ex for ex in created if ex in set(started)]


def test_any_end_frees_the_slot(api: Server) -> None:
    """A kill of the running one (KILLING, then KILLED) starts the next queued one, as its
    success does (above); killing a RUNNING one that was queued frees its slot too."""
    namespace = "conc.ends"
    flow_id = deploy_limited(api, namespace, "QUEUE", duration="PT30S")
    running = api.create(namespace, flow_id)
    wait_state(api, running, "RUNNING")
    queued = api.create(namespace, flow_id)
    wait_state(api, queued, "QUEUED")
    assert act(api, "killExecution", running)["state"]["current"] == "KILLING"
    wait_state(api, running, "KILLED")
    wait_state(api, queued, "RUNNING")
    third = api.create(namespace, flow_id)
    wait_state(api, third, "QUEUED")
    act(api, "killExecution", queued)
    wait_state(api, third, "RUNNING")
    act(api, "killExecution", third)
    wait_state(api, third, "KILLED")
    assert most_at_once(execution_log(api, namespace)) == 1


def test_a_bad_concurrency_is_refused_with_line_and_column(api: Server) -> None:
    """deployFlow answers every problem of `concurrency` at its line and column, and stores
    nothing."""
    source = (
        "id: bad\nnamespace: conc.bad\nconcurrency:\n  limit: 0\n  behavior: LATER\n"
        "tasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n    message: a\n"
    )
    found = api.data(
        """mutation($s: String!) { deployFlow(source: $s) { __typename
          ... on FlowValidationError { issues { path line column message } } } }""",
        {"s": source},
    )["deployFlow"]
    assert found == {
        "__typename": "FlowValidationError",
        "issues": [
            {"path": "concurrency.limit", "line": 4, "column": 10, "message": "must be >= 1"},
            {
                "path": "concurrency.behavior",
                "line": 5,
                "column": 13,
                "message": "unknown behavior `LATER`, expected QUEUE, CANCEL, FAIL",
            },
        ],
    }
    flows = api.data('{ flows(namespace: "conc.bad") { id } }')["flows"]
    assert flows == []
