"""`StateChange.execution`: the created execution on its first entry, streamed live, so the
executions list shows a new row without a query (issue #13, commit -> DOM); null on every other
entry, on replayed ones and in the polling twin. A real server and real websocket clients."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tests.api.conftest import Server
from tests.api.test_subscriptions import PROTOCOLS, client, deploy, run, stored_changes

FIELDS = """cursor sequence entity executionId state previous date
  execution { id namespace flowId flowRevision labels { key value } parentId originalId
              metadata { attemptNumber } state { current startDate endDate } }"""
CHANGES = f"""subscription($id: ID, $after: String, $f: StateChangeFilter) {{
  stateChanges(executionId: $id, after: $after, filter: $f) {{ {FIELDS} }} }}"""
POLL = f"""query($id: ID) {{ stateChanges(executionId: $id, first: 100) {{
  edges {{ node {{ {FIELDS} }} }} }} }}"""
STORED = """query($id: ID!) { execution(id: $id) {
  id namespace flowId flowRevision labels { key value } parentId originalId
  metadata { attemptNumber } state { current startDate endDate histories { state date } } } }"""
LABELS = [{"key": "team", "value": "blue"}, {"key": "run", "value": "7"}]


def _created(api: Server, namespace: str) -> str:
    return api.create(namespace, "live", labels=LABELS)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_first_entry_carries_the_created_execution(api: Server, protocol: str) -> None:
    namespace = f"subs.created.{protocol.replace('-', '')}"
    deploy(api, namespace)
    flt = {"namespace": namespace, "entities": ["EXECUTION", "TASK_RUN"]}

    async def body() -> tuple[str, list[dict[str, Any]]]:
        async with client(api, protocol) as ws:
            await ws.start("list", CHANGES, {"after": "HEAD", "f": flt})
            await asyncio.sleep(0.2)  # registered: the stream starts at the head
            execution_id = await asyncio.to_thread(_created, api, namespace)
            await asyncio.to_thread(api.wait_terminal, execution_id)
            expected = [c for c in stored_changes(api, execution_id) if c["entity"] != "ATTEMPT"]
            found = (await ws.collect("list", limit=len(expected))).data("stateChanges")
            await ws.stop("list")
            return execution_id, found

    execution_id, found = run(body())
    stored = api.data(STORED, {"id": execution_id})["execution"]
    first, rest = found[0], found[1:]
    assert (first["entity"], first["state"], first["previous"]) == ("EXECUTION", "CREATED", None)
    snapshot = first["execution"]
    assert snapshot is not None, "the CREATED entry carries no execution"
    same = ("id", "namespace", "flowId", "flowRevision", "labels", "parentId", "originalId")
    assert {k: snapshot[k] for k in same} == {k: stored[k] for k in same}
    assert all(label in snapshot["labels"] for label in LABELS)
    assert snapshot["metadata"] == {"attemptNumber": 1}
    # as the creating commit wrote it: started at the CREATED date, not ended, whatever the
    # execution did afterwards (it is SUCCESS by now)
    assert snapshot["state"]["startDate"] == first["date"] == stored["state"]["startDate"]
    assert snapshot["state"]["endDate"] is None
    assert snapshot["state"]["current"] != "SUCCESS"
    assert all(change["execution"] is None for change in rest)
    assert any(change["entity"] == "TASK_RUN" and change["previous"] is None for change in rest)


def test_replayed_and_polled_entries_carry_none(api: Server) -> None:
    namespace = "subs.created.replayed"
    deploy(api, namespace)
    execution_id = _created(api, namespace)
    api.wait_terminal(execution_id)

    async def body() -> list[dict[str, Any]]:
        async with client(api, PROTOCOLS[0]) as ws:
            return (await ws.subscribe(CHANGES, {"id": execution_id})).data("stateChanges")

    replayed = run(body())
    polled = [e["node"] for e in api.data(POLL, {"id": execution_id})["stateChanges"]["edges"]]
    assert replayed and replayed[0]["state"] == "CREATED"
    assert [c["sequence"] for c in replayed] == [c["sequence"] for c in polled]
    assert all(change["execution"] is None for change in replayed + polled)
