"""Schedule triggers, run by `tercel server` (docs/semantics.md#schedule).

One asyncio task beside the engine loop. Each tick it reads the latest revision of every flow,
and for each enabled Schedule trigger whose stored next date has come, creates the execution
through `service.create_execution` with the trigger's new state (the date after) added to the
creation's own commit. A crash before that commit leaves the old date stored (it fires again
after the restart), a crash after it leaves the new one: each date fires exactly once. The
runner is the only writer of next dates, and fires one date at a time, oldest first.

On the first look at a trigger after the server starts, dates missed while it was down follow
`recoverMissedSchedules`: ALL fires them all, LAST only the latest, NONE none. A date found
later than `lateMaximumDelay` is skipped with a WARN on stderr. A trigger that is off (its flow
disabled, `disabled: true`, `setTriggerDisabled`) forgets its next date: dates while it is off
never fire, and once on again it starts from the next date after that moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from tercel import clock as clocks
from tercel import failpoints
from tercel.engine import changes, faults, model, service
from tercel.engine.flows import triggerdefs
from tercel.engine.run.execution import ExecutionState
from tercel.engine.runtime.scheduler import Engine
from tercel.engine.triggers import flowindex

__all__ = [
    "ScheduleRunner",
    "iso",
    "record_last_execution",
    "schedule_variables",
    "start_triggered",
]

Key = tuple[str, str, str]
#: the longest sleep between two looks at the flows (a deploy is seen within it)
LOOK_SECONDS = 1.0
#: dates fired for one trigger per tick, so one long backlog does not hold up the others
DATES_PER_TICK = 100
_MICRO = timedelta(microseconds=1)


def iso(instant: datetime) -> str:
    """An ISO instant in UTC to the second (schedule dates are whole seconds)."""
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def schedule_variables(trigger: triggerdefs.ScheduleDef, date: datetime) -> dict[str, str]:
    """`trigger.date`, `trigger.next`, `trigger.previous` of the execution for `date`."""
    cron = trigger.cron
    return {
        "date": iso(date),
        "next": iso(cron.next_after(date)),
        "previous": iso(cron.previous_before(date)),
    }


def definition(trigger: triggerdefs.ScheduleDef) -> str:
    """What the stored next date was computed from; another one starts again from now."""
    cron = trigger.cron
    return f"{cron.expression.strip()}|{cron.with_seconds}|{cron.timezone}"


def record_last_execution(key: Key) -> Callable[[ExecutionState], None]:
    """Adds the trigger's last execution to the creation's commit (Flow and Webhook triggers)."""

    def record(es: ExecutionState) -> None:
        es.changes.trigger_states.append(changes.TriggerStateRow(*key, None, "", es.ex.id))

    return record


async def start_triggered(
    engine: Engine,
    flow: model.Flow,
    trigger: triggerdefs.TriggerDef,
    given: dict[str, Any] | None,
    variables: dict[str, Any],
    on_created: Callable[[ExecutionState], None] | None = None,
) -> service.Outcome:
    """Create the execution `trigger` starts, recording `{id, type, variables}` as its
    `trigger`; `on_created` adds the trigger's state to the creation's own commit."""
    key = (flow.namespace, flow.id, trigger.id)
    return await service.create_execution(
        engine,
        flow.namespace,
        flow.id,
        given,
        trigger={"id": trigger.id, "type": trigger.type, "variables": variables},
        on_created=on_created or record_last_execution(key),
    )


def warn(message: str) -> None:
    print(f"tercel: WARN {message}", file=sys.stderr, flush=True)


class ScheduleRunner:
    def __init__(self, engine: Engine, index: flowindex.FlowIndex) -> None:
        self.engine, self.index = engine, index
        self.stored: dict[Key, changes.TriggerStateRow] = {}
        #: triggers looked at while enabled since the start: their missed dates are handled
        self._awake: set[Key] = set()
        #: turned off by `setTriggerDisabled` (read each tick)
        self._off: set[Key] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        db = self.engine.db
        loaded = await self.engine.call(db.trigger_states)
        self.stored = {key: found.row for key, found in loaded.items()}
        self._task = asyncio.create_task(self._run(), name="tercel-schedules")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def poke(self) -> None:
        """Look again now (a deploy, a trigger switched on or off)."""
        self._wake.set()

    async def _run(self) -> None:
        while self.engine.stopped_reason is None:
            self._wake.clear()
            try:
                await self.tick()
            except faults.EngineUnavailable:
                pass  # the disk is full or the engine stops: the dates stay stored, try later
            except Exception:  # a bug here must not stop the schedules of every other flow
                traceback.print_exc(file=sys.stderr)
            await self._sleep()

    async def tick(self) -> None:
        await self.index.refresh()
        self._off = self.engine.loop_reads.switched_off_triggers()
        present: set[Key] = set()
        for flow in self.index.flows():
            for trigger in flow.triggers:
                if isinstance(trigger, triggerdefs.ScheduleDef):
                    present.add((flow.namespace, flow.id, trigger.id))
                    await self._schedule(flow, trigger)
        await self._forget_gone(present)

    async def _forget_gone(self, present: set[Key]) -> None:
        """A Schedule whose flow was deleted or whose trigger a new revision dropped is off
        for good: its past next date no longer cuts the sleep short (the runner once spun on
        it without yielding the loop), and deployed again it starts after that moment."""
        for key, found in list(self.stored.items()):
            if key not in present and found.next_date is not None:
                self._awake.discard(key)
                await self._save(key, changes.TriggerStateRow(*key, None, found.definition))

    async def _sleep(self) -> None:
        now = self.engine.clock.now()
        delay = LOOK_SECONDS
        for key in self._awake:
            found = self.stored.get(key)
            if found is not None and found.next_date is not None:
                delay = min(delay, (found.next_date - now).total_seconds())
        if delay <= 0:
            await asyncio.sleep(0)  # never starve the loop, whatever the stored dates say
            return
        await clocks.sleep_or_until(self.engine.clock, delay, self._wake)

    async def _schedule(self, flow: model.Flow, trigger: triggerdefs.ScheduleDef) -> None:
        key = (flow.namespace, flow.id, trigger.id)
        found = self.stored.get(key)
        if self.index.disabled(flow) or trigger.disabled or key in self._off:
            self._awake.discard(key)
            if found is not None and found.next_date is not None:
                # off: its dates do not fire; on again, it starts from the next date after then
                await self._save(key, changes.TriggerStateRow(*key, None, found.definition))
            return
        now = self.engine.clock.now()
        if found is None or found.next_date is None or found.definition != definition(trigger):
            first = trigger.cron.next_after(now)
            await self._save(key, changes.TriggerStateRow(*key, first, definition(trigger)))
            self._awake.add(key)
            return
        if key not in self._awake:
            await self._recover(key, trigger, found, now)
            self._awake.add(key)
        for _ in range(DATES_PER_TICK):
            due = self.stored[key].next_date
            if due is None or due > self.engine.clock.now():
                return
            await self._fire(flow, trigger, due)

    async def _recover(
        self,
        key: Key,
        trigger: triggerdefs.ScheduleDef,
        row: changes.TriggerStateRow,
        now: datetime,
    ) -> None:
        """Dates missed while the server was down (or the trigger off), per the policy."""
        policy, due = trigger.recover_missed_schedules, row.next_date
        if policy == "ALL" or due is None or due > now:
            return
        latest = trigger.cron.previous_before(now + _MICRO)
        kept = latest if policy == "LAST" else trigger.cron.next_after(now)
        if kept <= due:
            return
        name = ".".join(key)
        warn(
            f"trigger {name}: missed dates from {iso(due)} skipped (recoverMissedSchedules: "
            f"{policy}); next {iso(kept)}"
        )
        await self._save(key, changes.TriggerStateRow(*key, kept, row.definition))

    async def _fire(
        self, flow: model.Flow, trigger: triggerdefs.ScheduleDef, date: datetime
    ) -> None:
        key = (flow.namespace, flow.id, trigger.id)
        after = trigger.cron.next_after(date)
        state = changes.TriggerStateRow(*key, after, definition(trigger))
        late = trigger.late_maximum_delay
        if late is not None and self.engine.clock.now() > date + late:
            warn(
                f"trigger {'.'.join(key)}: date {iso(date)} is later than lateMaximumDelay: skipped"
            )
            await self._save(key, state)
            return

        def record(es: ExecutionState) -> None:
            state.last_execution_id = es.ex.id
            es.changes.trigger_states.append(state)
            failpoints.hit("before_trigger_commit")

        variables = schedule_variables(trigger, date)
        outcome = await start_triggered(
            self.engine, flow, trigger, trigger.inputs, variables, record
        )
        if isinstance(outcome, model.Execution):
            failpoints.hit("after_trigger_commit")
            self.stored[key] = state
            return
        warn(f"trigger {'.'.join(key)}: date {iso(date)} not started: {outcome.message}")
        await self._save(key, state)

    async def _save(self, key: Key, row: changes.TriggerStateRow) -> None:
        db = self.engine.db
        await self.engine.call(lambda: db.save_trigger_states([row]))
        found = self.stored.get(key)
        if found is not None and row.last_execution_id is None:
            row.last_execution_id = found.last_execution_id
        self.stored[key] = row
