"""bulkExecutions over a real server (semantics.md#bulk): by ids and by
the list's own ExecutionFilter, one item per execution, dry runs that change nothing, the
10,000 limit, and the changes streamed on `stateChanges` like any other."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tests.api.conftest import Server, error_codes
from tests.api.lifecycle_helpers import current, states, wait_state
from tests.api.test_subscriptions import CHANGES, stream

from tercel.engine.actions import bulk

FLAKY = """\
id: flaky
namespace: {namespace}
inputs:
  - id: fail
    type: BOOLEAN
    defaults: false
tasks:
  - id: maybe
    type: io.kestra.plugin.core.execution.Fail
    runIf: "{{{{ inputs.fail }}}}"
  - id: done
    type: io.kestra.plugin.core.log.Log
    message: done
"""

SLOW = """\
id: slow
namespace: {namespace}
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT30S
"""

BULK = """mutation($a: BulkAction!, $ids: [ID!], $f: ExecutionFilter, $dry: Boolean,
                   $l: [LabelInput!]) {
  bulkExecutions(action: $a, ids: $ids, filter: $f, dryRun: $dry, labels: $l) {
    dryRun matched items { executionId outcome message state } } }"""


def call(api: Server, action: str, **variables: Any) -> dict[str, Any]:
    body = {"a": action, **{k: v for k, v in variables.items()}}
    found: dict[str, Any] = api.data(BULK, body)["bulkExecutions"]
    return found


def refused(api: Server, action: str, **variables: Any) -> str:
    body = api.gql(BULK, {"a": action, **variables})
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    message: str = body["errors"][0]["message"]
    return message


def ran(api: Server, namespace: str, fail: bool) -> str:
    execution_id = api.create(namespace, "flaky", inputs={"fail": fail})
    api.wait_terminal(execution_id)
    return execution_id


def test_restart_by_ids_answers_one_item_per_execution(api: Server) -> None:
    namespace = "bulk.ids"
    api.deploy(namespace, "flaky", FLAKY.format(namespace=namespace))
    failed, succeeded = ran(api, namespace, True), ran(api, namespace, False)
    dry = call(api, "RESTART", ids=[failed, succeeded, "nope", failed], dry=True)
    assert dry["dryRun"] is True and dry["matched"] == 3
    assert [(i["executionId"], i["outcome"], i["state"]) for i in dry["items"]] == [
        (failed, "OK", "FAILED"),
        (succeeded, "SKIPPED", "SUCCESS"),
        ("nope", "ERROR", None),
    ]
    assert dry["items"][1]["message"] == "No task found to restart execution from!"
    assert dry["items"][2]["message"] == "execution `nope` not found"
    assert current(api, failed) == "FAILED"  # the dry run changed nothing

    done = call(api, "RESTART", ids=[failed, succeeded, "nope", failed])
    assert done["dryRun"] is False and done["matched"] == 3
    assert [(i["outcome"], i["state"]) for i in done["items"]] == [
        ("OK", "RESTARTED"),
        ("SKIPPED", "SUCCESS"),
        ("ERROR", None),
    ]
    final = wait_state(api, failed, "FAILED", timeout=10)  # Fail fails again
    assert states(final)[2:] == ["FAILED", "RESTARTED", "RUNNING", "FAILED"]
    changes = asyncio.run(stream(api, "graphql-transport-ws", CHANGES, id=failed))
    entries = [c["state"] for c in changes.data("stateChanges") if c["entity"] == "EXECUTION"]
    assert entries == ["CREATED", "RUNNING", "FAILED", "RESTARTED", "RUNNING", "FAILED"]


def test_by_filter_kill_pause_resume_labels_delete(api: Server) -> None:
    namespace = "bulk.filter"
    api.deploy(namespace, "slow", SLOW.format(namespace=namespace))
    api.deploy(namespace, "flaky", FLAKY.format(namespace=namespace))
    slow = [api.create(namespace, "slow") for _ in range(3)]
    for execution_id in slow:
        wait_state(api, execution_id, "RUNNING")
    mine = {"namespace": namespace, "flowId": "slow"}

    paused = call(api, "PAUSE", f=mine)
    assert paused["matched"] == 3
    assert {(i["outcome"], i["state"]) for i in paused["items"]} == {("OK", "PAUSED")}
    assert [i["executionId"] for i in paused["items"]] == list(reversed(slow))  # newest first
    again = call(api, "PAUSE", ids=slow[:1])
    assert again["items"][0]["outcome"] == "SKIPPED"
    assert "current state is 'PAUSED'" in again["items"][0]["message"]
    resumed = call(api, "RESUME", f={**mine, "state": ["PAUSED"]})
    assert {(i["outcome"], i["state"]) for i in resumed["items"]} == {("OK", "RUNNING")}

    labelled = call(api, "SET_LABELS", f=mine, l=[{"key": "batch", "value": "b1"}])
    assert {i["outcome"] for i in labelled["items"]} == {"OK"}
    by_label = {"namespace": namespace, "labels": [{"key": "batch", "value": "b1"}]}
    killed = call(api, "KILL", f=by_label)
    assert sorted(i["executionId"] for i in killed["items"]) == sorted(slow)
    assert {i["state"] for i in killed["items"]} == {"KILLING"}
    for execution_id in slow:
        wait_state(api, execution_id, "KILLED")

    ended = ran(api, namespace, False)
    unqueue = call(api, "UNQUEUE", ids=[ended])
    assert unqueue["items"][0]["outcome"] == "SKIPPED"
    assert unqueue["items"][0]["message"] == (
        "Only a QUEUED execution can be unqueued, current state is 'SUCCESS'"
    )
    deleted = call(api, "DELETE", f={"namespace": namespace})
    assert deleted["matched"] == 4 and {i["outcome"] for i in deleted["items"]} == {"OK"}
    left = api.data(
        "query($f: ExecutionFilter) { executions(filter: $f) { totalCount } }",
        {"f": {"namespace": namespace}},
    )
    assert left["executions"]["totalCount"] == 0


def test_replay_item_names_the_new_execution(api: Server) -> None:
    namespace = "bulk.replay"
    api.deploy(namespace, "flaky", FLAKY.format(namespace=namespace))
    old = ran(api, namespace, False)
    item = call(api, "REPLAY", ids=[old])["items"][0]
    assert item["outcome"] == "OK" and item["state"] == "CREATED"
    new_id = item["message"].removeprefix("replayed as ")
    assert api.wait_terminal(new_id) == "SUCCESS"


def test_argument_refusals(api: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    namespace = "bulk.refused"
    api.deploy(namespace, "flaky", FLAKY.format(namespace=namespace))
    made = [ran(api, namespace, True) for _ in range(4)]
    assert "either `ids` or `filter`" in refused(api, "KILL")
    assert "either `ids` or `filter`" in refused(api, "KILL", ids=made, f={})
    assert refused(api, "SET_LABELS", ids=made) == "SET_LABELS needs `labels`"
    message = refused(api, "SET_LABELS", ids=made, l=[{"key": "system.x", "value": "1"}])
    assert message == "labels[0].key `system.x`: system labels are set by Tercel only"
    assert "only for the SET_LABELS" in refused(api, "KILL", ids=made, l=[])
    monkeypatch.setattr(bulk, "MAX_EXECUTIONS", 3)  # the same check as with 10,000
    for dry in (True, False):
        message = refused(api, "RESTART", f={"namespace": namespace}, dry=dry)
        assert message == "4 executions match: a bulk action takes at most 3; narrow the filter"
    assert {current(api, execution_id) for execution_id in made} == {"FAILED"}


MINIMAL = """\
id: minimal
namespace: {namespace}
tasks:
  - id: date
    type: io.kestra.plugin.core.debug.Return
    format: "{{{{ taskrun.startDate }}}}"
"""

SINGLE = """mutation($id: ID!, $s: StateType!, $l: [LabelInput!]!) {
  changed: setExecutionState(id: $id, state: $s) { __typename
    ... on Execution { state { current } } ... on Error { message } }
  labelled: setExecutionLabels(id: $id, labels: $l) { __typename
    ... on Execution { labels { key value } } ... on Error { message } }
  paused: pauseExecution(id: $id) { __typename ... on Error { message } } }"""


def test_kestra_execution_controller_cases(api: Server) -> None:
    """Kestra ExecutionControllerTest: changeStatus (SUCCESS -> WARNING), setLabels (on a
    terminated execution; unknown id; empty label), shouldPauseARunningFlow's refusals,
    setLabelsByIds / setLabelsByQuery / shouldPauseByIdsRunningFlows / ByQuery (count 3)."""
    namespace = "bulk.kestra"
    api.deploy(namespace, "minimal", MINIMAL.format(namespace=namespace))
    api.deploy(namespace, "slow", SLOW.format(namespace=namespace))
    done = api.run(namespace, "minimal")
    found = api.data(SINGLE, {"id": done, "s": "WARNING", "l": [{"key": "key", "value": "value"}]})
    assert found["changed"] == {"__typename": "Execution", "state": {"current": "WARNING"}}
    assert {"key": "key", "value": "value"} in found["labelled"]["labels"]
    assert found["paused"]["__typename"] == "InvalidStateError"
    missing = api.data(
        SINGLE, {"id": "notfound", "s": "WARNING", "l": [{"key": "k", "value": "v"}]}
    )
    assert {answer["__typename"] for answer in missing.values()} == {"NotFoundError"}
    empty = api.data(SINGLE, {"id": done, "s": "WARNING", "l": [{"key": "", "value": ""}]})
    assert empty["labelled"]["__typename"] == "InvalidInputsError"

    three = [api.run(namespace, "minimal") for _ in range(3)]
    by_ids = call(api, "SET_LABELS", ids=three, l=[{"key": "key", "value": "value"}])
    assert by_ids["matched"] == 3 and {i["outcome"] for i in by_ids["items"]} == {"OK"}
    by_query = call(
        api,
        "SET_LABELS",
        f={"namespace": namespace, "flowId": "minimal"},
        l=[{"key": "k", "value": "v"}],
    )
    assert by_query["matched"] == 4
    running = [api.create(namespace, "slow") for _ in range(3)]
    for execution_id in running:
        wait_state(api, execution_id, "RUNNING")
    assert call(api, "PAUSE", ids=running)["matched"] == 3
    assert call(api, "RESUME", f={"namespace": namespace, "state": ["PAUSED"]})["matched"] == 3
    assert call(api, "PAUSE", f={"namespace": namespace, "state": ["RUNNING"]})["matched"] == 3
    killed = call(api, "KILL", f={"namespace": namespace, "flowId": "slow"})
    assert {i["outcome"] for i in killed["items"]} == {"OK"}
    for execution_id in running:
        wait_state(api, execution_id, "KILLED")


WOULD = ("OK", "would be done (dry run)")


def test_a_dry_run_answers_what_each_action_would_and_changes_nothing(api: Server) -> None:
    namespace = "bulk.dry"
    api.deploy(namespace, "slow", SLOW.format(namespace=namespace))
    api.deploy(namespace, "flaky", FLAKY.format(namespace=namespace))
    running = api.create(namespace, "slow")
    wait_state(api, running, "RUNNING")
    ended = ran(api, namespace, False)
    ids = [running, ended]
    labels = [{"key": "batch", "value": "dry"}]
    dry: dict[str, list[tuple[str, str | None]]] = {}
    for action in ("KILL", "REPLAY", "DELETE", "RESUME", "PAUSE", "UNQUEUE", "SET_LABELS"):
        found = call(api, action, ids=ids, dry=True, l=labels if action == "SET_LABELS" else None)
        assert found["dryRun"] is True and found["matched"] == 2, found
        assert [i["state"] for i in found["items"]] == ["RUNNING", "SUCCESS"], found
        dry[action] = [(i["outcome"], i["message"]) for i in found["items"]]
    assert {(current(api, running), current(api, ended))} == {("RUNNING", "SUCCESS")}
    assert dry["KILL"] == [
        WOULD,
        ("SKIPPED", "Execution is already finished, can't kill it"),
    ]
    replay = "Execution must be terminated to be replayed, current state is 'RUNNING' !"
    assert dry["REPLAY"] == [("SKIPPED", replay), WOULD]
    delete = (
        f"execution `{running}` is RUNNING: only ended or queued executions can be deleted "
        "(kill it first)"
    )
    assert dry["DELETE"] == [("SKIPPED", delete), WOULD]
    assert dry["UNQUEUE"] == [
        ("SKIPPED", f"Only a QUEUED execution can be unqueued, current state is '{state}'")
        for state in ("RUNNING", "SUCCESS")
    ]
    assert dry["SET_LABELS"] == [WOULD] * 2
    assert dry["RESUME"][0][0] == "SKIPPED" and dry["PAUSE"] == [
        WOULD,
        ("SKIPPED", dry["PAUSE"][1][1]),
    ]
    # each refusal is the one the action itself gives (the refused actions change nothing)
    for action, refused_id, index in (
        ("KILL", ended, 1),
        ("REPLAY", running, 0),
        ("DELETE", running, 0),
        ("RESUME", running, 0),
        ("PAUSE", ended, 1),
        ("UNQUEUE", ended, 1),
    ):
        item = call(api, action, ids=[refused_id])["items"][0]
        assert (item["outcome"], item["message"]) == dry[action][index], action
    assert {(current(api, running), current(api, ended))} == {("RUNNING", "SUCCESS")}
    call(api, "KILL", ids=[running])
    wait_state(api, running, "KILLED")
