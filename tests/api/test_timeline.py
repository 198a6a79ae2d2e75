"""`Execution.timeline`: the compact histories the Gantt draws first hold exactly what
`state` and `taskRunList` say (states, dates to the microsecond, tree, attempts by number)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.api.conftest import Server

from tercel.clock import to_micros

NS = "timeline"
FLOW = f"""id: mixed
namespace: {NS}
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b"]
    tasks:
      - id: item
        type: io.kestra.plugin.core.debug.Return
        format: "{{{{ taskrun.value }}}}"
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
    retry:
      type: constant
      interval: PT0.01S
      maxAttempt: 2
"""
HISTORY = "histories { state date }"
FULL = f"""query($id: ID!) {{ execution(id: $id) {{ state {{ {HISTORY} }} timeline
  taskRunList {{ id taskId parentTaskRunId value iteration state {{ {HISTORY} }}
                 attempts {{ state {{ {HISTORY} }} }} }} }} }}"""


def pairs(histories: list[dict[str, str]]) -> list[list[Any]]:
    return [[h["state"], to_micros(datetime.fromisoformat(h["date"]))] for h in histories]


def test_the_timeline_is_the_histories_compact(api: Server) -> None:
    api.deploy(NS, "mixed", FLOW)
    execution_id = api.run(NS, "mixed")
    found = api.data(FULL, {"id": execution_id})["execution"]
    timeline = found["timeline"]
    assert timeline["execution"] == pairs(found["state"]["histories"])
    assert timeline["execution"][-1][0] == "FAILED"
    expected = [
        {
            "id": run["id"],
            "taskId": run["taskId"],
            "parentTaskRunId": run["parentTaskRunId"],
            "value": run["value"],
            "iteration": run["iteration"],
            "histories": pairs(run["state"]["histories"]),
            "attempts": [pairs(a["state"]["histories"]) for a in run["attempts"] or []],
        }
        for run in found["taskRunList"]
    ]
    assert timeline["taskRuns"] == expected
    # the tree and the retry are there: two items under the ForEach, two attempts of `boom`
    loop = next(r for r in expected if r["taskId"] == "each")
    assert [r["value"] for r in expected if r["parentTaskRunId"] == loop["id"]] == ["a", "b"]
    boom = next(r for r in expected if r["taskId"] == "boom")
    assert [a[-1][0] for a in boom["attempts"]] == ["FAILED", "FAILED"]


def test_a_mutation_answers_with_the_timeline_in_memory(api: Server) -> None:
    api.deploy(NS, "mixed", FLOW)
    created = api.data(
        f"""mutation {{ createExecution(namespace: "{NS}", flowId: "mixed") {{
              ... on Execution {{ id state {{ {HISTORY} }} timeline }} }} }}"""
    )["createExecution"]
    assert created["timeline"] == {
        "execution": pairs(created["state"]["histories"]),
        "taskRuns": [],
    }
    api.wait_terminal(created["id"])
