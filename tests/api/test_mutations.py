"""Mutations: every union member of every result."""

from __future__ import annotations

from typing import Any

import pytest
from tests.api.conftest import DISABLED, FLOW, SLEEPER, TYPED, Server

from tercel.engine import service

RESULT = """__typename
  ... on Execution { id state { current } parentId }
  ... on Error { message }
  ... on NotFoundError { kind missing: id }
  ... on InvalidStateError { current: state }"""
INPUTS = "... on InvalidInputsError { issues { input message } }"

DEPLOY = """mutation($s: String!) { deployFlow(source: $s) { __typename
  ... on Flow { namespace id revision source }
  ... on FlowValidationError { message issues { path line column message } } } }"""


def mutate(api: Server, field: str, args: str, variables: dict[str, Any]) -> dict[str, Any]:
    params = ", ".join(f"${name}: {kind}" for name, kind in _kinds(args).items())
    call = ", ".join(f"{name}: ${name}" for name in _kinds(args))
    selection = RESULT if field == "deleteExecution" else RESULT + INPUTS
    query = f"mutation({params}) {{ {field}({call}) {{ {selection} }} }}"
    found: dict[str, Any] = api.data(query, variables)[field]
    return found


def _kinds(args: str) -> dict[str, str]:
    return dict(part.split(":") for part in args.split()) if args else {}


def test_deploy_flow_members(api: Server) -> None:
    source = FLOW.format(namespace="mut.deploy", flow_id="d")
    first = api.data(DEPLOY, {"s": source})["deployFlow"]
    assert first["__typename"] == "Flow" and first["revision"] == 1 and first["source"] == source
    assert api.data(DEPLOY, {"s": source})["deployFlow"]["revision"] == 1  # identical: latest
    changed = api.data(DEPLOY, {"s": source + "description: changed\n"})["deployFlow"]
    assert changed["revision"] == 2
    bad = source.replace("io.kestra.plugin.core.debug.Return", "io.nope.Missing")
    refused = api.data(DEPLOY, {"s": bad})["deployFlow"]
    assert refused["__typename"] == "FlowValidationError"
    issue = refused["issues"][0]
    assert issue["path"] == "tasks[1].type" and issue["line"] == 10 and issue["column"] == 11
    assert refused["message"].startswith("tasks[1].type: ")
    assert refused["message"].endswith("(line 10, column 11)")
    broken = api.data(DEPLOY, {"s": "id: [unclosed"})["deployFlow"]
    assert broken["__typename"] == "FlowValidationError" and broken["issues"]


def test_validate_flow_members(api: Server) -> None:
    query = """mutation($s: String!) { validateFlow(source: $s) { __typename
      ... on ValidFlow { namespace id } ... on Error { message } } }"""
    ok = api.data(query, {"s": FLOW.format(namespace="mut.validate", flow_id="v")})["validateFlow"]
    assert ok == {"__typename": "ValidFlow", "namespace": "mut.validate", "id": "v"}
    assert api.data('{ flow(namespace: "mut.validate", id: "v") { id } }') == {"flow": None}
    bad = api.data(query, {"s": "id: x\nnamespace: y\n"})["validateFlow"]
    assert bad["__typename"] == "FlowValidationError"


CREATE = "namespace:String! flowId:String! inputs:JSON labels:[LabelInput!]"


def test_create_execution_members(api: Server) -> None:
    ns = "mut.create"
    api.deploy(ns, "typed", TYPED.format(namespace=ns))
    api.deploy(ns, "off", DISABLED.format(namespace=ns))
    made = mutate(
        api, "createExecution", CREATE, {"namespace": ns, "flowId": "typed", "inputs": {"n": "7"}}
    )
    assert made["__typename"] == "Execution" and made["state"]["current"] in (
        "CREATED",
        "RUNNING",
        "SUCCESS",
    )
    api.wait_terminal(made["id"])
    inputs = api.data("query($id: ID!) { execution(id: $id) { inputs } }", {"id": made["id"]})
    assert inputs["execution"]["inputs"] == {"n": 7, "who": "world"}
    missing = mutate(api, "createExecution", CREATE, {"namespace": ns, "flowId": "nope"})
    assert missing["__typename"] == "NotFoundError" and missing["kind"] == "flow"
    invalid = mutate(
        api, "createExecution", CREATE, {"namespace": ns, "flowId": "typed", "inputs": {"n": "abc"}}
    )
    assert invalid["__typename"] == "InvalidInputsError"
    assert [i["input"] for i in invalid["issues"]] == ["n"]
    absent = mutate(api, "createExecution", CREATE, {"namespace": ns, "flowId": "typed"})
    assert absent["__typename"] == "InvalidInputsError"
    not_a_map = mutate(
        api, "createExecution", CREATE, {"namespace": ns, "flowId": "typed", "inputs": [1]}
    )
    assert not_a_map["__typename"] == "InvalidInputsError"
    disabled = mutate(api, "createExecution", CREATE, {"namespace": ns, "flowId": "off"})
    assert disabled["__typename"] == "InvalidStateError"


def test_delete_execution_members(api: Server) -> None:
    ns = "mut.delete"
    api.deploy(ns)
    api.deploy(ns, "sleeper", SLEEPER.format(namespace=ns))
    done = api.run(ns)
    deleted = mutate(api, "deleteExecution", "id:ID!", {"id": done})
    assert deleted["__typename"] == "Execution" and deleted["id"] == done
    assert deleted["state"]["current"] == "SUCCESS"  # as it was
    assert api.data("query($id: ID!) { execution(id: $id) { id } }", {"id": done}) == {
        "execution": None
    }
    leftovers = api.data(
        """query($id: ID!) { taskRuns(filter: {executionId: $id}) { totalCount }
             stateChanges(executionId: $id) { edges { cursor } }
             logs(executionId: $id) { edges { cursor } } }""",
        {"id": done},
    )
    assert leftovers == {
        "taskRuns": {"totalCount": 0},
        "stateChanges": {"edges": []},
        "logs": {"edges": []},
    }
    again = mutate(api, "deleteExecution", "id:ID!", {"id": done})
    assert again["__typename"] == "NotFoundError" and again["kind"] == "execution"
    active = api.create(ns, "sleeper")
    refused = mutate(api, "deleteExecution", "id:ID!", {"id": active})
    assert refused["__typename"] == "InvalidStateError"
    assert refused["current"] in ("CREATED", "RUNNING")


@pytest.mark.parametrize(
    ("field", "args", "extra"),
    [
        ("killExecution", "id:ID!", {}),
        ("restartExecution", "id:ID!", {}),
        ("resumeExecution", "id:ID! inputs:JSON", {"inputs": None}),
        ("replayExecution", "id:ID! taskRunId:ID", {"taskRunId": None}),
    ],
)
def test_lifecycle_members(api: Server, field: str, args: str, extra: dict[str, Any]) -> None:
    ns = "mut.life"
    api.deploy(ns)
    missing = mutate(api, field, args, {"id": "nope", **extra})
    name = field.replace("Execution", "_execution")
    if getattr(service, name, None) is None:  # the engine service is not there yet
        assert missing == {
            "__typename": "InvalidStateError",
            "message": f"{name}: not supported yet",
            "current": None,
        }
        return
    assert missing["__typename"] == "NotFoundError"
    done = api.run(ns)
    outcome = mutate(api, field, args, {"id": done, **extra})
    if field == "replayExecution":
        assert outcome["__typename"] == "Execution" and outcome["parentId"] == done
    else:  # kill: already terminal; restart: nothing failed; resume: not paused
        assert outcome["__typename"] == "InvalidStateError"


def test_kill_running_execution(api: Server) -> None:
    if getattr(service, "kill_execution", None) is None:
        pytest.skip("service.kill_execution is not implemented yet")
    ns = "mut.kill"
    api.deploy(ns, "sleeper", SLEEPER.format(namespace=ns))
    active = api.create(ns, "sleeper")
    killed = mutate(api, "killExecution", "id:ID!", {"id": active})
    assert killed["__typename"] == "Execution"
    assert killed["state"]["current"] in ("KILLING", "KILLED")
    assert api.wait_terminal(active) == "KILLED"


def test_delete_flow_members(api: Server) -> None:
    ns = "mut.dflow"
    api.deploy(ns)
    query = """mutation($ns: String!, $id: String!) { deleteFlow(namespace: $ns, id: $id) {
      __typename ... on Flow { id revision } ... on Error { message } } }"""
    gone = api.data(query, {"ns": ns, "id": "hello"})["deleteFlow"]
    assert gone == {"__typename": "Flow", "id": "hello", "revision": 1}
    assert api.data(f'{{ flow(namespace: "{ns}", id: "hello") {{ id }} }}') == {"flow": None}
    again = api.data(query, {"ns": ns, "id": "hello"})["deleteFlow"]
    assert again["__typename"] == "NotFoundError"
    created = mutate(api, "createExecution", CREATE, {"namespace": ns, "flowId": "hello"})
    assert created["__typename"] == "NotFoundError"
