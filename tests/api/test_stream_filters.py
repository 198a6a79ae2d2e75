"""The live `stateChanges` filter over a real websocket: flow id, labels and entered states narrow
what a subscriber receives, and what it receives is exactly the stored changes that match."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tests.api.conftest import Server
from tests.api.test_subscriptions import (
    CHANGES,
    LIVE,
    PROTOCOLS,
    client,
    deploy,
    run,
    stored_changes,
)

#: the `live` flow under another id: the same tasks and states, another flow
OTHER = LIVE.replace("id: live\n", "id: other\n", 1)


def _create(server: Server, namespace: str, flow_id: str, team: str) -> str:
    return server.create(namespace, flow_id, labels=[{"key": "team", "value": team}])


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_flow_id_labels_and_states_narrow_the_live_stream(api: Server, protocol: str) -> None:
    namespace = f"subs.narrow.{protocol.replace('-', '')}"
    deploy(api, namespace)
    deploy(api, namespace, OTHER)
    flt = {
        "namespace": namespace,
        "flowId": "live",
        "labels": [{"key": "team", "value": "a"}],
        "states": ["SUCCESS"],
    }

    async def body() -> tuple[str, list[dict[str, Any]]]:
        async with client(api, protocol) as ws:
            await ws.start("narrow", CHANGES, {"f": flt})
            await asyncio.sleep(0.2)  # registered: the stream starts at the head
            others = [
                await asyncio.to_thread(_create, api, namespace, "other", "a"),  # another flow
                await asyncio.to_thread(_create, api, namespace, "live", "b"),  # another label
            ]
            for execution_id in others:
                await asyncio.to_thread(api.wait_terminal, execution_id)
            wanted = await asyncio.to_thread(_create, api, namespace, "live", "a")
            await asyncio.to_thread(api.wait_terminal, wanted)
            expected = [c for c in stored_changes(api, wanted) if c["state"] == "SUCCESS"]
            got = (await ws.collect("narrow", limit=len(expected))).data("stateChanges")
            await ws.stop("narrow")
            return wanted, got

    wanted, got = run(body())
    expected = [c for c in stored_changes(api, wanted) if c["state"] == "SUCCESS"]
    assert {c["entity"] for c in expected} == {"EXECUTION", "TASK_RUN", "ATTEMPT"}
    # the other executions' changes came first: any that passed the filter would be here
    assert got == expected
