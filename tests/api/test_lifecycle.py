"""Lifecycle actions end to end through the GraphQL mutations of a running server.

semantics.md#retry-new-execution (CREATE_NEW_EXECUTION), #pause, #kill, #restart, #replay; the
mutations' union members (semantics.md#api-limits) and their answers (semantics.md#durability).
"""

from __future__ import annotations

import time
from typing import Any

from tests.api.conftest import FLOW, SLEEPER, Server
from tests.api.lifecycle_helpers import (
    RESULT,
    act,
    current,
    delete,
    get,
    group_gone,
    live_members,
    mutation,
    process_group,
    run_of,
    states,
    task_ids,
    wait_end,
    wait_for,
    wait_state,
)

SHELL_SLEEP = """\
id: shell
namespace: {namespace}
tasks:
  - id: nap
    type: io.kestra.plugin.scripts.shell.Commands
    commands: ["sleep 30"]
"""

PAUSE = """\
id: pause
namespace: {namespace}
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: resumed
"""

FLAKY = """\
id: flaky
namespace: {namespace}
tasks:
  - id: before
    type: io.kestra.plugin.core.log.Log
    message: before
  - id: flaky
    type: io.kestra.plugin.scripts.shell.Commands
    commands: ["test {{{{ taskrun.attemptsCount }}}} -ge 1"]
  - id: last
    type: io.kestra.plugin.core.log.Log
    message: last
errors:
  - id: on_error
    type: io.kestra.plugin.core.log.Log
    message: failed
finally:
  - id: always
    type: io.kestra.plugin.core.log.Log
    message: always
"""

ALWAYS_FAILS = """\
id: always
namespace: {namespace}
tasks:
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
errors:
  - id: on_error
    type: io.kestra.plugin.core.log.Log
    message: failed
"""

APPROVAL = """\
id: approval
namespace: {namespace}
tasks:
  - id: gate
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: approved
        type: BOOLEAN
      - id: n
        type: INT
        min: 3
  - id: after
    type: io.kestra.plugin.core.debug.Return
    format: "{{{{ outputs.gate.onResume.approved }}}}-{{{{ outputs.gate.onResume.n }}}}"
"""

FIVE_LOGS = """\
id: logs
namespace: {namespace}
tasks:
""" + "".join(
    f"""  - id: t{i}
    type: io.kestra.plugin.core.log.Log
    message: "log {i}"
"""
    for i in range(1, 6)
)

RETRIED = """\
id: retried
namespace: {namespace}
retry:
  type: constant
  interval: PT0.1S
  maxAttempt: 3
  behavior: CREATE_NEW_EXECUTION
tasks:
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
"""


def _deploy(api: Server, template: str, namespace: str, flow_id: str) -> None:
    api.deploy(namespace, flow_id, template.format(namespace=namespace))


# ------------------------------------------------------------------------------------------ kill


def _attempt_running(execution: dict[str, Any]) -> bool:
    return any(
        run["attempts"] and run["attempts"][-1]["state"]["current"] == "RUNNING"
        for run in execution["taskRunList"]
    )


def test_kill_running_shell_task(api: Server) -> None:
    ns = "life.kill.shell"
    _deploy(api, SHELL_SLEEP, ns, "shell")
    execution_id = api.create(ns, "shell")
    running = wait_for(api, execution_id, _attempt_running, what="a RUNNING attempt")
    run_id = run_of(running, "nap")["id"]
    pgid = process_group(api, run_id)
    assert live_members(pgid), "the shell process group runs before the kill"

    started = time.monotonic()
    answer = act(api, "killExecution", execution_id)
    assert answer["__typename"] == "Execution" and answer["id"] == execution_id
    assert states(answer) == ["CREATED", "RUNNING", "KILLING"]  # as the kill committed it
    ended = wait_end(api, execution_id, timeout=5)
    took = time.monotonic() - started
    assert ended["state"]["current"] == "KILLED"
    assert took < 3.0, f"the kill took {took:.2f}s"

    assert states(ended) == ["CREATED", "RUNNING", "KILLING", "KILLED"]
    nap = run_of(ended, "nap")
    assert states(nap) == ["CREATED", "RUNNING", "KILLED"]
    assert [states(a) for a in nap["attempts"]] == [["CREATED", "RUNNING", "KILLED"]]
    deadline = time.monotonic() + 1
    while not group_gone(pgid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert group_gone(pgid), f"processes left in group {pgid}: {live_members(pgid)}"


def test_kill_paused_execution(api: Server) -> None:
    ns = "life.kill.paused"
    _deploy(api, PAUSE, ns, "pause")
    execution_id = api.create(ns, "pause")
    wait_state(api, execution_id, "PAUSED")
    answer = act(api, "killExecution", execution_id)
    assert answer["__typename"] == "Execution"
    assert answer["state"]["current"] in ("KILLING", "KILLED")
    ended = wait_end(api, execution_id)
    assert states(ended) == ["CREATED", "RUNNING", "PAUSED", "KILLING", "KILLED"]
    assert task_ids(ended) == ["wait"]  # nothing is created while KILLING
    pause = run_of(ended, "wait")
    assert states(pause) == ["CREATED", "RUNNING", "PAUSED", "KILLING", "KILLED"]
    assert pause["attempts"] is None


def test_kill_finished_and_unknown(api: Server) -> None:
    ns = "life.kill.done"
    api.deploy(ns)
    done = api.run(ns)
    refused = act(api, "killExecution", done)
    assert refused["__typename"] == "InvalidStateError"
    assert refused["message"] == "Execution is already finished, can't kill it"
    assert refused["current"] == "SUCCESS"
    assert current(api, done) == "SUCCESS"
    missing = act(api, "killExecution", "no-such-execution")
    assert missing["__typename"] == "NotFoundError"
    assert missing["kind"] == "execution" and missing["missing"] == "no-such-execution"


# --------------------------------------------------------------------------------------- restart


def test_restart_failed_execution(api: Server) -> None:
    ns = "life.restart"
    _deploy(api, FLAKY, ns, "flaky")
    execution_id = api.create(ns, "flaky")
    failed = wait_end(api, execution_id)
    assert failed["state"]["current"] == "FAILED"
    assert task_ids(failed) == ["before", "flaky", "on_error", "always"]
    first_always = run_of(failed, "always")["id"]
    before = run_of(failed, "before")

    answer = act(api, "restartExecution", execution_id, RESULT)
    assert answer["__typename"] == "Execution" and answer["id"] == execution_id
    assert answer["parentId"] is None and answer["originalId"] == execution_id
    assert answer["metadata"]["attemptNumber"] == 2
    assert states(answer) == ["CREATED", "RUNNING", "FAILED", "RESTARTED"]
    assert task_ids(answer) == ["before", "flaky"]  # errors and finally task runs removed
    assert states(run_of(answer, "flaky")) == ["CREATED", "RUNNING", "FAILED", "RESTARTED"]
    assert [a["state"]["current"] for a in run_of(answer, "flaky")["attempts"]] == ["FAILED"]

    ended = wait_end(api, execution_id)
    assert ended["state"]["current"] == "SUCCESS"
    assert states(ended) == ["CREATED", "RUNNING", "FAILED", "RESTARTED", "RUNNING", "SUCCESS"]
    assert ended["metadata"]["attemptNumber"] == 2
    assert task_ids(ended) == ["before", "flaky", "last", "always"]  # no failure: no errors
    flaky = run_of(ended, "flaky")
    assert flaky["id"] == run_of(failed, "flaky")["id"]
    assert states(flaky) == ["CREATED", "RUNNING", "FAILED", "RESTARTED", "RUNNING", "SUCCESS"]
    assert [a["state"]["current"] for a in flaky["attempts"]] == ["FAILED", "SUCCESS"]
    assert run_of(ended, "before") == before  # a SUCCESS task does not re-run
    always = run_of(ended, "always")
    assert always["id"] != first_always  # finally ran again, as a new task run
    assert states(always) == ["CREATED", "RUNNING", "SUCCESS"]


def test_restart_always_failing_reruns_errors(api: Server) -> None:
    """Kestra's restart_always_failed: restart removes the `errors` task run, which runs again."""
    ns = "life.restart.always"
    _deploy(api, ALWAYS_FAILS, ns, "always")
    execution_id = api.create(ns, "always")
    failed = wait_end(api, execution_id)
    assert failed["state"]["current"] == "FAILED"
    assert task_ids(failed) == ["boom", "on_error"]
    first_error = run_of(failed, "on_error")["id"]
    answer = act(api, "restartExecution", execution_id)
    assert answer["__typename"] == "Execution"
    ended = wait_for(
        api,
        execution_id,
        lambda ex: ex["state"]["current"] == "FAILED" and len(states(ex)) > 3,
        what="FAILED again",
    )
    assert states(ended) == ["CREATED", "RUNNING", "FAILED", "RESTARTED", "RUNNING", "FAILED"]
    assert task_ids(ended) == ["boom", "on_error"]
    boom = run_of(ended, "boom")
    assert states(boom) == ["CREATED", "RUNNING", "FAILED", "RESTARTED", "RUNNING", "FAILED"]
    assert [a["state"]["current"] for a in boom["attempts"]] == ["FAILED", "FAILED"]
    on_error = run_of(ended, "on_error")
    assert on_error["id"] != first_error and states(on_error) == ["CREATED", "RUNNING", "SUCCESS"]


def test_restart_refusals(api: Server) -> None:
    ns = "life.restart.refused"
    api.deploy(ns)
    api.deploy(ns, "sleeper", SLEEPER.format(namespace=ns))
    done = api.run(ns)
    nothing = act(api, "restartExecution", done)
    assert nothing["__typename"] == "InvalidStateError"
    assert nothing["message"] == "No task found to restart execution from!"
    assert current(api, done) == "SUCCESS"

    active = api.create(ns, "sleeper")
    running = act(api, "restartExecution", active)
    assert running["__typename"] == "InvalidStateError"
    assert running["message"].startswith("Execution must be terminated to be restarted")
    assert running["current"] in ("CREATED", "RUNNING")
    assert act(api, "killExecution", active)["__typename"] == "Execution"
    assert wait_end(api, active)["state"]["current"] == "KILLED"
    killed = act(api, "restartExecution", active)  # a KILLED task run is not a target
    assert killed["__typename"] == "InvalidStateError"
    assert killed["message"] == "No task found to restart execution from!"

    missing = act(api, "restartExecution", "no-such-execution")
    assert missing["__typename"] == "NotFoundError"


# ---------------------------------------------------------------------------------------- resume


def test_resume_with_inputs(api: Server) -> None:
    ns = "life.resume"
    _deploy(api, APPROVAL, ns, "approval")
    execution_id = api.create(ns, "approval")
    paused = wait_state(api, execution_id, "PAUSED")
    assert states(run_of(paused, "gate")) == ["CREATED", "RUNNING", "PAUSED"]

    invalid = act(api, "resumeExecution", execution_id, inputs={"approved": "maybe", "n": 1})
    assert invalid["__typename"] == "InvalidInputsError"
    assert [issue["input"] for issue in invalid["issues"]] == ["approved", "n"]
    assert invalid["issues"][0]["message"] == (
        "Invalid input for `approved`, expected BOOLEAN, but received `maybe`"
    )
    assert invalid["issues"][1]["message"] == (
        "Invalid input for `n`, it must be more than `3`, but received `1`"
    )
    missing = act(api, "resumeExecution", execution_id, inputs={})
    assert missing["__typename"] == "InvalidInputsError"
    assert [issue["input"] for issue in missing["issues"]] == ["approved", "n"]
    still = get(api, execution_id)
    assert still is not None and still["state"]["current"] == "PAUSED"
    assert states(still) == ["CREATED", "RUNNING", "PAUSED"]
    assert run_of(still, "gate")["outputs"] is None

    answer = act(
        api, "resumeExecution", execution_id, inputs={"approved": "true", "n": "5", "extra": 1}
    )
    assert answer["__typename"] == "Execution" and answer["id"] == execution_id
    assert answer["state"]["current"] in ("RESTARTED", "RUNNING")
    assert states(answer)[:4] == ["CREATED", "RUNNING", "PAUSED", "RESTARTED"]
    ended = wait_end(api, execution_id)
    assert ended["state"]["current"] == "SUCCESS"
    assert states(ended) == ["CREATED", "RUNNING", "PAUSED", "RESTARTED", "RUNNING", "SUCCESS"]
    gate = run_of(ended, "gate")
    assert states(gate) == ["CREATED", "RUNNING", "PAUSED", "SUCCESS"]
    assert gate["outputs"] == {"onResume": {"approved": True, "n": 5}}
    assert run_of(ended, "after")["outputs"] == {"value": "true-5"}

    again = act(api, "resumeExecution", execution_id, inputs={"approved": True, "n": 5})
    assert again["__typename"] == "InvalidStateError"
    assert again["current"] == "SUCCESS"
    unknown = act(api, "resumeExecution", "no-such-execution")
    assert unknown["__typename"] == "NotFoundError"


# ---------------------------------------------------------------------------------------- replay


CHANGES = """query($id: ID!) { stateChanges(executionId: $id, first: 100) {
  edges { node { entity state taskRunId } } } }"""


def test_replay_from_a_task_run(api: Server) -> None:
    ns = "life.replay"
    _deploy(api, FIVE_LOGS, ns, "logs")
    old_id = api.run(ns, "logs")
    old = get(api, old_id)
    assert old is not None and old["state"]["current"] == "SUCCESS"
    second = old["taskRunList"][1]

    answer = act(api, "replayExecution", old_id, RESULT, taskRunId=second["id"])
    assert answer["__typename"] == "Execution"
    new_id = answer["id"]
    assert new_id != old_id
    assert answer["parentId"] == old_id and answer["originalId"] == old["originalId"] == old_id
    assert answer["metadata"]["attemptNumber"] == 2
    assert states(answer) == [*states(old), "RESTARTED"]
    assert task_ids(answer) == ["t1", "t2"]
    assert states(answer["taskRunList"][1]) == ["CREATED", "RUNNING", "SUCCESS", "RESTARTED"]

    ended = wait_end(api, new_id)
    assert ended["state"]["current"] == "SUCCESS"
    assert states(ended) == [*states(old), "RESTARTED", "RUNNING", "SUCCESS"]
    assert ended["metadata"]["attemptNumber"] == 2
    assert ended["metadata"]["originalCreatedDate"] == old["metadata"]["originalCreatedDate"]
    assert task_ids(ended) == ["t1", "t2", "t3", "t4", "t5"]
    assert not {r["id"] for r in ended["taskRunList"]} & {r["id"] for r in old["taskRunList"]}
    first, again = ended["taskRunList"][:2]
    assert first["state"] == old["taskRunList"][0]["state"]  # copied as it was
    assert first["attempts"] == old["taskRunList"][0]["attempts"]
    assert states(again) == ["CREATED", "RUNNING", "SUCCESS", "RESTARTED", "RUNNING", "SUCCESS"]
    assert [a["state"]["current"] for a in again["attempts"]] == ["SUCCESS", "SUCCESS"]
    assert states(again["attempts"][0]) == states(second["attempts"][0])
    for run in ended["taskRunList"][2:]:
        assert states(run) == ["CREATED", "RUNNING", "SUCCESS"] and len(run["attempts"]) == 1
    # the copied histories are in the new execution's state-change log, in order
    log = api.data(CHANGES, {"id": new_id})["stateChanges"]["edges"]
    changes = [edge["node"] for edge in log]
    assert [c["state"] for c in changes if c["entity"] == "EXECUTION"] == states(ended)
    for run in ended["taskRunList"]:
        entries = [c for c in changes if c["entity"] == "TASK_RUN" and c["taskRunId"] == run["id"]]
        assert [c["state"] for c in entries] == states(run), run["taskId"]
    assert get(api, old_id) == old  # the replayed execution is untouched


def test_replay_from_the_start(api: Server) -> None:
    ns = "life.replay.start"
    _deploy(api, FIVE_LOGS, ns, "logs")
    old_id = api.run(ns, "logs")
    answer = act(api, "replayExecution", old_id, RESULT)
    assert answer["__typename"] == "Execution"
    new_id = answer["id"]
    assert new_id != old_id and answer["parentId"] == old_id and answer["originalId"] == old_id
    assert answer["metadata"]["attemptNumber"] == 2
    assert states(answer) == ["CREATED"] and answer["taskRunList"] == []
    ended = wait_end(api, new_id)
    assert ended["state"]["current"] == "SUCCESS"
    assert states(ended) == ["CREATED", "RUNNING", "SUCCESS"]
    assert ended["metadata"]["attemptNumber"] == 2 and ended["originalId"] == old_id
    assert task_ids(ended) == ["t1", "t2", "t3", "t4", "t5"]


def test_replay_refusals(api: Server) -> None:
    ns = "life.replay.refused"
    api.deploy(ns)
    api.deploy(ns, "sleeper", SLEEPER.format(namespace=ns))
    done = api.run(ns)
    unknown_run = act(api, "replayExecution", done, taskRunId="no-such-task-run")
    assert unknown_run["__typename"] == "NotFoundError"
    assert unknown_run["missing"] == "no-such-task-run"
    unknown = act(api, "replayExecution", "no-such-execution")
    assert unknown["__typename"] == "NotFoundError" and unknown["kind"] == "execution"

    active = api.create(ns, "sleeper")
    wait_state(api, active, "RUNNING")
    refused = act(api, "replayExecution", active)
    assert refused["__typename"] == "InvalidStateError"
    assert refused["current"] == "RUNNING"
    assert act(api, "killExecution", active)["__typename"] == "Execution"
    assert wait_end(api, active)["state"]["current"] == "KILLED"


# ------------------------------------------------------------------------- CREATE_NEW_EXECUTION

CHAIN = """query($f: ExecutionFilter) {
  executions(filter: $f, orderBy: {field: START_DATE, direction: ASC}) { edges { node {
    id parentId originalId state { current histories { state } }
    metadata { attemptNumber originalCreatedDate }
    taskRunList { taskId state { current histories { state } } }
  } } } }"""


def test_flow_retry_creates_new_executions(api: Server) -> None:
    ns = "life.retry"
    _deploy(api, RETRIED, ns, "retried")
    first_id = api.create(ns, "retried")
    flt = {"namespaceEquals": ns, "flowId": "retried"}

    def chain() -> list[dict[str, Any]]:
        body = api.gql(CHAIN, {"f": flt})
        if body.get("errors"):  # a read torn by a concurrent commit: read again
            return []
        return [edge["node"] for edge in body["data"]["executions"]["edges"]]

    deadline = time.monotonic() + 10
    nodes = chain()
    while not (len(nodes) >= 3 and nodes[-1]["state"]["current"] == "FAILED"):
        assert time.monotonic() < deadline, nodes
        time.sleep(0.05)
        nodes = chain()
    # No wait for a fourth: a replacement is created in the very commit that ends its
    # predecessor RETRIED (actions/newexecution.py), and the third ended FAILED.
    assert len(nodes) == 3, nodes
    assert [n["state"]["current"] for n in nodes] == ["RETRIED", "RETRIED", "FAILED"]
    assert nodes[0]["id"] == first_id
    assert [n["parentId"] for n in nodes] == [None, nodes[0]["id"], nodes[1]["id"]]
    assert {n["originalId"] for n in nodes} == {first_id}
    assert [n["metadata"]["attemptNumber"] for n in nodes] == [1, 2, 3]
    assert len({n["metadata"]["originalCreatedDate"] for n in nodes}) == 1
    # a top-level failure: FAILED, then RETRIED (semantics.md#retry-new-execution); the last failure
    # stands
    for node in nodes[:2]:
        assert states(node) == ["CREATED", "RUNNING", "FAILED", "RETRIED"]
        assert [states(run) for run in node["taskRunList"]] == [
            ["CREATED", "RUNNING", "FAILED", "RETRIED"]
        ]
    assert states(nodes[2]) == ["CREATED", "RUNNING", "FAILED"]
    assert [states(run) for run in nodes[2]["taskRunList"]] == [["CREATED", "RUNNING", "FAILED"]]


# ---------------------------------------------------------------------------------------- delete


def test_delete_terminal_and_running(api: Server) -> None:
    ns = "life.delete"
    api.deploy(ns, "hello", FLOW.format(namespace=ns, flow_id="hello"))
    api.deploy(ns, "sleeper", SLEEPER.format(namespace=ns))
    done = api.run(ns)
    gone = delete(api, done)
    assert gone["__typename"] == "Execution" and gone["id"] == done
    assert gone["state"]["current"] == "SUCCESS"
    assert get(api, done) is None

    active = api.create(ns, "sleeper")
    wait_state(api, active, "RUNNING")
    refused = delete(api, active)
    assert refused["__typename"] == "InvalidStateError" and refused["current"] == "RUNNING"
    assert wait_for(api, active, lambda ex: True)["id"] == active  # still there
    act(api, "killExecution", active)
    assert wait_end(api, active)["state"]["current"] == "KILLED"
    killed = delete(api, active)
    assert killed["__typename"] == "Execution" and killed["state"]["current"] == "KILLED"
    assert get(api, active) is None


# ----------------------------------- answers as committed (semantics.md#durability)


def _answer(api: Server, field: str, execution_id: str, **extra: Any) -> dict[str, Any] | str:
    """The full answer, or the GraphQL errors' text when there is no answer."""
    variables = {"id": execution_id, **extra}
    body = api.gql(mutation(field, RESULT), variables)
    if body.get("errors"):
        return f"{field}: {body['errors']}"
    found: dict[str, Any] = body["data"][field]
    return found


def test_answers_are_the_mutations_commit(api: Server) -> None:
    """semantics.md#durability: each mutation answers the execution as ITS commit left it: KILLING
    for the kill of a running shell task, RESTARTED for a restart, the RESTARTED copy for a replay
    from a task run, the CREATED copy (no task runs) for a replay from the start, RESTARTED (or
    RUNNING) for a resume."""
    ns = "life.answers"
    _deploy(api, FLAKY, ns, "flaky")
    _deploy(api, APPROVAL, ns, "approval")
    _deploy(api, FIVE_LOGS, ns, "logs")
    _deploy(api, SHELL_SLEEP, ns, "shell")
    wrong: list[str] = []
    for _ in range(3):
        shell_id = api.create(ns, "shell")
        run_id = run_of(wait_for(api, shell_id, _attempt_running), "nap")["id"]
        process_group(api, run_id)  # the process runs
        killing = _answer(api, "killExecution", shell_id)
        if isinstance(killing, str) or states(killing) != ["CREATED", "RUNNING", "KILLING"]:
            wrong.append(f"kill: {killing if isinstance(killing, str) else states(killing)}")
        wait_end(api, shell_id)

        old_id = api.run(ns, "logs")
        second = wait_end(api, old_id)["taskRunList"][1]
        copy = _answer(api, "replayExecution", old_id, taskRunId=second["id"])
        if isinstance(copy, str) or copy["state"]["current"] != "RESTARTED":
            wrong.append(f"replay from t2: {copy if isinstance(copy, str) else states(copy)}")
        elif task_ids(copy) != ["t1", "t2"] or states(copy["taskRunList"][1]) != [
            "CREATED",
            "RUNNING",
            "SUCCESS",
            "RESTARTED",
        ]:
            wrong.append(f"replay from t2: task runs {copy['taskRunList']}")
        fresh = _answer(api, "replayExecution", old_id, taskRunId=None)
        if isinstance(fresh, str) or states(fresh) != ["CREATED"] or fresh["taskRunList"]:
            wrong.append(f"replay: {fresh if isinstance(fresh, str) else states(fresh)}")

        failed_id = api.create(ns, "flaky")
        wait_end(api, failed_id)
        restarted = _answer(api, "restartExecution", failed_id)
        expected = ["CREATED", "RUNNING", "FAILED", "RESTARTED"]
        if isinstance(restarted, str) or states(restarted) != expected:
            wrong.append(
                f"restart: {restarted if isinstance(restarted, str) else states(restarted)}"
            )
        elif states(run_of(restarted, "flaky")) != expected:
            wrong.append(f"restart: flaky {states(run_of(restarted, 'flaky'))}")

        paused_id = api.create(ns, "approval")
        wait_state(api, paused_id, "PAUSED")
        resumed = _answer(api, "resumeExecution", paused_id, inputs={"approved": True, "n": 3})
        if isinstance(resumed, str) or resumed["state"]["current"] not in ("RESTARTED", "RUNNING"):
            wrong.append(f"resume: {resumed if isinstance(resumed, str) else states(resumed)}")
        copies = [c["id"] for c in (copy, fresh) if not isinstance(c, str)]
        for execution_id in (failed_id, paused_id, *copies):
            wait_end(api, execution_id)
    assert not wrong, "\n".join(wrong)
