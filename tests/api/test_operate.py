"""Operating by hand (semantics.md#operating) over a real server: pauseExecution / resumeExecution,
setTaskRunState, setExecutionState, setExecutionLabels and deleteExecution's purge options — each
change seen on `stateChanges` (or `executionUpdated` for labels) by a real websocket client."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

from tests.api.conftest import Server
from tests.api.lifecycle_helpers import db_path, wait_for, wait_state
from tests.api.test_subscriptions import CHANGES, client, stream

PROTOCOL = "graphql-transport-ws"

NAP_THEN_LOG = """\
id: nap
namespace: {namespace}
labels:
  team: core
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.5S
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: after
"""

FAIL_IN_MIDDLE = """\
id: middle
namespace: {namespace}
tasks:
  - id: a
    type: io.kestra.plugin.core.log.Log
    message: a
  - id: b
    type: io.kestra.plugin.core.execution.Fail
  - id: c
    type: io.kestra.plugin.core.log.Log
    message: c
errors:
  - id: on_error
    type: io.kestra.plugin.core.log.Log
    message: failed
"""

ANSWER = """__typename
  ... on Execution { id state { current histories { state } } labels { key value }
                     taskRunList { id taskId state { current } } }
  ... on Error { message }
  ... on InvalidStateError { current: state }
  ... on InvalidInputsError { issues { input message } }"""

UPDATES = """subscription($id: ID!) { executionUpdated(id: $id) {
  cursor execution { state { current } labels { key value } } } }"""


def system_label(execution_id: str) -> dict[str, str]:
    """The label every execution gets at creation, kept by a relabel."""
    return {"key": "system.correlationId", "value": execution_id}


def call(api: Server, field: str, params: str, variables: dict[str, Any]) -> dict[str, Any]:
    args = ", ".join(f"{name}: ${name}" for name in variables)
    query = f"mutation({params}) {{ {field}({args}) {{ {ANSWER} }} }}"
    found: dict[str, Any] = api.data(query, variables)[field]
    return found


def pause(api: Server, execution_id: str) -> dict[str, Any]:
    return call(api, "pauseExecution", "$id: ID!", {"id": execution_id})


def resume(api: Server, execution_id: str, inputs: Any = None) -> dict[str, Any]:
    return call(
        api, "resumeExecution", "$id: ID!, $inputs: JSON", {"id": execution_id, "inputs": inputs}
    )


def mark(api: Server, execution_id: str, task_run_id: str, state: str) -> dict[str, Any]:
    variables = {"executionId": execution_id, "taskRunId": task_run_id, "state": state}
    params = "$executionId: ID!, $taskRunId: ID!, $state: StateType!"
    return call(api, "setTaskRunState", params, variables)


def relabel(api: Server, execution_id: str, labels: list[dict[str, str]]) -> dict[str, Any]:
    params = "$id: ID!, $labels: [LabelInput!]!"
    return call(api, "setExecutionLabels", params, {"id": execution_id, "labels": labels})


def execution_entries(changes: list[dict[str, Any]]) -> list[str]:
    return [c["state"] for c in changes if c["entity"] == "EXECUTION"]


def test_pause_and_resume_stream_their_states(api: Server) -> None:
    namespace = "ops.pause"
    api.deploy(namespace, "nap", NAP_THEN_LOG.format(namespace=namespace))

    async def body() -> tuple[str, list[dict[str, Any]]]:
        execution_id = await asyncio.to_thread(api.create, namespace, "nap")
        async with client(api, PROTOCOL) as ws:
            await ws.start("s", CHANGES, {"id": execution_id})
            await asyncio.to_thread(wait_state, api, execution_id, "RUNNING")
            paused = await asyncio.to_thread(pause, api, execution_id)
            assert paused["__typename"] == "Execution", paused
            assert paused["state"]["current"] == "PAUSED"

            def nap_ended(ex: dict[str, Any]) -> bool:
                return any(r["state"]["current"] == "SUCCESS" for r in ex["taskRunList"])

            held = await asyncio.to_thread(wait_for, api, execution_id, nap_ended)
            assert held["state"]["current"] == "PAUSED"
            assert [r["taskId"] for r in held["taskRunList"]] == ["nap"]
            resumed = await asyncio.to_thread(resume, api, execution_id)
            assert resumed["state"]["current"] == "RUNNING", resumed
            outcome = await ws.collect("s")
        assert outcome.end == "complete"
        return execution_id, outcome.data("stateChanges")

    execution_id, changes = asyncio.run(body())
    assert execution_entries(changes) == ["CREATED", "RUNNING", "PAUSED", "RUNNING", "SUCCESS"]
    refused = pause(api, execution_id)
    assert refused == {
        "__typename": "InvalidStateError",
        "message": "Execution is already finished ('SUCCESS'), can't pause it",
        "current": "SUCCESS",
    }


def test_set_task_run_state_lets_the_flow_go_on(api: Server) -> None:
    namespace = "ops.mark"
    api.deploy(namespace, "middle", FAIL_IN_MIDDLE.format(namespace=namespace))
    execution_id = api.run(namespace, "middle")
    ex = wait_state(api, execution_id, "FAILED")
    ids = {r["taskId"]: r["id"] for r in ex["taskRunList"]}
    refused = mark(api, execution_id, ids["b"], "RUNNING")
    assert refused["__typename"] == "InvalidStateError", refused
    assert "not 'RUNNING'" in refused["message"]
    unknown = mark(api, execution_id, "nope", "SUCCESS")
    assert unknown == {"__typename": "NotFoundError", "message": "task run `nope` not found"}
    marked = mark(api, execution_id, ids["b"], "SUCCESS")
    assert marked["__typename"] == "Execution", marked
    assert marked["state"]["current"] == "RESTARTED"
    assert [r["taskId"] for r in marked["taskRunList"]] == ["a", "b"]  # errors dropped

    outcome = asyncio.run(stream(api, PROTOCOL, CHANGES, id=execution_id))
    changes = outcome.data("stateChanges")
    assert execution_entries(changes) == [
        "CREATED", "RUNNING", "FAILED", "RESTARTED", "RUNNING", "SUCCESS"
    ]  # fmt: skip
    b_entries = [
        c["state"] for c in changes if c["taskRunId"] == ids["b"] and c["entity"] == "TASK_RUN"
    ]
    assert b_entries == ["CREATED", "RUNNING", "FAILED", "SUCCESS"]
    final = wait_state(api, execution_id, "SUCCESS")
    assert [r["taskId"] for r in final["taskRunList"]] == ["a", "b", "c"]


def test_set_execution_state(api: Server) -> None:
    namespace = "ops.setstate"
    api.deploy(namespace, "middle", FAIL_IN_MIDDLE.format(namespace=namespace))
    execution_id = api.run(namespace, "middle")
    params = "$id: ID!, $state: StateType!"
    changed = call(api, "setExecutionState", params, {"id": execution_id, "state": "SUCCESS"})
    assert changed["state"]["histories"][-2:] == [{"state": "FAILED"}, {"state": "SUCCESS"}]
    refused = call(api, "setExecutionState", params, {"id": execution_id, "state": "RUNNING"})
    assert refused["__typename"] == "InvalidStateError"
    assert "not 'RUNNING'" in refused["message"]
    changes = asyncio.run(stream(api, PROTOCOL, CHANGES, id=execution_id)).data("stateChanges")
    assert execution_entries(changes)[-2:] == ["FAILED", "SUCCESS"]

    api.deploy(namespace, "nap", NAP_THEN_LOG.format(namespace=namespace))
    running = api.create(namespace, "nap")
    wait_state(api, running, "RUNNING")
    refused = call(api, "setExecutionState", params, {"id": running, "state": "KILLED"})
    assert refused["__typename"] == "InvalidStateError"
    assert refused["message"].startswith("You can only change the state of a terminated")
    api.wait_terminal(running)


def test_labels_replace_streams_a_snapshot_and_filters_see_them(api: Server) -> None:
    namespace = "ops.labels"
    api.deploy(namespace, "nap", NAP_THEN_LOG.format(namespace=namespace))

    async def body() -> tuple[str, list[dict[str, Any]]]:
        execution_id = await asyncio.to_thread(api.create, namespace, "nap")
        await asyncio.to_thread(wait_state, api, execution_id, "RUNNING")
        assert (await asyncio.to_thread(pause, api, execution_id))["__typename"] == "Execution"

        def settled(ex: dict[str, Any]) -> bool:  # nothing changes state any more until resumed
            return [r["state"]["current"] for r in ex["taskRunList"]] == ["SUCCESS"]

        await asyncio.to_thread(wait_for, api, execution_id, settled)
        async with client(api, PROTOCOL) as ws:
            await ws.start("u", UPDATES, {"id": execution_id})
            first = await ws.collect("u", limit=1)
            before = first.data("executionUpdated")[0]["execution"]["labels"]
            assert before == [{"key": "team", "value": "core"}, system_label(execution_id)]
            answer = await asyncio.to_thread(
                relabel, api, execution_id, [{"key": "owner", "value": "ops"}]
            )
            owner = {"key": "owner", "value": "ops"}
            assert answer["labels"] == [owner, system_label(execution_id)]
            second = await ws.collect("u", limit=1, timeout=10)
            await asyncio.to_thread(resume, api, execution_id)
            rest = await ws.collect("u")
        updates = first.data("executionUpdated") + second.data("executionUpdated")
        return execution_id, updates + rest.data("executionUpdated")

    execution_id, updates = asyncio.run(body())
    assert updates[1]["execution"]["labels"] == [
        {"key": "owner", "value": "ops"},
        system_label(execution_id),
    ]
    assert updates[1]["execution"]["state"]["current"] == "PAUSED"
    assert updates[-1]["execution"]["state"]["current"] == "SUCCESS"
    query = """query($l: [LabelFilter!]) { executions(filter: {labels: $l}) {
      edges { node { id } } } }"""
    found = api.data(query, {"l": [{"key": "owner", "value": "ops"}]})["executions"]["edges"]
    assert [e["node"]["id"] for e in found] == [execution_id]
    gone = api.data(query, {"l": [{"key": "team", "value": "core"}]})["executions"]["edges"]
    assert execution_id not in [e["node"]["id"] for e in gone]
    # terminated executions too; refusals name the label
    assert relabel(api, execution_id, [{"key": "x", "value": "1"}])["labels"] == [
        {"key": "x", "value": "1"},
        system_label(execution_id),
    ]
    refused = relabel(
        api, execution_id, [{"key": "system.x", "value": "1"}, {"key": "", "value": "v"}]
    )
    assert refused["__typename"] == "InvalidInputsError"
    assert [i["message"] for i in refused["issues"]] == [
        "labels[0].key `system.x`: system labels are set by Tercel only",
        "labels[1].key is empty",
    ]
    history = api.data(
        "query($id: ID!) { execution(id: $id) { state { histories { state } } } }",
        {"id": execution_id},
    )["execution"]["state"]["histories"]
    assert [h["state"] for h in history] == ["CREATED", "RUNNING", "PAUSED", "RUNNING", "SUCCESS"]


def test_delete_keeps_logs_when_asked(api: Server) -> None:
    """Kestra ExecutionServiceTest.deleteExecution / deleteExecutionKeepLogs."""
    namespace = "ops.delete"
    api.deploy(namespace, "nap", NAP_THEN_LOG.format(namespace=namespace))
    query = """mutation($id: ID!, $logs: Boolean!) {
      deleteExecution(id: $id, deleteLogs: $logs, deleteStorage: true) { __typename } }"""

    def logs_of(execution_id: str) -> int:
        conn = sqlite3.connect(db_path(api))
        try:
            sql = "SELECT count(*) FROM logs WHERE execution_id = ?"
            return int(conn.execute(sql, (execution_id,)).fetchone()[0])
        finally:
            conn.close()

    kept, purged = api.run(namespace, "nap"), api.run(namespace, "nap")
    assert logs_of(kept) > 0 and logs_of(purged) > 0
    assert (
        api.data(query, {"id": kept, "logs": False})["deleteExecution"]["__typename"] == "Execution"
    )
    assert (
        api.data(query, {"id": purged, "logs": True})["deleteExecution"]["__typename"]
        == "Execution"
    )
    assert logs_of(kept) > 0 and logs_of(purged) == 0
    for execution_id in (kept, purged):
        ex = api.data("query($id: ID!) { execution(id: $id) { id } }", {"id": execution_id})
        assert ex["execution"] is None


TYPED = """\
id: typed
namespace: {namespace}
inputs:
  - id: n
    type: INT
tasks:
  - id: say
    type: io.kestra.plugin.core.debug.Return
    format: "{marker} {{{{ inputs.n }}}}"
"""

REPLAY = """mutation($id: ID!, $t: ID, $r: Int, $i: JSON) {
  replayExecution(id: $id, taskRunId: $t, revision: $r, inputs: $i) { __typename
    ... on Execution { id parentId flowRevision inputs } ... on Error { message }
    ... on InvalidInputsError { issues { input message } } } }"""


def test_replay_on_another_revision_with_new_inputs(api: Server) -> None:
    namespace = "ops.replay"
    api.deploy(namespace, "typed", TYPED.format(namespace=namespace, marker="one"))
    execution_id = api.run(namespace, "typed", inputs={"n": 1})
    api.deploy(namespace, "typed", TYPED.format(namespace=namespace, marker="two"))

    def replay(**variables: Any) -> dict[str, Any]:
        found: dict[str, Any] = api.data(REPLAY, {"id": execution_id, **variables})
        return found["replayExecution"]

    bad = replay(r=2, i={"n": "many"})
    assert bad["__typename"] == "InvalidInputsError", bad
    assert [i["input"] for i in bad["issues"]] == ["n"]
    missing = replay(r=7)
    assert missing["__typename"] == "NotFoundError"
    assert missing["message"] == f"flow `{namespace}.typed revision 7` not found"
    new = replay(r=2, i={"n": 5})
    assert new["__typename"] == "Execution", new
    assert (new["parentId"], new["flowRevision"], new["inputs"]) == (execution_id, 2, {"n": 5})
    api.wait_terminal(new["id"])
    outputs = api.data(
        "query($id: ID!) { execution(id: $id) { taskRunList { outputs } } }", {"id": new["id"]}
    )["execution"]["taskRunList"]
    assert outputs == [{"outputs": {"value": "two 5"}}]
    same = replay()  # no option: the old revision and inputs, as before
    assert (same["flowRevision"], same["inputs"]) == (1, {"n": 1})
