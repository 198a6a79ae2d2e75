"""Live progress of `tercel run` on stderr: state changes and logs as they commit, then a
summary table. Plain text (stderr is usually not a terminal for scripts and CI)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TextIO

from tercel.engine import durations, model, states

if TYPE_CHECKING:
    from tercel.engine import scheduler

__all__ = ["Reporter"]


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
            stamp = row.date.strftime("%H:%M:%S.%f")[:-3]
            if row.entity is states.Entity.EXECUTION:
                lines.append(f"{stamp} execution {row.state.value}")
            else:
                where = f"{row.task_id}[{row.value}]" if row.value is not None else str(row.task_id)
                lines.append(f"{stamp} {where} {row.state.value}")
        for log in batch.changes.logs:
            if log.execution_id != self.execution_id:
                continue
            stamp = log.timestamp.strftime("%H:%M:%S.%f")[:-3]
            lines.append(f"{stamp} {log.level.name:<5} {log.task_id or '-'} {log.message}")
        if lines:
            self.stream.write("\n".join(lines) + "\n")
            self.stream.flush()

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


def _took(state: states.State) -> str:
    return durations.format_duration(state.histories[-1].date - state.start_date)
