"""What the engine loop does once a batch is committed, and never before.

For each execution in memory: start the attempts the commit recorded (and deliver kill
requests), queue its new timers, look at it again when it waits for a free worker slot, hand
its end to a parent waiting on it as a subflow, and let it leave memory once nothing of it is
left to do. Then answer the commands, move the published sequences to the batch's last rows,
and hand the batch to every listener. Doing all this after the commit is what makes an
attempt, an answer or an event never precede the rows it depends on
(docs/architecture.md#walk, step 12).
"""

from __future__ import annotations

from tercel.engine.changes import Batch
from tercel.engine.run.execution import ExecutionState
from tercel.engine.runtime import commits
from tercel.engine.runtime.protocols import RunningLoop

__all__ = ["after_commit"]


def after_commit(engine: RunningLoop, batch: Batch, answered: commits.Answered) -> None:
    for execution_id, _ in batch.parts:  # stored again: a later failure is a new one
        engine.quarantined.discard(execution_id)
    for es in list(engine.active.values()):
        if es is engine.active.get(es.ex.id):  # else quarantined meanwhile
            _follow_up(engine, es, batch)
    commits.answer(answered)
    engine.last_batches.append(batch)
    found = batch.changes
    if found.states:  # the writer assigned increasing seqs in list order
        engine.published_state_seq = found.states[-1].seq
    if found.logs:
        engine.published_log_seq = found.logs[-1].seq
    commits.notify(engine.listeners, batch)


def _follow_up(engine: RunningLoop, es: ExecutionState, batch: Batch) -> None:
    """One execution after the commit (its attempts may fail it: then it is left alone)."""
    engine.guarded(es, engine.workers.start, es)
    execution_id = es.ex.id
    if es is not engine.active.get(execution_id):
        return
    for timer in batch.changes.timers_added:
        if timer.execution_id == execution_id:
            engine.timer_queue.push(timer)
    if (es.pending or es.waiting) and engine.slots.free > 0 and execution_id not in engine.held:
        engine.touch(execution_id)
    ended = es.ex.state.current.is_terminated
    if ended and engine.subflow_links.waited_for(execution_id):
        engine.subflow_links.ended(es.ex)
        engine.touch(execution_id)
    if (
        ended
        and not es.timers
        and es.changes.is_empty()  # a quarantined one: its failure is yet to commit
        and not engine.workers.running_for(es)
    ):
        del engine.active[execution_id]
