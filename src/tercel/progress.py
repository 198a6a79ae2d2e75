"""Live progress of `tercel run` on stderr: state changes and logs as they commit, then a
summary table. Plain text (stderr is usually not a terminal for scripts and CI)."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, TextIO

from tercel.engine import durations, model, states

if TYPE_CHECKING:
    from tercel.engine.runtime import scheduler

__all__ = ["Reporter"]

S = states.StateType

_PAUSE_WAITS = {
    "PAUSE_DELAY": "its delay",
    "PAUSE_TIMEOUT": "its timeout; nothing can resume it while `tercel run` holds the database",
}


class Reporter:
    def __init__(self, stream: TextIO, execution_id: str) -> None:
        self.stream, self.execution_id = stream, execution_id

    def replay(self, batches: Iterable[scheduler.Batch]) -> None:
        for batch in batches:
            self.batch(batch)

    def batch(self, batch: scheduler.Batch) -> None:
        """Print the batch's state changes and logs of the execution in the order they happened.

        A commit holds both kinds (the more so on a loaded host, where one commit gathers more
        of the loop's work), and each kind is in its own order: they are merged by date so that
        a log line never comes after a later state change (a Log before a Pause printed after
        the PAUSED line).
        """
        logs = [
            (log.timestamp, f"{_stamp(log.timestamp)} {log.level.name:<5} {log.task_id or '-'} "
             f"{log.message}")
            for log in batch.changes.logs
            if log.execution_id == self.execution_id
        ]  # fmt: skip
        lines = [line for _, line in heapq.merge(self._changes(batch), logs, key=_date)]
        if lines:
            self.stream.write("\n".join(lines) + "\n")
            self.stream.flush()

    def _changes(self, batch: scheduler.Batch) -> list[tuple[datetime, str]]:
        """The execution's state changes, each PAUSED task run followed by what it waits for."""
        waits = self._waits(batch)
        lines: list[tuple[datetime, str]] = []
        for row in batch.changes.states:
            if row.execution_id != self.execution_id or row.entity is states.Entity.ATTEMPT:
                continue
            if row.entity is states.Entity.EXECUTION:
                lines.append((row.date, f"{_stamp(row.date)} execution {row.state.value}"))
                continue
            where = f"{row.task_id}[{row.value}]" if row.value is not None else str(row.task_id)
            lines.append((row.date, f"{_stamp(row.date)} {where} {row.state.value}"))
            if row.state is S.PAUSED and row.task_run_id in waits:
                lines.append(waits.pop(row.task_run_id))
        return lines + list(waits.values())

    def _waits(self, batch: scheduler.Batch) -> dict[str | None, tuple[datetime, str]]:
        """A Pause that waits says so, and until when (a run would otherwise look stuck), by
        task run id."""
        lines: dict[str | None, tuple[datetime, str]] = {}
        for timer in batch.changes.timers_added:
            if timer.execution_id != self.execution_id or timer.kind not in _PAUSE_WAITS:
                continue
            run = batch.changes.task_runs.get(timer.task_run_id or "")
            if run is None:
                continue
            until = timer.due.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            date = run.state.histories[-1].date
            why = _PAUSE_WAITS[timer.kind]
            line = f"{_stamp(date)} {run.task_id} PAUSED: waits until {until} ({why})"
            lines[timer.task_run_id] = (date, line)
        return lines

    def summary(self, ex: model.Execution) -> None:
        rows = [
            (
                run.task_id + (f"[{run.value}]" if run.value is not None else ""),
                run.state.current.value,
                _took(run.state),
            )
            for run in ex.task_runs
        ]
        width = max([len(r[0]) for r in rows] + [4])
        out = [f"\nexecution {ex.id} {ex.state.current.value} in {_took(ex.state)}"]
        out += [f"  {name:<{width}}  {state:<9} {took}" for name, state, took in rows]
        self.stream.write("\n".join(out) + "\n")


def _date(line: tuple[datetime, str]) -> datetime:
    return line[0]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S.%f")[:-3]


def _took(state: states.State) -> str:
    return durations.format_duration(state.histories[-1].date - state.start_date)
