"""Helpers for the lifecycle tests: mutations by name, polling, histories, process groups."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.api.conftest import Server

HISTORY = "current histories { state }"

EXECUTION = f"""id parentId originalId
  state {{ {HISTORY} }}
  metadata {{ attemptNumber originalCreatedDate }}
  taskRunList {{
    id taskId parentTaskRunId outputs
    state {{ {HISTORY} }}
    attempts {{ state {{ {HISTORY} }} }}
  }}"""

ERRORS = """... on Error { message }
  ... on NotFoundError { kind missing: id }
  ... on InvalidStateError { current: state }
  ... on InvalidInputsError { issues { input message } }"""

#: the full answer: the execution with its task runs
RESULT = f"__typename ... on Execution {{ {EXECUTION} }} {ERRORS}"

#: the answer without task runs: execution row and history only
SHORT_RESULT = f"""__typename
  ... on Execution {{ id parentId originalId state {{ {HISTORY} }} metadata {{ attemptNumber }} }}
  {ERRORS}"""

ARGUMENTS = {
    "killExecution": {"id": "ID!"},
    "restartExecution": {"id": "ID!"},
    "resumeExecution": {"id": "ID!", "inputs": "JSON"},
    "replayExecution": {"id": "ID!", "taskRunId": "ID"},
}

TERMINAL = {"SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "RETRIED", "SKIPPED"}


def mutation(field: str, selection: str = SHORT_RESULT) -> str:
    kinds = ARGUMENTS[field]
    params = ", ".join(f"${name}: {kind}" for name, kind in kinds.items())
    call = ", ".join(f"{name}: ${name}" for name in kinds)
    return f"mutation({params}) {{ {field}({call}) {{ {selection} }} }}"


def act(
    api: Server, field: str, execution_id: str, selection: str = SHORT_RESULT, **extra: Any
) -> dict[str, Any]:
    """Call one lifecycle mutation and return its union member (any GraphQL error fails)."""
    variables = {"id": execution_id, **{k: extra.get(k) for k in ARGUMENTS[field] if k != "id"}}
    found: dict[str, Any] = api.data(mutation(field, selection), variables)[field]
    return found


def delete(api: Server, execution_id: str) -> dict[str, Any]:
    query = """mutation($id: ID!) { deleteExecution(id: $id) { __typename
      ... on Execution { id state { current } } ... on Error { message }
      ... on InvalidStateError { current: state } } }"""
    found: dict[str, Any] = api.data(query, {"id": execution_id})["deleteExecution"]
    return found


EXECUTION_QUERY = f"query($id: ID!) {{ execution(id: $id) {{ {EXECUTION} }} }}"

#: masked errors met while polling an execution that was changing (see `poll`)
TORN_READS: list[dict[str, Any]] = []


def get(api: Server, execution_id: str) -> dict[str, Any] | None:
    """`execution(id)`, strict: any GraphQL error fails the test."""
    found: dict[str, Any] | None = api.data(EXECUTION_QUERY, {"id": execution_id})["execution"]
    return found


def current(api: Server, execution_id: str) -> str:
    """The current state of an execution that exists and is not changing."""
    found = get(api, execution_id)
    assert found is not None, execution_id
    state: str = found["state"]["current"]
    return state


def poll(api: Server, execution_id: str) -> dict[str, Any] | None:
    """`execution(id)` while the engine changes it: an INTERNAL_SERVER_ERROR (a read torn by a
    concurrent commit, see test_polling_reads_are_consistent) is recorded and read as "not yet"."""
    body = api.gql(EXECUTION_QUERY, {"id": execution_id})
    errors = body.get("errors") or []
    if errors:
        codes = {e.get("extensions", {}).get("code") for e in errors}
        assert codes == {"INTERNAL_SERVER_ERROR"}, errors
        TORN_READS.extend(errors)
        return None
    found: dict[str, Any] | None = body["data"]["execution"]
    return found


def wait_for(
    api: Server,
    execution_id: str,
    check: Callable[[dict[str, Any]], bool],
    timeout: float = 10.0,
    what: str = "condition",
) -> dict[str, Any]:
    """Poll `execution(id)` until `check` holds; return that snapshot."""
    deadline = time.monotonic() + timeout
    found: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        found = poll(api, execution_id)
        if found is not None and check(found):
            return found
        time.sleep(0.02)
    raise AssertionError(f"{what} not reached for {execution_id} in {timeout}s: {found}")


def wait_state(
    api: Server, execution_id: str, *states: str, timeout: float = 10.0
) -> dict[str, Any]:
    return wait_for(
        api,
        execution_id,
        lambda ex: ex["state"]["current"] in states,
        timeout,
        what=f"state in {states}",
    )


def wait_end(api: Server, execution_id: str, timeout: float = 10.0) -> dict[str, Any]:
    return wait_state(api, execution_id, *TERMINAL, timeout=timeout)


def states(thing: dict[str, Any]) -> list[str]:
    """The history of an execution, task run or attempt, as a list of state names."""
    return [entry["state"] for entry in thing["state"]["histories"]]


def run_of(execution: dict[str, Any], task_id: str) -> dict[str, Any]:
    runs: list[dict[str, Any]] = [r for r in execution["taskRunList"] if r["taskId"] == task_id]
    assert len(runs) == 1, (task_id, execution["taskRunList"])
    return runs[0]


def task_ids(execution: dict[str, Any]) -> list[str]:
    return [run["taskId"] for run in execution["taskRunList"]]


def db_path(api: Server) -> str:
    path: str = api.app.state.services.settings.db_path
    return path


def process_group(api: Server, task_run_id: str, timeout: float = 10.0) -> int:
    """The pgid the engine recorded in `processes` for that task run (waits for the row)."""
    deadline = time.monotonic() + timeout
    uri = Path(db_path(api)).resolve().as_uri() + "?mode=ro"
    while time.monotonic() < deadline:
        conn = sqlite3.connect(uri, uri=True, timeout=5)
        try:
            row = conn.execute(
                "SELECT pgid FROM processes WHERE task_run_id = ? ORDER BY attempt_number DESC",
                (task_run_id,),
            ).fetchone()
        finally:
            conn.close()
        if row is not None:
            return int(row[0])
        time.sleep(0.02)
    raise AssertionError(f"no process recorded for task run {task_run_id}")


def live_members(pgid: int) -> list[tuple[int, str]]:
    """(pid, state) of every process of group `pgid` that is not a zombie."""
    alive: list[tuple[int, str]] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            alive.append((int(entry.name), state))
    return alive


def group_gone(pgid: int) -> bool:
    """No process of the group is left, or only zombies are."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return not live_members(pgid)
