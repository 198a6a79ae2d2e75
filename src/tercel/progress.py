"""Live progress of `tercel run` on stderr: state changes and logs as they commit, then a
summary table. Plain text (stderr is usually not a terminal for scripts and CI)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, TextIO

from tercel.engine import durations, model, states

if TYPE_CHECKING:
    from tercel.engine.runtime import scheduler

__all__ = ["Reporter"]

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
        lines: list[str] = []
        for row in batch.changes.states:
            if row.execution_id != self.execution_id or row.entity is states.Entity.ATTEMPT:
                continue
            stamp = _stamp(row.date)
            if row.entity is states.Entity.EXECUTION:
                lines.append(f"{stamp} execution {row.state.value}")
            else:
                where = f"{row.task_id}[{row.value}]" if row.value is not None else str(row.task_id)
                lines.append(f"{stamp} {where} {row.state.value}")
        lines += self._waits(batch)
        for log in batch.changes.logs:
            if log.execution_id != self.execution_id:
                continue
            stamp = _stamp(log.timestamp)
            lines.append(f"{stamp} {log.level.name:<5} {log.task_id or '-'} {log.message}")
        if lines:
            self.stream.write("\n".join(lines) + "\n")
            self.stream.flush()

    def _waits(self, batch: scheduler.Batch) -> list[str]:
        """A Pause that waits says so, and until when (a run would otherwise look stuck)."""
        lines = []
        for timer in batch.changes.timers_added:
            if timer.execution_id != self.execution_id or timer.kind not in _PAUSE_WAITS:
                continue
            run = batch.changes.task_runs.get(timer.task_run_id or "")
            if run is None:
                continue
            until = timer.due.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            stamp = _stamp(run.state.histories[-1].date)
            why = _PAUSE_WAITS[timer.kind]
            lines.append(f"{stamp} {run.task_id} PAUSED: waits until {until} ({why})")
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


def _stamp(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S.%f")[:-3]


def _took(state: states.State) -> str:
    return durations.format_duration(state.histories[-1].date - state.start_date)
