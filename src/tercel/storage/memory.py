"""`MemoryStore`: the engine's `Store` in dictionaries, for unit tests of passes and actions.

It keeps what the SQLite tables keep and gives back what `sqlite.Database` gives back: values
go through the same JSON codec, histories are rebuilt from the state-change rows in `seq`
order, a task run keeps its first plan, restart's removed task runs lose their attempts and
metrics, a commit is all or nothing. No thread and no file: a test commits a change set and
reads it back in the same call. `tests/unit/storage/test_store_contract.py` runs one contract
against both implementations. Flow revisions are kept by `memoryflows.MemoryFlows`, the
triggers' table by `memorytriggers`.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tercel.engine import changes, model, states
from tercel.engine.store import (
    ExecutionEnd,
    Loaded,
    StoredTrigger,
    TriggerKey,
)
from tercel.storage import memorytriggers
from tercel.storage.codec import dumps, loads
from tercel.storage.histories import HistoryKey, history_key
from tercel.storage.memoryflows import MemoryFlows

__all__ = ["MemoryStore"]

S = states.StateType


def _json(value: Any) -> Any:
    """The value as SQLite gives it back: through the JSON codec."""
    return loads(dumps(value))


@dataclass(slots=True)
class _Tables:
    executions: dict[str, model.Execution] = field(default_factory=dict)
    task_runs: dict[str, model.TaskRun] = field(default_factory=dict)
    plans: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: (task run id, attempt number) -> (execution id, metrics of the ended attempt)
    attempts: dict[tuple[str, int], tuple[str, list[model.Metric]]] = field(default_factory=dict)
    states: list[changes.StateRow] = field(default_factory=list)
    logs: list[changes.LogRow] = field(default_factory=list)
    timers: dict[str, changes.TimerRow] = field(default_factory=dict)
    #: (task run id, attempt number, process group id): one attempt may record several
    processes: set[tuple[str, int, int]] = field(default_factory=set)
    triggers: memorytriggers.TriggerTable = field(default_factory=dict)

    def copy(self) -> _Tables:
        """A copy that a commit can change and drop (each table copied, rows shared)."""
        return _Tables(
            dict(self.executions),
            dict(self.task_runs),
            dict(self.plans),
            dict(self.attempts),
            list(self.states),
            list(self.logs),
            dict(self.timers),
            set(self.processes),
            dict(self.triggers),
        )


class MemoryStore(MemoryFlows):
    """`engine.store.Store` in memory."""

    def __init__(self) -> None:
        super().__init__()
        self._t = _Tables()
        self._last_state_seq = self._last_log_seq = 0

    @property
    def last_state_seq(self) -> int:
        return self._last_state_seq

    @property
    def last_log_seq(self) -> int:
        return self._last_log_seq

    def close(self) -> None:
        """Nothing to release."""

    # ------------------------------------------------------------------ writes

    def commit(self, cs: changes.ChangeSet) -> None:
        state_seq, log_seq = self._last_state_seq, self._last_log_seq
        for row in cs.states:
            state_seq += 1
            row.seq = state_seq
        for log in cs.logs:
            log_seq += 1
            log.seq = log_seq
        try:
            tables = self._t.copy()
            _write(tables, cs)
        except BaseException:
            for row in cs.states:
                row.seq = 0
            for log in cs.logs:
                log.seq = 0
            raise
        self._t, self._last_state_seq, self._last_log_seq = tables, state_seq, log_seq

    def leftover_processes(self) -> list[tuple[str, int, int]]:
        return sorted(self._t.processes)

    def forget_processes(self) -> None:
        self._t.processes.clear()

    # ------------------------------------------------------------------ reads

    def load_executions(self, ids: Sequence[str]) -> Loaded:
        t = self._t
        histories = _histories(t.states, set(ids))
        found: list[model.Execution] = []
        plans: dict[str, dict[str, Any]] = {}
        for execution_id in ids:
            stored = t.executions.get(execution_id)
            if stored is None:
                continue
            runs = sorted(
                (r for r in t.task_runs.values() if r.execution_id == execution_id),
                key=lambda r: r.position,
            )
            task_runs = [_run(r, stored, histories, t.attempts) for r in runs]
            plans.update({r.id: copy.deepcopy(t.plans[r.id]) for r in runs if r.id in t.plans})
            found.append(
                dataclasses.replace(
                    copy.deepcopy(stored),
                    state=histories[("E", execution_id, None)],
                    task_runs=task_runs,
                )
            )
        return Loaded(found, plans)

    def active_execution_ids(self) -> list[str]:
        active = [ex for ex in self._t.executions.values() if ex.state.current not in _TERMINAL]
        active.sort(key=lambda ex: (ex.state.start_date, ex.id))
        return [ex.id for ex in active]

    def load_timers(self, execution_id: str | None = None) -> list[changes.TimerRow]:
        rows = [
            copy.deepcopy(t)
            for t in self._t.timers.values()
            if execution_id is None or t.execution_id == execution_id
        ]
        return sorted(rows, key=lambda t: t.due)

    # ------------------------------------------------------------------ triggers

    def trigger_states(self) -> dict[TriggerKey, StoredTrigger]:
        return memorytriggers.copied(self._t.triggers)

    def switched_off_triggers(self) -> set[TriggerKey]:
        return {key for key, found in self._t.triggers.items() if found.disabled}

    def executions_ended_since(self, seq: int) -> list[ExecutionEnd]:
        return memorytriggers.ended_since(self._t.executions, self._t.states, seq)

    def save_trigger_states(self, rows: Sequence[changes.TriggerStateRow]) -> None:
        memorytriggers.upsert(self._t.triggers, rows)

    def set_trigger_disabled(
        self, namespace: str, flow_id: str, trigger_id: str, disabled: bool
    ) -> None:
        memorytriggers.set_disabled(self._t.triggers, (namespace, flow_id, trigger_id), disabled)


_TERMINAL = frozenset(states.TERMINAL)


def _write(t: _Tables, cs: changes.ChangeSet) -> None:
    """`sqlite._write` on dictionaries, table by table in the same order."""
    if cs.deleted_executions:
        _delete_executions(t, set(cs.deleted_executions))
    for ex in cs.new_executions.values():
        if ex.id in t.executions:
            raise ValueError(f"execution {ex.id} is stored already")
        t.executions[ex.id] = _stored_execution(ex)
    for ex in cs.executions.values():
        stored = t.executions.get(ex.id)
        if stored is not None:
            t.executions[ex.id] = dataclasses.replace(
                stored, state=ex.state, outputs=_json(ex.outputs), attempt_number=ex.attempt_number
            )
    for run_id in cs.removed_task_runs:
        t.task_runs.pop(run_id, None)
        t.plans.pop(run_id, None)
        for key in [k for k in t.attempts if k[0] == run_id]:
            del t.attempts[key]
    for run in cs.task_runs.values():
        _upsert_run(t, run, cs.plans.get(run.id))
    for run, attempt in cs.attempts.values():
        _upsert_attempt(t, run, attempt)
    t.states.extend(dataclasses.replace(row) for row in cs.states)
    t.logs.extend(dataclasses.replace(row) for row in cs.logs)
    for timer_id in cs.timers_removed:
        t.timers.pop(timer_id, None)
    for timer in cs.timers_added:
        t.timers[timer.id] = dataclasses.replace(timer, payload=_json(timer.payload))
    memorytriggers.upsert(t.triggers, cs.trigger_states)
    t.processes.update(cs.processes)
    ended = set(cs.processes_ended)  # after the inserts: one commit may record and end one
    t.processes = {p for p in t.processes if (p[0], p[1]) not in ended}


def _delete_executions(t: _Tables, ids: set[str]) -> None:
    runs = {r.id for r in t.task_runs.values() if r.execution_id in ids}
    t.task_runs = {i: r for i, r in t.task_runs.items() if i not in runs}
    t.plans = {i: p for i, p in t.plans.items() if i not in runs}
    t.attempts = {k: a for k, a in t.attempts.items() if a[0] not in ids}
    t.states = [r for r in t.states if r.execution_id not in ids]
    t.logs = [r for r in t.logs if r.execution_id not in ids]
    t.timers = {i: r for i, r in t.timers.items() if r.execution_id not in ids}
    t.executions = {i: ex for i, ex in t.executions.items() if i not in ids}


def _stored_execution(ex: model.Execution) -> model.Execution:
    """The columns of an `executions` row, as the loader gives them back."""
    return dataclasses.replace(
        ex,
        inputs=_json(ex.inputs),
        outputs=_json(ex.outputs),
        labels=[model.Label(lb.key, lb.value) for lb in ex.labels],
        variables=_json(ex.variables) or {},
        original_created_date=ex.original_created_date or ex.state.start_date,
        trigger=_json(ex.trigger),
        task_runs=[],
    )


def _upsert_run(t: _Tables, run: model.TaskRun, plan: Any) -> None:
    stored = t.task_runs.get(run.id)
    outputs = _json(run.outputs)
    if stored is None:
        t.task_runs[run.id] = dataclasses.replace(run, attempts=None, outputs=outputs)
    else:
        t.task_runs[run.id] = dataclasses.replace(stored, position=run.position, outputs=outputs)
    if plan is not None:
        t.plans[run.id] = _json(plan)


def _upsert_attempt(t: _Tables, run: model.TaskRun, attempt: model.Attempt) -> None:
    key = (run.id, attempt.number)
    metrics = list(t.attempts.get(key, (run.execution_id, []))[1])
    if attempt.state.current.is_terminated:
        for position, m in enumerate(attempt.metrics):
            row = model.Metric(m.name, m.type, float(m.value), _json(m.tags) or {}, m.timestamp)
            metrics[position : position + 1] = [row]
    t.attempts[key] = (run.execution_id, metrics)


def _histories(rows: list[changes.StateRow], ids: set[str]) -> dict[HistoryKey, states.State]:
    entries: dict[HistoryKey, list[states.HistoryEntry]] = {}
    for r in sorted((r for r in rows if r.execution_id in ids), key=lambda r: r.seq):
        key = history_key(r.entity.value, r.execution_id, r.task_run_id, r.attempt_number)
        entries.setdefault(key, []).append(states.HistoryEntry(r.state, r.date))
    return {key: states.State(tuple(value)) for key, value in entries.items()}


def _run(
    stored: model.TaskRun,
    ex: model.Execution,
    histories: dict[HistoryKey, states.State],
    attempts: dict[tuple[str, int], tuple[str, list[model.Metric]]],
) -> model.TaskRun:
    """A task run as the loader rebuilds it: histories from the log, attempts in order."""
    found = [
        model.Attempt(number, histories[("A", run_id, number)], copy.deepcopy(metrics))
        for (run_id, number), (_, metrics) in sorted(attempts.items())
        if run_id == stored.id and ("A", run_id, number) in histories
    ]
    return dataclasses.replace(
        stored,
        namespace=ex.namespace,
        flow_id=ex.flow_id,
        state=histories[("T", stored.id, None)],
        attempts=found or None,
        outputs=copy.deepcopy(stored.outputs),
    )
