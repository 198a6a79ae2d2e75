"""unqueueExecution, forceRunExecution, kill and delete of a QUEUED execution, and the bulk UNQUEUE
and FORCE_RUN over a real server (semantics.md#concurrency, items 5 to 7), mirroring Kestra's
ExecutionControllerTest (shouldUnqueue*, shouldForceRun*, shouldFailToForceRun*)."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.api.concurrency_helpers import deploy_limited, execution_log, most_at_once
from tests.api.conftest import Server
from tests.api.lifecycle_helpers import SHORT_RESULT, act, delete, states, wait_end, wait_state
from tests.api.test_bulk import call
from tests.api.test_subscriptions import CHANGES, client

UNQUEUE = f"""mutation($id: ID!, $state: StateType) {{
  unqueueExecution(id: $id, state: $state) {{ {SHORT_RESULT} }} }}"""
FORCE_RUN = f"""mutation($id: ID!) {{ forceRunExecution(id: $id) {{ {SHORT_RESULT} }} }}"""

RETRY_LATER = """\
id: later
namespace: {namespace}
retry:
  type: constant
  interval: PT60S
  maxAttempt: 2
  behavior: CREATE_NEW_EXECUTION
tasks:
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
"""

PAUSE_FOREVER = """\
id: held
namespace: {namespace}
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: after
"""


def unqueue(api: Server, execution_id: str, state: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = api.data(UNQUEUE, {"id": execution_id, "state": state})[
        "unqueueExecution"
    ]
    return found


def force_run(api: Server, execution_id: str) -> dict[str, Any]:
    found: dict[str, Any] = api.data(FORCE_RUN, {"id": execution_id})["forceRunExecution"]
    return found


def one_running_one_queued(api: Server, namespace: str, count: int = 1) -> list[str]:
    """A limit-1 QUEUE flow with a long Sleep: one RUNNING, then `count` QUEUED."""
    flow_id = deploy_limited(api, namespace, "QUEUE", duration="PT30S")
    running = api.create(namespace, flow_id)
    wait_state(api, running, "RUNNING")
    queued = [api.create(namespace, flow_id) for _ in range(count)]
    for execution_id in queued:
        wait_state(api, execution_id, "QUEUED")
    return [running, *queued]


def kill_all(api: Server, execution_ids: list[str]) -> None:
    for execution_id in execution_ids:
        act(api, "killExecution", execution_id)
    for execution_id in execution_ids:
        wait_end(api, execution_id)


def test_unqueue_a_queued_execution(api: Server) -> None:
    """shouldUnqueueAQueuedFlow: OK (RUNNING past the limit, streamed), NotFound for an
    unknown id, InvalidState for a terminated one; CANCELLED and FAILED allowed, any other
    target refused."""
    namespace = "conc.unqueue"
    running, queued, other, third = one_running_one_queued(api, namespace, count=3)

    async def watch() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        async with client(api, "graphql-transport-ws") as ws:
            await ws.start("s", CHANGES, {"id": queued})
            answer = await asyncio.to_thread(unqueue, api, queued)
            await asyncio.to_thread(act, api, "killExecution", queued)
            outcome = await ws.collect("s", timeout=20)
        return answer, outcome.data("stateChanges")

    answer, changes = asyncio.run(watch())
    assert answer["__typename"] == "Execution", answer
    assert states(answer) == ["CREATED", "QUEUED", "RUNNING"]
    streamed = [c["state"] for c in changes if c["entity"] == "EXECUTION"]
    assert streamed[:3] == ["CREATED", "QUEUED", "RUNNING"]
    assert unqueue(api, "notfound")["__typename"] == "NotFoundError"
    wrong = unqueue(api, other, "SUCCESS")
    assert wrong["__typename"] == "InvalidStateError"
    assert wrong["message"] == (
        "A queued execution can only be unqueued to RUNNING, CANCELLED or FAILED, not 'SUCCESS'"
    )
    assert states(unqueue(api, other, "CANCELLED")) == ["CREATED", "QUEUED", "CANCELLED"]
    assert states(unqueue(api, third, "FAILED")) == ["CREATED", "QUEUED", "FAILED"]
    again = unqueue(api, third)
    assert again["__typename"] == "InvalidStateError" and again["current"] == "FAILED"
    assert again["message"] == "Only a QUEUED execution can be unqueued, current state is 'FAILED'"
    kill_all(api, [running])


def test_force_run_queued_created_paused_running_terminated(api: Server) -> None:
    """shouldForceRunAQueuedFlow / ACreatedFlow / APausedFlow / ARunningFlow and
    shouldFailToForceRunNotFoundOrTerminatedExecutions."""
    namespace = "conc.force"
    running, queued = one_running_one_queued(api, namespace)
    forced = force_run(api, queued)
    assert states(forced) == ["CREATED", "QUEUED", "RUNNING"]
    assert force_run(api, running)["state"]["current"] == "RUNNING"  # as it is
    kill_all(api, [running, queued])
    assert most_at_once(execution_log(api, namespace)) == 2  # forced past the limit

    api.deploy(namespace, "later", RETRY_LATER.format(namespace=namespace))
    first = api.run(namespace, "later")
    assert api.wait_terminal(first) == "RETRIED"
    waiting = api.data(
        """query($f: ExecutionFilter) { executions(filter: $f) { edges { node { id } } } }""",
        {"f": {"namespace": namespace, "flowId": "later", "state": ["CREATED"]}},
    )["executions"]["edges"]
    assert len(waiting) == 1
    created = force_run(api, waiting[0]["node"]["id"])
    assert states(created) == ["CREATED", "RUNNING"]  # not waiting for its 60 s start date
    assert wait_end(api, created["id"])["state"]["current"] in ("FAILED", "RETRIED")

    api.deploy(namespace, "held", PAUSE_FOREVER.format(namespace=namespace))
    paused = api.create(namespace, "held")
    wait_state(api, paused, "PAUSED")
    assert force_run(api, paused)["state"]["current"] != "PAUSED"
    assert wait_end(api, paused)["state"]["current"] == "SUCCESS"
    refused = force_run(api, paused)
    assert refused["__typename"] == "InvalidStateError"
    assert refused["message"] == (
        "Only a non-terminated execution can be forced to run, current state is 'SUCCESS'"
    )
    assert force_run(api, "notfound")["__typename"] == "NotFoundError"


def test_kill_a_queued_execution_then_delete_it(api: Server) -> None:
    """QUEUED -> KILLED at once (no KILLING), the running one untouched; then deleted. A
    QUEUED one can be deleted as it is too (nothing of it runs)."""
    namespace = "conc.kill"
    running, queued, spare = one_running_one_queued(api, namespace, count=2)
    killed = act(api, "killExecution", queued)
    assert states(killed) == ["CREATED", "QUEUED", "KILLED"]
    assert delete(api, queued)["__typename"] == "Execution"
    assert delete(api, spare)["state"]["current"] == "QUEUED"
    left = api.data("query($id: ID!) { execution(id: $id) { id } }", {"id": spare})
    assert left["execution"] is None
    assert wait_state(api, running, "RUNNING")["state"]["current"] == "RUNNING"
    refused = delete(api, running)
    assert refused["__typename"] == "InvalidStateError"
    kill_all(api, [running])


def test_bulk_unqueue_and_force_run(api: Server) -> None:
    """shouldUnqueueByIdsQueuedFlows (count 3), shouldForRunByIdsFlows / ByQueryFlows
    (count 3), a dry run that changes nothing, and the refusals as SKIPPED items."""
    namespace = "conc.bulk"
    running, *queued = one_running_one_queued(api, namespace, count=5)
    dry = call(api, "UNQUEUE", ids=queued[:3], dry=True)
    assert {i["outcome"] for i in dry["items"]} == {"OK"}
    assert {i["state"] for i in dry["items"]} == {"QUEUED"}
    unqueued = call(api, "UNQUEUE", ids=queued[:3])
    assert unqueued["matched"] == 3
    assert {(i["outcome"], i["state"]) for i in unqueued["items"]} == {("OK", "RUNNING")}
    skipped = call(api, "UNQUEUE", ids=[running])
    assert skipped["items"][0]["outcome"] == "SKIPPED"
    assert "current state is 'RUNNING'" in skipped["items"][0]["message"]
    by_query = call(api, "FORCE_RUN", f={"namespace": namespace, "state": ["QUEUED"]})
    assert by_query["matched"] == 2
    assert {(i["outcome"], i["state"]) for i in by_query["items"]} == {("OK", "RUNNING")}
    everyone = [running, *queued]
    as_is = call(api, "FORCE_RUN", ids=everyone[:3])
    assert as_is["matched"] == 3 and {i["outcome"] for i in as_is["items"]} == {"OK"}
    kill_all(api, everyone)
    ended = call(api, "FORCE_RUN", ids=everyone[:1])
    assert ended["items"][0]["outcome"] == "SKIPPED"
    assert ended["items"][0]["message"] == (
        "Only a non-terminated execution can be forced to run, current state is 'KILLED'"
    )
