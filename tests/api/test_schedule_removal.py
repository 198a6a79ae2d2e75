"""A Schedule whose flow is deleted, or whose trigger a new revision drops, over a real server:
the server keeps answering (the schedule runner once spun on the forgotten trigger's past date
without ever yielding the event loop). That a flow deployed again starts from its next date
instead of firing the dates it missed while it was gone is checked on the fake clock
(tests/engine/test_schedule_clock.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from tests.api.conftest import Server

SCHEDULED = """\
id: ticker
namespace: {namespace}
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: tick
{triggers}"""

EVERY_SECOND = """\
triggers:
  - id: tick
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "*/1 * * * * *"
    withSeconds: true
"""

PLAIN = """\
id: {flow_id}
namespace: {namespace}
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: plain
"""

DATES = """query($ns: String) { executions(filter: {namespace: $ns, flowId: "ticker"}, first: 100) {
  edges { node { trigger { variables } } } } }"""


def dates(api: Server, namespace: str) -> list[datetime]:
    edges = api.data(DATES, {"ns": namespace})["executions"]["edges"]
    found = [edge["node"]["trigger"]["variables"]["date"] for edge in edges]
    return sorted(datetime.fromisoformat(date.replace("Z", "+00:00")) for date in found)


def fired(api: Server, namespace: str, count: int) -> list[datetime]:
    deadline = time.monotonic() + 20
    while len(found := dates(api, namespace)) < count:
        assert time.monotonic() < deadline, f"{len(found)} of {count} dates fired"
        time.sleep(0.1)
    return found


def delete(api: Server, namespace: str) -> None:
    api.data(
        'mutation($ns: String!) { deleteFlow(namespace: $ns, id: "ticker") { __typename } }',
        {"ns": namespace},
    )


def drop_trigger(api: Server, namespace: str) -> None:
    api.deploy(namespace, "ticker", SCHEDULED.format(namespace=namespace, triggers=""))


@pytest.mark.parametrize("remove", [delete, drop_trigger], ids=["deleteFlow", "new-revision"])
def test_deploys_answer_after_a_schedule_went_away(
    server_factory: Callable[..., Server], remove: Callable[[Server, str], Any]
) -> None:
    """On a server of its own: before the fix this one hung for good."""
    api = server_factory()
    api.client = httpx.Client(timeout=5)  # a hang fails here instead of after 30 s
    namespace = "sched.gone"
    api.deploy(namespace, "ticker", SCHEDULED.format(namespace=namespace, triggers=EVERY_SECOND))
    fired(api, namespace, 1)
    remove(api, namespace)
    time.sleep(2.5)  # the forgotten trigger's next date is now past
    for flow_id in ("first", "second", "third"):
        api.deploy(namespace, flow_id, PLAIN.format(namespace=namespace, flow_id=flow_id))
    assert api.client.get(api.url + "/health").status_code == 200
    assert api.run(namespace, "second")
