"""The fuzz's cases: each one a function of a seeded `random.Random` and the live server, that
sends hostile values somewhere (a flow, execution inputs or labels, a resume, a query or
mutation argument, a subscription, a raw HTTP body) through the checked client."""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tests.hostile import fuzz_args as fa
from tests.hostile import fuzz_flows as ff
from tests.hostile import fuzz_values as fv
from tests.hostile.fuzz_client import Broken, Client

FIXTURES = "fuzz.fix"
CREATE = """mutation($ns: String!, $f: String!, $inputs: JSON, $labels: [LabelInput!]) {
  createExecution(namespace: $ns, flowId: $f, inputs: $inputs, labels: $labels) { %s } }"""
RESUME = "mutation($id: ID!, $inputs: JSON) { resumeExecution(id: $id, inputs: $inputs) { %s } }"
DEPLOY = "mutation($s: String!) { %s(source: $s) { __typename ... on Flow { namespace id } } }"
FLOW_READ = """query($ns: String!, $id: String!) {
  flow(namespace: $ns, id: $id) { source description labels { key value } inputs outputs }
  flows(namespace: $ns) { id labels { key value } description }
  flowRevisions(namespace: $ns, id: $id) { revision } }"""


DELETE_FLOW = (
    "mutation($ns: String!, $id: String!) { deleteFlow(namespace: $ns, id: $id) { __typename } }"
)


@contextlib.contextmanager
def quarantined(case: Case, deletion: str, variables: dict[str, Any]) -> Iterator[None]:
    """On a broken read, delete what was read (if the server lets us), so that later cases'
    listings do not fail because of it; the finding is raised all the same."""
    try:
        yield
    except Broken:
        last = case.client.last
        with contextlib.suppress(Broken):
            case.client.gql(deletion, variables)
        case.client.last = last
        raise


@dataclass
class Case:
    rng: random.Random
    client: Client
    pools: fa.Pools
    #: what the case sent, for the report
    notes: list[str] = field(default_factory=list)
    #: executions it created or set going again: they must settle
    created: list[str] = field(default_factory=list)
    #: whether it sent a mutation (the engine is probed afterwards)
    mutated: bool = False

    def gql(self, query: str, variables: Any = None) -> dict[str, Any]:
        self.mutated = self.mutated or query.lstrip().startswith("mutation")
        return self.client.gql(query, variables)

    def took(self, result: Any) -> None:
        """Note an execution a mutation answered with: it must settle."""
        if isinstance(result, dict) and result.get("__typename") == "Execution":
            self.created.append(result["id"])
            for pool in (self.pools.paused, self.pools.ended):
                if result["id"] in pool:
                    pool.remove(result["id"])


def _data(body: dict[str, Any], name: str) -> Any:
    return (body.get("data") or {}).get(name)


def create(case: Case, namespace: Any, flow_id: Any, inputs: Any, labels: Any) -> Any:
    variables = {"ns": namespace, "f": flow_id, "inputs": inputs, "labels": labels}
    found = _data(case.gql(CREATE % fa.RESULT, variables), "createExecution")
    case.took(found)
    return found


def flow_case(case: Case, index: int, *, expressions: bool = False) -> None:
    rng = case.rng
    flow = ff.template(rng, index)
    case.notes += ff.mutate_expressions(rng, flow) if expressions else ff.mutate(rng, flow)
    source, how = (fv.to_yaml(flow), "yaml") if expressions else ff.write(rng, flow)
    mutation = "validateFlow" if rng.random() < 0.15 else "deployFlow"
    case.notes.append(f"{mutation} as {how}")
    found = _data(case.gql(DEPLOY % mutation, {"s": source}), mutation)
    if not found or found.get("__typename") != "Flow":
        return
    namespace, flow_id = found["namespace"], found["id"]
    case.pools.flows.append((namespace, flow_id))
    inputs = _inputs(rng, case.pools) if rng.random() < 0.3 else None
    create(case, namespace, flow_id, inputs, None)
    with quarantined(case, DELETE_FLOW, {"ns": namespace, "id": flow_id}):
        case.gql(FLOW_READ, {"ns": namespace, "id": flow_id})


def expression_case(case: Case, index: int) -> None:
    flow_case(case, index, expressions=True)


def _inputs(rng: random.Random, pools: fa.Pools) -> Any:
    roll = rng.random()
    if roll < 0.7:
        chosen = rng.sample(ff.INPUT_IDS, rng.randint(1, 3))
        return {name: fv.any_value(rng)[1] for name in chosen}
    if roll < 0.85:
        return fv.any_value(rng)[1]
    return {fv.text(rng)[1]: fv.text(rng)[1]}  # an undeclared input


def _labels(rng: random.Random, pools: fa.Pools) -> Any:
    roll = rng.random()
    if roll < 0.6:
        return [{"key": fa.text(rng, pools), "value": fa.text(rng, pools)} for _ in range(2)]
    if roll < 0.7:
        return [{"key": "k", "value": fv.any_value(rng)[1]}]
    if roll < 0.8:
        return fv.any_value(rng)[1]
    return None


def create_case(case: Case, index: int) -> None:
    rng, pools = case.rng, case.pools
    roll, chosen = rng.random(), fa.pick(rng, pools.flows, None)
    if roll < 0.7 or chosen is None:
        namespace, flow_id = FIXTURES, "inputs"
    elif roll < 0.85:
        namespace, flow_id = chosen
    else:
        namespace, flow_id = fa.text(rng, pools), fa.text(rng, pools)
    inputs = _inputs(rng, pools) if rng.random() < 0.85 else None
    labels = _labels(rng, pools)
    case.notes.append(
        f"createExecution({fv.shorten(namespace)}/{fv.shorten(flow_id)}) "
        f"inputs={fv.shorten(inputs)} labels={fv.shorten(labels)}"
    )
    create(case, namespace, flow_id, inputs, labels)


def resume_case(case: Case, index: int) -> None:
    rng, pools = case.rng, case.pools
    if not pools.paused:
        paused = create(case, FIXTURES, "pause", None, None)
        if not paused or paused.get("__typename") != "Execution":
            raise Broken("fixture refused", f"createExecution(fuzz.fix/pause): {paused}")
        case.created.remove(paused["id"])
        wait_paused(case, paused["id"])
        pools.paused.append(paused["id"])
    execution_id = fa.pick(rng, pools.paused, None)
    if rng.random() < 0.75:
        inputs = {name: fv.any_value(rng)[1] for name in rng.sample(["r", "n", "x"], 2)}
    else:
        inputs = fv.any_value(rng)[1]
    case.notes.append(f"resumeExecution inputs={fv.shorten(inputs)}")
    variables = {"id": execution_id, "inputs": inputs}
    case.took(_data(case.gql(RESUME % fa.RESULT, variables), "resumeExecution"))


def wait_paused(case: Case, execution_id: str) -> None:
    """Wait (bounded) for a fixture execution to reach its Pause."""
    query = "query($id: ID!) { execution(id: $id) { state { current } } }"
    deadline = time.monotonic() + case.client.bounds.settle
    while time.monotonic() < deadline:
        found = _data(case.client.gql(query, {"id": execution_id}), "execution")
        if found and found["state"]["current"] == "PAUSED":
            return
        time.sleep(0.01)
    raise Broken("stuck execution", f"{execution_id} not PAUSED after the bound")


def _control_q(values: dict[str, Any]) -> str | None:
    """The filter's `q` when it holds a control character (NUL matched every row once)."""
    filters = values.get("filter")
    q = filters.get("q") if isinstance(filters, dict) else None
    if isinstance(q, str) and any(ord(c) < 32 or ord(c) == 127 for c in q):
        return q
    return None


def _operation_case(case: Case, operations: list[fa.Operation]) -> None:
    op = case.rng.choice(operations)
    query, variables, values = fa.document(case.rng, case.pools, op)
    case.notes.append(f"{op.name}: {query[:300]} variables={fv.shorten(variables, 300)}")
    body = case.gql(query, variables)
    q = _control_q(values)
    if q is not None and not body.get("errors"):  # graphql-api: refused as BAD_USER_INPUT
        raise Broken("control characters in q accepted", f"q={fv.shorten(q)} got an answer")
    found = _data(body, op.name)
    if op.name != "deleteExecution":  # a deleted execution is gone, not to be settled
        case.took(found)


def query_case(case: Case, index: int) -> None:
    _operation_case(case, fa.QUERIES)


def mutation_case(case: Case, index: int) -> None:
    _operation_case(case, fa.MUTATIONS)


Kind = Callable[[Case, int], None]
KINDS: list[tuple[Kind, int]] = [
    (flow_case, 24),
    (expression_case, 8),
    (create_case, 15),
    (resume_case, 8),
    (query_case, 18),
    (mutation_case, 9),
]
