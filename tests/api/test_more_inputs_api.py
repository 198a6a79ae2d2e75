"""SECRET and choice inputs over GraphQL: `Execution.inputs` and the logs mask a SECRET;
`InvalidInputsError` names each bad input (semantics.md#more-input-types)."""

from __future__ import annotations

import asyncio

from tests.api.conftest import Server
from tests.api.test_subscriptions import stream

FLOW = """id: {flow_id}
namespace: {namespace}
inputs:
  - id: token
    type: SECRET
  - id: sizes
    type: MULTISELECT
    values: [S, M, L]
  - id: site
    type: URI
    required: false
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "token {{{{ inputs.token }}}} sizes {{{{ inputs.sizes | join(',') }}}}"
"""

EXECUTION = """query($id: ID!) { execution(id: $id) { inputs state { current } } }"""
LOGS = """query($id: ID!) { logs(executionId: $id) { edges { node { message } } } }"""


def _deploy(api: Server, namespace: str) -> None:
    api.deploy(namespace, "more", FLOW.format(namespace=namespace, flow_id="more"))


def test_execution_inputs_and_logs_mask_the_secret(api: Server) -> None:
    _deploy(api, "api.secrets")
    execution_id = api.run(
        "api.secrets", "more", inputs={"token": "s3cr3t-v@lue", "sizes": ["S", "L"]}
    )
    found = api.data(EXECUTION, {"id": execution_id})["execution"]
    assert found["state"]["current"] == "SUCCESS"
    assert found["inputs"] == {"token": "******", "sizes": ["S", "L"], "site": None}
    messages = [
        edge["node"]["message"] for edge in api.data(LOGS, {"id": execution_id})["logs"]["edges"]
    ]
    assert "token ****** sizes S,L" in messages
    assert not any("s3cr3t" in message for message in messages)


def test_invalid_inputs_error_names_each_bad_input(api: Server) -> None:
    _deploy(api, "api.badinputs")
    found = api.data(
        """mutation($i: JSON) {
             createExecution(namespace: "api.badinputs", flowId: "more", inputs: $i) {
             __typename ... on InvalidInputsError { issues { input message } } } }""",
        {"i": {"token": 5, "sizes": ["XL"], "site": "nope"}},
    )["createExecution"]
    assert found["__typename"] == "InvalidInputsError"
    assert found["issues"] == [
        {
            "input": "token",
            "message": "Invalid input for `token`, expected SECRET, but received `******`",
        },
        {
            "input": "sizes",
            "message": "Invalid input for `sizes`, it must match the values `[S, M, L]`, "
            'but received `["XL"]`',
        },
        {"input": "site", "message": "Invalid input for `site`, expected URI, but received `nope`"},
    ]


def test_flow_inputs_list_the_values_to_choose_from(api: Server) -> None:
    _deploy(api, "api.choices")
    found = api.data('{ flow(namespace: "api.choices", id: "more") { inputs } }')["flow"]
    assert found["inputs"][1] == {
        "id": "sizes",
        "type": "MULTISELECT",
        "required": True,
        "defaults": None,
        "values": ["S", "M", "L"],
    }


def test_live_snapshots_and_live_logs_mask_the_secret(api: Server) -> None:
    _deploy(api, "api.livesecrets")
    updates = """subscription($id: ID!) { executionUpdated(id: $id) { execution { inputs } } }"""
    logs = """subscription($id: ID!) { logs(executionId: $id) { message } }"""

    async def body() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        given = {"token": "live-s3cr3t", "sizes": ["M"]}
        execution_id = await asyncio.to_thread(api.create, "api.livesecrets", "more", inputs=given)
        snapshots = await stream(api, "graphql-transport-ws", updates, id=execution_id)
        await asyncio.to_thread(api.wait_terminal, execution_id)
        lines = await _first_logs(api, logs, execution_id)
        return snapshots.data("executionUpdated"), lines

    snapshots, lines = asyncio.run(body())
    assert snapshots, "no snapshot"
    for snapshot in snapshots:
        assert snapshot["execution"]["inputs"] == {"token": "******", "sizes": ["M"], "site": None}
    assert {"message": "token ****** sizes M"} in lines


async def _first_logs(api: Server, query: str, execution_id: str) -> list[dict[str, object]]:
    """The ended execution's log lines from the logs subscription (which then completes)."""
    outcome = await asyncio.wait_for(
        stream(api, "graphql-transport-ws", query, id=execution_id), timeout=10
    )
    return list(outcome.data("logs"))
