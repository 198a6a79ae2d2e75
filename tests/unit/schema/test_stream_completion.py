"""The stream events (`StateChange`, `LogEntry`) on the fast completion path: every event of a
subscription must answer exactly what graphql-core's own path answers, and a selection's
completer is built once per subscription operation, not once per event."""

from __future__ import annotations

import asyncio
import inspect
from datetime import UTC, datetime
from typing import Any

import pytest
from bench import uiwatch
from graphql import parse
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from tests.api import documents

from tercel.engine import changes, model, states
from tercel.engine.flows import loader
from tercel.engine.run import creation
from tercel.engine.runtime import pubsub
from tercel.resolvers.build import build_schema
from tercel.resolvers.live import fanout
from tercel.schema import execution
from tercel.schema.streams import LogEntry, StateChange
from tercel.settings import Settings
from tercel.storage.read import streams as rows

SCHEMA = build_schema(Settings(db_path=":memory:"))._schema
NOW = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
FLOW = loader.load_flow(
    "id: f\nnamespace: company.team\nlabels:\n  team: a\n"
    "tasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
)

#: the web UI's list document, with what a client may add: aliases, fragments, directives
LIST = """subscription ($on: Boolean!, $filter: StateChangeFilter) {
  stateChanges(after: "HEAD", filter: $filter) {
    cursor sequence executionId state date __typename
    alias: state
    previous @include(if: $on)
    taskId @skip(if: $on)
    ...More
    execution { id namespace flowId labels { key value } parentId originalId
                metadata { attemptNumber } state { current startDate endDate } }
  }
}
fragment More on StateChange { entity taskRunId attemptNumber value }"""
PLAIN_ONLY = """subscription { stateChanges(executionId: "E", after: "HEAD") {
  cursor sequence entity executionId taskRunId attemptNumber state previous date taskId value } }"""
#: every field of an execution that needs no read, aliased and under a fragment too
WHOLE_ROW = """subscription { stateChanges(after: "HEAD") { sequence execution {
  __typename id namespace flowId flowRevision inputs outputs labels { key value } parentId
  originalId trigger { id type variables } s: state { current }
  metadata { attemptNumber originalCreatedDate } ...Whole } } }
fragment Whole on Execution { state { histories { state date } startDate endDate duration } }"""
#: a resolver the fast path does not answer: the whole row takes the general path
WITH_TASK_RUNS = """subscription { stateChanges(after: "HEAD") { sequence execution {
  id state { current } taskRunList { taskId state { current } } } } }"""
COMPANY = {"namespace": "company"}
UPDATES = 'subscription { executionUpdated(id: "E") { cursor execution { id } } }'
LOGS = """subscription { logs(executionId: "E") {
  cursor sequence taskRunId taskId attemptNumber level message timestamp t: __typename } }"""


def _state_events() -> list[StateChange]:
    created = creation.new_execution(FLOW, {}, [], NOW).ex
    first = StateChange.from_committed(_state_row(1, created, "CREATED", None), _event(created))
    assert first.execution is not None  # an execution's first live entry carries its row
    running = StateChange.from_committed(_state_row(2, created, "RUNNING", "CREATED"), _event())
    task_row = rows.StateChangeRow(
        seq=3, execution_id=created.id, entity="TASK_RUN", task_run_id="R1", attempt_number=1,
        state="SUCCESS", previous="RUNNING", date=NOW, task_id="t", value="x",
    )  # fmt: skip
    return [first, running, StateChange.from_row(task_row), running]


def _state_row(seq: int, ex: model.Execution, state: str, previous: str | None) -> changes.StateRow:
    return changes.StateRow(
        seq=seq, execution_id=ex.id, entity=states.Entity.EXECUTION, task_run_id=None,
        attempt_number=None, state=states.StateType(state),
        previous=None if previous is None else states.StateType(previous), date=NOW,
    )  # fmt: skip


def _event(created: model.Execution | None = None) -> pubsub.Event:
    """An event as the broker builds it; only `created` is read to build a payload."""
    return pubsub.Event(
        states=(), logs=(), committed={}, deleted=frozenset(), attributes={},
        touched=frozenset(), created={} if created is None else {created.id: created},
    )  # fmt: skip


def _log_events() -> list[LogEntry]:
    line = rows.LogRow(
        seq=7, execution_id="E", task_run_id="R1", task_id="t", attempt_number=1,
        level="INFO", message="hi", timestamp=NOW,
    )  # fmt: skip
    return [LogEntry.from_row(line), LogEntry.from_row(line)]


def _answers(kind: type[Any], document: str, events: list[Any], variables: Any) -> list[Any]:
    """Each event executed as a subscription executes it: a per-event copy of one executor."""
    executor = kind.build(SCHEMA, parse(document), raw_variable_values=variables)
    assert not isinstance(executor, list), executor  # variables coerced

    async def each() -> list[Any]:
        found = []
        for event in events:
            result = executor.build_per_event_executor(event).execute_operation()
            found.append(await result if inspect.isawaitable(result) else result)
        return found

    return asyncio.run(each())


#: (document, events, variables) answered whole on the fast path
WHOLE: list[tuple[str, Any, Any]] = [
    (LIST, _state_events, {"on": True, "filter": {"namespace": "company.team"}}),
    (LIST, _state_events, {"on": False}),
    (PLAIN_ONLY, _state_events, None),
    (WHOLE_ROW, _state_events, None),
    (documents.ui_list_subscription(), _state_events, {"after": "HEAD", "filter": COMPANY}),
    (uiwatch.SUBSCRIBE, _state_events, {"f": {**COMPANY, "entities": ["EXECUTION"]}}),
    (LOGS, _log_events, None),
]


@pytest.mark.parametrize(
    ("document", "events", "variables"), [*WHOLE, (WITH_TASK_RUNS, _state_events, None)]
)
def test_every_event_answers_what_graphql_core_answers(
    document: str, events: Any, variables: Any
) -> None:
    payloads = events()
    fast = _answers(execution.FastExecutionContext, document, payloads, variables)
    general = _answers(StrawberryGraphQLCoreExecutionContext, document, payloads, variables)
    assert [(r.data, r.errors) for r in fast] == [(r.data, r.errors) for r in general]
    assert all(r.errors is None for r in fast)


def test_a_subscription_builds_its_completers_once_for_all_its_events() -> None:
    built: list[object] = []

    class Counting(execution.FastExecutionContext):
        def _build(self, kind: Any, details: Any) -> execution.Completer:
            built.append(kind)
            return super()._build(kind, details)

    payloads = _state_events()[1:]  # no execution row: all on the fast path
    _answers(Counting, PLAIN_ONLY, payloads[:1], None)
    once = len(built)
    assert once > 0  # the fast path completed the event
    built.clear()
    _answers(Counting, PLAIN_ONLY, payloads, None)
    assert len(built) == once  # not once per event


def test_the_created_entry_and_its_execution_row_take_the_fast_path() -> None:
    """The open list asks for the row on every new execution's CREATED entry: it completes
    without graphql-core's object path (resolver calls, info objects), as the other entries do."""
    general: list[str] = []

    class Counting(execution.FastExecutionContext):
        def complete_object_value(self, return_type: Any, *args: Any) -> Any:
            general.append(return_type.name)
            return super().complete_object_value(return_type, *args)

    first = _state_events()[0]
    assert first.execution is not None
    [answer] = _answers(Counting, LIST, [first], {"on": True})
    assert answer.errors is None
    assert {"key": "team", "value": "a"} in answer.data["stateChanges"]["execution"]["labels"]
    assert general == []
    _answers(Counting, WITH_TASK_RUNS, [first], None)
    assert "Execution" in general  # taskRunList: the general path, which still answers it


@pytest.mark.parametrize(("document", "events", "variables"), WHOLE)
def test_a_rendered_event_is_the_frame_graphql_core_answers(
    document: str, events: Any, variables: Any
) -> None:
    """Every event of these documents (every state, the CREATED entry with its row) is rendered
    without graphql-core's per-event execution, into the very `data` JSON it answers."""
    payloads = events()
    render = _renderer(document, variables)
    assert render is not None
    general = _answers(StrawberryGraphQLCoreExecutionContext, document, payloads, variables)
    for payload, answer in zip(payloads, general, strict=True):
        assert answer.errors is None
        expected = fanout.json_text({"data": answer.data})
        assert fanout.json_text({"data": render(payload)}) == expected


def test_an_event_the_fast_path_cannot_answer_is_left_to_graphql_core() -> None:
    first, *others = _state_events()
    render = _renderer(WITH_TASK_RUNS, None)
    assert render is not None
    assert render(first) is None  # its row's taskRunList needs the general path
    general = _answers(StrawberryGraphQLCoreExecutionContext, WITH_TASK_RUNS, others, None)
    assert [render(p) for p in others] == [r.data for r in general]  # no row: rendered


def test_only_a_subscription_of_a_plain_root_field_is_rendered() -> None:
    assert _renderer(UPDATES, None) is None  # ExecutionUpdate: not a plain type
    assert _renderer("{ namespaces }", None) is None


def _renderer(document: str, variables: Any) -> execution.EventRenderer | None:
    executor = execution.FastExecutionContext.build(
        SCHEMA, parse(document), raw_variable_values=variables
    )
    assert isinstance(executor, execution.FastExecutionContext), executor
    return executor.event_renderer()
