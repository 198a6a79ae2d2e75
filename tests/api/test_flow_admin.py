"""Flow disabling and deletion through the API."""

from __future__ import annotations

from tests.api.conftest import Server

NAMESPACE = "flow.admin"

SWITCH = """mutation($ns: String!, $id: String!, $disabled: Boolean!) {
  setFlowDisabled(namespace: $ns, id: $id, disabled: $disabled) {
    __typename ... on Flow { id disabled revision } ... on Error { message }
  }
}"""

CREATE = """mutation($ns: String!, $id: String!) {
  createExecution(namespace: $ns, flowId: $id) {
    __typename ... on Execution { id } ... on Error { message }
  }
}"""


def test_a_disabled_flow_cannot_be_executed_until_enabled(api: Server) -> None:
    api.deploy(NAMESPACE)
    ids = {"ns": NAMESPACE, "id": "hello"}
    off = api.data(SWITCH, {**ids, "disabled": True})["setFlowDisabled"]
    assert off == {"__typename": "Flow", "id": "hello", "disabled": True, "revision": 1}
    refused = api.data(CREATE, ids)["createExecution"]
    assert refused["__typename"] == "InvalidStateError"
    assert "disabled" in refused["message"]
    listed = api.data("query($ns: String) { flows(namespace: $ns) { id disabled } }", ids)
    assert listed["flows"] == [{"id": "hello", "disabled": True}]
    on = api.data(SWITCH, {**ids, "disabled": False})["setFlowDisabled"]
    assert on["disabled"] is False
    assert api.data(CREATE, ids)["createExecution"]["__typename"] == "Execution"


def test_switching_an_unknown_flow_is_not_found(api: Server) -> None:
    missing = api.data(SWITCH, {"ns": NAMESPACE, "id": "nope", "disabled": True})
    assert missing["setFlowDisabled"]["__typename"] == "NotFoundError"


def test_a_deleted_flow_cannot_be_executed(api: Server) -> None:
    api.deploy(NAMESPACE + ".gone")
    ids = {"ns": NAMESPACE + ".gone", "id": "hello"}
    deleted = api.data(
        "mutation($ns: String!, $id: String!) { deleteFlow(namespace: $ns, id: $id) {"
        " __typename ... on Flow { id } } }",
        ids,
    )
    assert deleted["deleteFlow"] == {"__typename": "Flow", "id": "hello"}
    assert api.data(CREATE, ids)["createExecution"]["__typename"] == "NotFoundError"
