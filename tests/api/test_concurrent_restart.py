"""#12 item 9 through GraphQL: two `restartExecution` sent at once on one FAILED execution: every
RESTARTED answer is a restart in the history (the other answer, if any, is InvalidStateError)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.api.conftest import Server

FAILING = """
id: failing
namespace: t.api.twice
tasks:
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
"""

RESTART = """mutation($id: ID!) { restartExecution(id: $id) {
  __typename ... on Execution { state { current } } ... on Error { message } } }"""


def test_two_concurrent_restarts_answer_what_was_committed(api: Server) -> None:
    api.deploy("t.api.twice", "failing", FAILING)
    execution_id = api.run("t.api.twice", "failing")

    def restart(_: int) -> dict[str, Any]:
        found: dict[str, Any] = api.data(RESTART, {"id": execution_id})["restartExecution"]
        return found

    restarted = 0
    for _ in range(10):  # each round restarts the execution that failed again
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(restart, range(2)))
        for answer in answers:
            if answer["__typename"] == "Execution":
                assert answer["state"]["current"] == "RESTARTED", answer
                restarted += 1
            else:  # the other one came while the first restart ran
                assert answer["__typename"] == "InvalidStateError", answer
        api.wait_terminal(execution_id)
    history = api.data(
        "query($id: ID!) { execution(id: $id) { state { histories { state } } } }",
        {"id": execution_id},
    )["execution"]["state"]["histories"]
    assert [h["state"] for h in history].count("RESTARTED") == restarted, history
