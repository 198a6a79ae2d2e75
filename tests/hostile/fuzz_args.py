"""Hostile arguments for every GraphQL operation: the fuzz's table of operations, each argument
with its declared type, and generators of values that fit the type badly (or not at all)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.hostile import fuzz_values as fv


@dataclass
class Pools:
    """Real things on the server, so that hostile calls also reach existing objects."""

    ended: list[str] = field(default_factory=list)  # terminal executions
    paused: list[str] = field(default_factory=list)  # PAUSED executions of the pause fixture
    task_runs: list[str] = field(default_factory=list)
    cursors: list[str] = field(default_factory=list)
    flows: list[tuple[str, str]] = field(default_factory=list)  # deployed by fuzz cases


Gen = Callable[[random.Random, Pools], Any]


def pick(rng: random.Random, items: list[Any], otherwise: Any) -> Any:
    """An item of a pool, drawing once whether or not the pool is empty: the draws of a case
    stay the same when it runs alone (`TERCEL_FUZZ_ONLY`) with pools of other contents."""
    roll = rng.random()
    return items[int(roll * len(items))] if items else otherwise


def text(rng: random.Random, pools: Pools) -> Any:
    roll = rng.random()
    if roll < 0.15:
        return pick(rng, pools.ended, "none")
    if roll < 0.25:
        return pick(rng, pools.cursors, "HEAD")
    return fv.text(rng)[1]


def execution_id(rng: random.Random, pools: Pools) -> Any:
    roll = rng.random()
    if roll < 0.3:
        return pick(rng, pools.ended, "none")
    if roll < 0.4:
        return pick(rng, pools.paused, "none")
    return text(rng, pools)


def task_run_id(rng: random.Random, pools: Pools) -> Any:
    return pick(rng, pools.task_runs, "none") if rng.random() < 0.4 else text(rng, pools)


def integer(rng: random.Random, pools: Pools) -> Any:
    return rng.choice([*(v for t, v in fv.NUMBERS if t.startswith("int")), 1, 100, 101, 1.5])


def duration(rng: random.Random, pools: Pools) -> Any:
    return rng.choice([*fv.DURATIONS, fv.text(rng)[1]])


def date(rng: random.Random, pools: Pools) -> Any:
    return rng.choice(fv.DATES)


def states(rng: random.Random, pools: Pools) -> Any:
    return rng.sample(fv.STATES, rng.randint(0, 3))


def anything(rng: random.Random, pools: Pools) -> Any:
    return fv.any_value(rng)[1]


def labels_filter(rng: random.Random, pools: Pools) -> Any:
    return [{"key": text(rng, pools), "value": text(rng, pools)} for _ in range(rng.randint(0, 3))]


def _filter(keys: dict[str, Gen]) -> Gen:
    def generate(rng: random.Random, pools: Pools) -> Any:
        chosen = rng.sample(sorted(keys), rng.randint(1, min(4, len(keys))))
        return {key: keys[key](rng, pools) for key in chosen}

    return generate


def _range(rng: random.Random, pools: Pools) -> Any:
    return {"gte": date(rng, pools), "lt": date(rng, pools)}


COMMON_FILTER: dict[str, Gen] = {
    "state": states, "stateNotIn": states, "namespace": text, "namespaceEquals": text,
    "flowId": text, "startDate": _range, "endDate": _range, "q": text,
}  # fmt: skip
EXECUTION_FILTER = _filter(
    {**COMMON_FILTER, "labels": labels_filter, "timeRange": duration,
     "parentId": execution_id, "originalId": execution_id}
)  # fmt: skip
TASK_RUN_FILTER = _filter(
    {**COMMON_FILTER, "executionId": execution_id, "taskId": text, "parentTaskRunId": text}
)
STATE_CHANGE_FILTER = _filter(
    {"namespace": text, "flowId": text, "labels": labels_filter, "states": states,
     "entities": lambda rng, _: rng.sample(["EXECUTION", "TASK_RUN", "ATTEMPT", "NOPE"], 2)}
)  # fmt: skip


def _order(fields: list[str]) -> Gen:
    return lambda rng, _: {"field": rng.choice([*fields, "NOPE"]), "direction": "ASC"}


def level(rng: random.Random, pools: Pools) -> Any:
    return rng.choice(["TRACE", "ERROR", "NOPE", fv.text(rng)[1]])


@dataclass(frozen=True)
class Operation:
    kind: str  # query, mutation or subscription
    name: str
    args: tuple[tuple[str, str, Gen], ...]  # (argument, declared type, generator)
    selection: str


EXECUTION_SELECTION = "id state { current } labels { key value } inputs outputs"
RESULT = "__typename ... on Execution { id state { current } } ... on Error { message }"
ID_ARG = (("id", "ID!", execution_id),)

QUERIES = [
    Operation("query", "execution", ID_ARG, EXECUTION_SELECTION),
    Operation(
        "query", "executions",
        (("filter", "ExecutionFilter", EXECUTION_FILTER), ("first", "Int", integer),
         ("after", "String", text),
         ("orderBy", "ExecutionOrder", _order(["START_DATE", "DURATION", "STATE"]))),
        f"totalCount edges {{ cursor node {{ {EXECUTION_SELECTION} }} }} pageInfo {{ endCursor }}",
    ),
    Operation(
        "query", "taskRuns",
        (("filter", "TaskRunFilter", TASK_RUN_FILTER), ("first", "Int", integer),
         ("after", "String", text), ("orderBy", "TaskRunOrder", _order(["CREATION", "STATE"]))),
        "totalCount edges { cursor node { id taskId value outputs } } pageInfo { endCursor }",
    ),
    Operation("query", "flow", (("namespace", "String!", text), ("id", "String!", text)),
              "id source description labels { key value } inputs outputs"),
    Operation("query", "flows", (("namespace", "String", text),),
              "id description labels { key value } inputs"),
    Operation("query", "flowRevisions", (("namespace", "String!", text), ("id", "String!", text)),
              "revision source"),
    Operation(
        "query", "stateChanges",
        (("executionId", "ID", execution_id), ("after", "String", text), ("first", "Int", integer),
         ("filter", "StateChangeFilter", STATE_CHANGE_FILTER)),
        "edges { cursor node { state taskId value } } pageInfo { endCursor }",
    ),
    Operation(
        "query", "logs",
        (("executionId", "ID!", execution_id), ("after", "String", text),
         ("first", "Int", integer), ("minLevel", "LogLevel", level)),
        "edges { node { level message } } pageInfo { endCursor }",
    ),
    Operation(
        "query", "executionStats",
        (("filter", "ExecutionFilter", EXECUTION_FILTER), ("bucket", "Duration!", duration)),
        "ended p50 max buckets { total }",
    ),
]  # fmt: skip

MUTATIONS = [
    Operation("mutation", name, ID_ARG, RESULT)
    for name in ("killExecution", "restartExecution", "deleteExecution")
] + [
    Operation("mutation", "resumeExecution", (*ID_ARG, ("inputs", "JSON", anything)), RESULT),
    Operation("mutation", "replayExecution", (*ID_ARG, ("taskRunId", "ID", task_run_id)), RESULT),
    Operation("mutation", "deleteFlow", (("namespace", "String!", text), ("id", "String!", text)),
              "__typename ... on Error { message }"),
    Operation("mutation", "setFlowDisabled",
              (("namespace", "String!", text), ("id", "String!", text),
               ("disabled", "Boolean!", lambda rng, _: rng.choice([True, False, "yes", 2]))),
              "__typename ... on Error { message }"),
    Operation("mutation", "validateFlow", (("source", "String!", text),),
              "__typename ... on Error { message }"),
]  # fmt: skip

SUBSCRIPTIONS = [
    Operation(
        "subscription", "stateChanges",
        (("executionId", "ID", execution_id), ("after", "String", text),
         ("filter", "StateChangeFilter", STATE_CHANGE_FILTER)),
        "cursor state",
    ),
    Operation("subscription", "executionUpdated", (*ID_ARG, ("after", "String", text)),
              "cursor execution { id state { current } }"),
    Operation(
        "subscription", "logs",
        (("executionId", "ID!", execution_id), ("after", "String", text),
         ("minLevel", "LogLevel", level)),
        "message level",
    ),
]  # fmt: skip


def literal(value: Any) -> str:
    """`value` as a GraphQL literal (a hostile key gives a document that does not parse)."""
    if isinstance(value, fv.Raw):
        return value.text
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, str):
        return value if value.isupper() and value.replace("_", "").isalpha() else json.dumps(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return json.dumps(value)


def document(
    rng: random.Random, pools: Pools, op: Operation
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A document calling `op` with hostile arguments, as variables or inline literals; its
    variables, and the argument values it holds either way."""
    chosen = [arg for arg in op.args if arg[1].endswith("!") or rng.random() < 0.6]
    values = {}
    for name, _kind, generate in chosen:
        wrong = rng.random() < 0.25  # a value of any kind, whatever the declared type
        values[name] = anything(rng, pools) if wrong else generate(rng, pools)
    if rng.random() < 0.25:
        call = ", ".join(f"{name}: {literal(values[name])}" for name, _, _ in chosen)
        body = f"{op.name}({call})" if chosen else op.name
        return f"{op.kind} {{ {body} {{ {op.selection} }} }}", {}, values
    declared = ", ".join(f"${name}: {kind}" for name, kind, _ in chosen)
    call = ", ".join(f"{name}: ${name}" for name, _, _ in chosen)
    head = f"{op.kind}({declared})" if chosen else op.kind
    body = f"{op.name}({call})" if chosen else op.name
    return f"{head} {{ {body} {{ {op.selection} }} }}", values, values
