"""Schedule dates on the engine's fake clock (semantics.md#schedule): the `ScheduleRunner`'s
looks are driven one by one (`tick`) while a `FakeClock` moves, so a date is checked to the
microsecond: nothing fires a microsecond before it, each date fires once, and a trigger that is
switched off, or whose flow is disabled, fires nothing however much time passes. (These used to
be seconds of real sleeping against a real server in tests/api/test_triggers.py, which keeps
the API's side of them.)"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from tests.engine.conftest import Harness, db_rows

from tercel.clock import FakeClock
from tercel.engine import service
from tercel.engine.triggers import operations
from tercel.engine.triggers.flowindex import FlowIndex
from tercel.engine.triggers.schedules import ScheduleRunner

EVERY_SECOND = """
id: each
namespace: t.sched
tasks:
  - id: dates
    type: io.kestra.plugin.core.debug.Return
    format: "{{ trigger.date }}|{{ trigger.previous }}|{{ trigger.next }}"
triggers:
  - id: tick
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "*/1 * * * * *"
    withSeconds: true
"""

START = datetime.fromisoformat("2024-01-01T00:00:00.250+00:00")


def fired(h: Harness, flow_id: str = "each") -> list[str]:
    """The `trigger.date` of every execution the schedule started, oldest first."""
    rows = db_rows(h.db_path, "SELECT trigger_info FROM executions WHERE flow_id = ?", flow_id)
    return sorted(json.loads(row[0])["variables"]["date"] for row in rows)


async def runner_on(h: Harness) -> ScheduleRunner:
    runner = ScheduleRunner(h.engine, FlowIndex(h.engine))
    await h.deploy(EVERY_SECOND)
    await runner.tick()  # first look: the next date after now is stored, nothing fires
    assert fired(h) == []
    return runner


def test_each_date_fires_once_at_its_second(run_engine: Any) -> None:
    clock = FakeClock(START)

    async def body(h: Harness) -> None:
        runner = await runner_on(h)
        clock.advance(0.749999)  # a microsecond before 00:00:01
        await runner.tick()
        assert fired(h) == []
        clock.advance(0.000001)
        await runner.tick()
        await runner.tick()  # the same moment again: the date does not fire twice
        assert fired(h) == ["2024-01-01T00:00:01Z"]
        (execution_id,) = db_rows(h.db_path, "SELECT id FROM executions")[0]
        doc = await h.wait(execution_id)
        assert doc["taskRunList"][0]["outputs"]["value"] == (
            "2024-01-01T00:00:01Z|2024-01-01T00:00:00Z|2024-01-01T00:00:02Z"
        )
        clock.advance(3)  # three dates came due meanwhile: each fires once, oldest first
        await runner.tick()
        assert fired(h) == [f"2024-01-01T00:00:0{s}Z" for s in range(1, 5)]

    run_engine(body, clock=clock)


def test_a_switched_off_trigger_fires_nothing_and_starts_after_it_is_on_again(
    run_engine: Any,
) -> None:
    clock = FakeClock(START)

    async def body(h: Harness) -> None:
        runner = await runner_on(h)
        off = await operations.set_trigger_disabled(h.engine, "t.sched", "each", "tick", True)
        assert not isinstance(off, service.NotFound), off
        for _ in range(5):
            clock.advance(1)
            await runner.tick()
        assert fired(h) == []
        on = await operations.set_trigger_disabled(h.engine, "t.sched", "each", "tick", False)
        assert not isinstance(on, service.NotFound), on
        await runner.tick()  # 00:00:05.25: the dates while off never fire
        assert fired(h) == []
        clock.advance(0.75)
        await runner.tick()
        assert fired(h) == ["2024-01-01T00:00:06Z"]

    run_engine(body, clock=clock)


def test_the_schedule_of_a_disabled_flow_or_a_disabled_trigger_fires_nothing(
    run_engine: Any,
) -> None:
    clock = FakeClock(START)
    off_in_yaml = EVERY_SECOND.replace("id: each", "id: yaml").replace(
        "withSeconds: true", "withSeconds: true\n    disabled: true"
    )

    async def body(h: Harness) -> None:
        runner = await runner_on(h)
        await h.deploy(off_in_yaml)
        assert await service.set_flow_disabled(h.engine, "t.sched", "each", True) == 1
        for _ in range(5):
            clock.advance(1)
            await runner.tick()
        assert fired(h) == [] and fired(h, "yaml") == []
        assert await service.set_flow_disabled(h.engine, "t.sched", "each", False) == 1
        await runner.tick()
        clock.advance(timedelta(milliseconds=750).total_seconds())
        await runner.tick()
        assert fired(h) == ["2024-01-01T00:00:06Z"]

    run_engine(body, clock=clock)


def test_a_deleted_schedule_deployed_again_starts_after_now(run_engine: Any) -> None:
    """Like a trigger switched off: the dates while its flow was gone never fire."""
    clock = FakeClock(START)

    async def body(h: Harness) -> None:
        runner = await runner_on(h)
        clock.advance(0.75)
        await runner.tick()
        assert fired(h) == ["2024-01-01T00:00:01Z"]
        assert await service.delete_flow(h.engine, "t.sched", "each") == 1
        for _ in range(3):
            clock.advance(1)
            await runner.tick()
        assert fired(h) == ["2024-01-01T00:00:01Z"]
        await h.deploy(EVERY_SECOND)  # at 00:00:04
        await runner.tick()
        clock.advance(1)
        await runner.tick()
        assert fired(h) == ["2024-01-01T00:00:01Z", "2024-01-01T00:00:05Z"]

    run_engine(body, clock=clock)
