"""Triggers over a real server (semantics.md#triggers): Schedule dates and variables, the
`triggers` query, switching triggers off, Flow triggers and backfills. Webhooks are in
`test_webhooks.py`; missed dates, late dates and kill -9 in `tests/crash/test_schedules.py`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from tests.api.conftest import Server
from tests.crash.server import health_waits

T = "io.kestra.plugin.core.trigger"
C = "io.kestra.plugin.core.condition"

EVERY_SECOND = """\
id: {flow_id}
namespace: {namespace}
labels:
  team: core
inputs:
  - id: input1
    type: STRING
    required: false
  - id: input2
    type: STRING
    defaults: default
tasks:
  - id: dates
    type: io.kestra.plugin.core.debug.Return
    format: "{{{{ trigger.date }}}}|{{{{ trigger.previous }}}}|{{{{ trigger.next }}}}"
triggers:
  - id: tick
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "*/1 * * * * *"
    withSeconds: true
    inputs:
      input1: input1
"""

TRIGGERED = """
query($ns: String, $f: String) {
  executions(filter: {namespace: $ns, flowId: $f}, first: 100) {
    edges { node { id state { current } labels { key value } inputs
                   trigger { id type variables }
                   taskRunList { taskId outputs } } }
  }
}"""
TRIGGERS = """query($ns: String) { triggers(namespace: $ns) {
  namespace flowId id type disabled nextDate lastExecutionId } }"""
SET_DISABLED = """mutation($ns: String!, $f: String!, $t: String!, $d: Boolean!) {
  setTriggerDisabled(namespace: $ns, flowId: $f, triggerId: $t, disabled: $d) {
    __typename ... on Trigger { id disabled nextDate } ... on Error { message } } }"""
BACKFILL = """mutation($ns: String!, $f: String!, $t: String!, $s: DateTime!, $e: DateTime,
                       $i: JSON) {
  backfillTrigger(namespace: $ns, flowId: $f, triggerId: $t, start: $s, end: $e, inputs: $i) {
    __typename
    ... on Backfill { executions { id inputs labels { key value } trigger { variables } } }
    ... on Error { message } } }"""


@pytest.fixture(scope="module")
def api(server_factory: Callable[..., Server]) -> Iterator[Server]:
    """A server of this module's own (its schedules fire every second while it runs); its flows
    are deleted at the end so their triggers stop."""
    server = server_factory()
    yield server
    for flow in server.data("{ flows { namespace id } }")["flows"]:
        server.data(
            "mutation($ns: String!, $id: String!) { deleteFlow(namespace: $ns, id: $id) {"
            " __typename } }",
            {"ns": flow["namespace"], "id": flow["id"]},
        )


def executions(api: Server, namespace: str, flow_id: str) -> list[dict[str, Any]]:
    edges = api.data(TRIGGERED, {"ns": namespace, "f": flow_id})["executions"]["edges"]
    return [edge["node"] for edge in edges]


def wait_for(
    found: Callable[[], list[dict[str, Any]]], count: int, timeout: float = 20
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        items = found()
        if len(items) >= count:
            return items
        assert time.monotonic() < deadline, f"{len(items)} of {count} after {timeout}s"
        time.sleep(0.1)


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_schedule_fires_each_date_with_its_variables(api: Server) -> None:
    api.deploy("trig.sched", "each", EVERY_SECOND.format(namespace="trig.sched", flow_id="each"))
    items = wait_for(lambda: executions(api, "trig.sched", "each"), 3)
    for item in items:
        assert item["trigger"]["id"] == "tick"
        assert item["trigger"]["type"] == f"{T}.Schedule"
        assert {"key": "team", "value": "core"} in item["labels"]
        # Kestra's ScheduleTest.successWithInput: the trigger's inputs, the flow's defaults
        assert item["inputs"] == {"input1": "input1", "input2": "default"}
    dated = [item for item in items if item["state"]["current"] == "SUCCESS"]
    assert dated, items
    for item in dated:
        variables = item["trigger"]["variables"]
        date = instant(variables["date"])
        assert date.microsecond == 0 and variables["date"].endswith("Z")
        assert instant(variables["previous"]) == date - timedelta(seconds=1)
        assert instant(variables["next"]) == date + timedelta(seconds=1)
        rendered = item["taskRunList"][0]["outputs"]["value"]
        assert rendered == f"{variables['date']}|{variables['previous']}|{variables['next']}"
    dates = sorted(item["trigger"]["variables"]["date"] for item in items)
    assert len(dates) == len(set(dates)), "a date fired twice"
    listed = api.data(TRIGGERS, {"ns": "trig.sched"})["triggers"]
    (tick,) = [t for t in listed if t["flowId"] == "each"]
    assert tick["type"] == f"{T}.Schedule" and tick["disabled"] is False
    assert instant(tick["nextDate"]) > instant(dates[-1]) - timedelta(seconds=1)
    assert tick["lastExecutionId"] in {item["id"] for item in executions(api, "trig.sched", "each")}


def test_set_trigger_disabled_stops_the_dates_and_enabling_starts_after_now(api: Server) -> None:
    ns = "trig.switch"
    api.deploy(ns, "each", EVERY_SECOND.format(namespace=ns, flow_id="each"))
    wait_for(lambda: executions(api, ns, "each"), 1)
    off = api.data(SET_DISABLED, {"ns": ns, "f": "each", "t": "tick", "d": True})
    assert off["setTriggerDisabled"] == {
        "__typename": "Trigger",
        "id": "tick",
        "disabled": True,
        "nextDate": None,
    }
    # that no date fires while it is off is checked on the fake clock
    # (tests/engine/test_schedule_clock.py); here, what the API shows
    (listed,) = api.data(TRIGGERS, {"ns": ns})["triggers"]
    assert listed["disabled"] is True and listed["nextDate"] is None
    switched_on = datetime.now().astimezone()
    before = len(executions(api, ns, "each"))
    api.data(SET_DISABLED, {"ns": ns, "f": "each", "t": "tick", "d": False})
    items = wait_for(lambda: executions(api, ns, "each"), before + 2)
    new_dates = sorted(i["trigger"]["variables"]["date"] for i in items)[before:]
    # the dates while it was off never fire: the first new one is after it was switched on
    assert instant(new_dates[0]) > switched_on - timedelta(seconds=1)
    missing = api.data(SET_DISABLED, {"ns": ns, "f": "each", "t": "nope", "d": True})
    assert missing["setTriggerDisabled"]["__typename"] == "NotFoundError"


def test_a_trigger_disabled_in_its_yaml_is_listed_off(api: Server) -> None:
    """That it fires nothing, and that the triggers of a flow disabled by `setFlowDisabled`
    fire nothing, is checked on the fake clock (tests/engine/test_schedule_clock.py); here,
    what the API shows."""
    ns = "trig.flowoff"
    source = EVERY_SECOND.format(namespace=ns, flow_id="yaml").replace(
        "withSeconds: true", "withSeconds: true\n    disabled: true"
    )
    api.deploy(ns, "yaml", source)
    listed = {t["flowId"]: t for t in api.data(TRIGGERS, {"ns": ns})["triggers"]}
    assert listed["yaml"]["disabled"] is True and listed["yaml"]["nextDate"] is None
    assert executions(api, ns, "yaml") == []


UPSTREAM = """\
id: {flow_id}
namespace: {namespace}
outputs:
  - id: answer
    type: STRING
    value: "{{{{ outputs.r.value }}}}"
tasks:
  - id: r
    type: io.kestra.plugin.core.debug.Return
    format: "{answer}"
  - id: maybe
    type: io.kestra.plugin.core.execution.Fail
    runIf: "{fail}"
"""

DOWNSTREAM = f"""\
id: {{flow_id}}
namespace: trig.down
tasks:
  - id: seen
    type: io.kestra.plugin.core.debug.Return
    format: "{{{{{{{{ trigger.flowId }}}}}}}} {{{{{{{{ trigger.state }}}}}}}}"
triggers:
  - id: after
    type: {T}.Flow
    conditions:
{{conditions}}
"""


def downstream(flow_id: str, conditions: str) -> str:
    return DOWNSTREAM.format(flow_id=flow_id, conditions=conditions)


def test_flow_trigger_starts_when_the_conditions_hold(api: Server) -> None:
    api.deploy("trig.up", "good", UPSTREAM.format(
        namespace="trig.up", flow_id="good", answer="42", fail="false"))  # fmt: skip
    api.deploy("trig.up.sub", "bad", UPSTREAM.format(
        namespace="trig.up.sub", flow_id="bad", answer="0", fail="true"))  # fmt: skip
    on_success = f"""\
      - type: {C}.ExecutionStatusCondition
        in: [SUCCESS]
      - type: {C}.ExecutionFlowCondition
        namespace: trig.up
        flowId: good
"""
    not_failed = f"""\
      - type: {C}.ExecutionStatusCondition
        notIn: [FAILED]
      - type: {C}.ExecutionNamespaceCondition
        namespace: trig.up
        comparison: PREFIX
"""
    exact_ns = f"""\
      - type: {C}.ExecutionNamespaceCondition
        namespace: trig.up.sub
"""
    api.deploy("trig.down", "on-success", downstream("on-success", on_success))
    api.deploy("trig.down", "not-failed", downstream("not-failed", not_failed))
    api.deploy("trig.down", "exact-ns", downstream("exact-ns", exact_ns))
    time.sleep(2.2)  # a Flow trigger counts the ends from its first look (once a second)
    good = api.run("trig.up", "good")
    bad = api.run("trig.up.sub", "bad")
    (started,) = wait_for(lambda: executions(api, "trig.down", "on-success"), 1)
    assert started["trigger"] == {
        "id": "after",
        "type": f"{T}.Flow",
        "variables": {
            "executionId": good,
            "namespace": "trig.up",
            "flowId": "good",
            "flowRevision": 1,
            "state": "SUCCESS",
            "outputs": {"answer": "42"},
        },
    }
    api.wait_terminal(started["id"])
    (done,) = executions(api, "trig.down", "on-success")
    assert done["taskRunList"][0]["outputs"]["value"] == "good SUCCESS"
    (prefixed,) = wait_for(lambda: executions(api, "trig.down", "not-failed"), 1)
    assert prefixed["trigger"]["variables"]["executionId"] == good
    (exact,) = wait_for(lambda: executions(api, "trig.down", "exact-ns"), 1)
    assert exact["trigger"]["variables"]["executionId"] == bad
    assert exact["trigger"]["variables"]["state"] == "FAILED"
    time.sleep(1.0)  # nothing else starts: each end fires each matching trigger once
    assert len(executions(api, "trig.down", "on-success")) == 1
    assert len(executions(api, "trig.down", "not-failed")) == 1
    assert len(executions(api, "trig.down", "exact-ns")) == 1


HOURLY = f"""\
id: hourly
namespace: trig.backfill
inputs:
  - id: who
    type: STRING
    defaults: nobody
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ inputs.who }}}} at {{{{ trigger.date }}}}"
triggers:
  - id: top
    type: {T}.Schedule
    cron: "0 * * * *"
    inputs:
      who: schedule
  - id: hook
    type: {T}.Webhook
    key: backfill-key-0123456789
"""


def test_backfill_creates_one_execution_per_date_oldest_first(api: Server) -> None:
    api.deploy("trig.backfill", "hourly", HOURLY)
    answer = api.data(
        BACKFILL,
        {
            "ns": "trig.backfill",
            "f": "hourly",
            "t": "top",
            "s": "2024-01-01T00:00:00Z",
            "e": "2024-01-01T03:00:00Z",
            "i": {"who": "backfill"},
        },
    )["backfillTrigger"]
    assert answer["__typename"] == "Backfill"
    created = answer["executions"]
    dates = [item["trigger"]["variables"]["date"] for item in created]
    assert dates == [f"2024-01-01T0{hour}:00:00Z" for hour in range(4)]
    assert created[0]["trigger"]["variables"]["previous"] == "2023-12-31T23:00:00Z"
    for item in created:
        assert {"key": "system.backfill", "value": "true"} in item["labels"]
        assert item["inputs"] == {"who": "backfill"}
    stored = executions(api, "trig.backfill", "hourly")
    assert sorted(item["id"] for item in stored) == sorted(item["id"] for item in created)
    for item in created:
        assert api.wait_terminal(item["id"]) == "SUCCESS"


@pytest.mark.parametrize(
    ("trigger", "start", "end", "error"),
    [
        ("nope", "2024-01-01T00:00:00Z", None, "NotFoundError"),
        ("hook", "2024-01-01T00:00:00Z", None, "InvalidStateError"),
        ("top", "2024-01-02T00:00:00Z", "2024-01-01T00:00:00Z", "InvalidInputsError"),
        ("top", "2000-01-01T00:00:00Z", "2024-01-01T00:00:00Z", "InvalidInputsError"),
    ],
)
def test_backfill_refusals(
    api: Server, trigger: str, start: str, end: str | None, error: str
) -> None:
    api.deploy("trig.backfill", "hourly", HOURLY)
    answer = api.data(
        BACKFILL, {"ns": "trig.backfill", "f": "hourly", "t": trigger, "s": start, "e": end}
    )["backfillTrigger"]
    assert answer["__typename"] == error, answer
    assert answer["message"]


@pytest.mark.timing
def test_a_backfill_over_decades_leaves_the_loop_free(api: Server) -> None:
    """Counting the dates of 24 years of an hourly cron (refused past 10,000) took ~2 s of
    croniter on the event loop, which serves every request: /health waited that long. The dates
    are now counted on a thread."""
    api.deploy("trig.backfill", "hourly", HOURLY)
    variables = {"ns": "trig.backfill", "f": "hourly", "t": "top"}
    with health_waits(api.url) as waits:
        time.sleep(0.2)  # the probe's client is connected
        answer = api.data(
            BACKFILL, {**variables, "s": "2000-01-01T00:00:00Z", "e": "2024-01-01T00:00:00Z"}
        )["backfillTrigger"]
    assert answer["__typename"] == "InvalidInputsError", answer
    assert len(waits) > 10 and max(waits) < 0.5, f"/health waited {max(waits):.2f} s"
