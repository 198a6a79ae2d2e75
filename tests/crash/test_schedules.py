"""Schedule dates across SIGKILL (semantics.md#schedule): each date fires exactly once, missed
dates follow `recoverMissedSchedules`, late ones follow `lateMaximumDelay`.

A real `tercel server` subprocess is killed with SIGKILL at random moments and at the two crash
points around a date's commit (`before_trigger_commit`: the execution and the next date are made,
not committed; `after_trigger_commit`: both committed, the runner has not taken the new date),
then restarted on the same file. The dates are read from the database afterwards.

Seed: `TERCEL_CRASH_SEED=<n>` replays the random kills.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.crash.server import running_server
from tests.engine.conftest import db_rows

SECOND = timedelta(seconds=1)


def schedule(flow_id: str, cron: str = "*/1 * * * * *", extra: str = "") -> str:
    return f"""\
id: {flow_id}
namespace: crash.sched
tasks:
  - id: at
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ trigger.date }}}}"
triggers:
  - id: tick
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "{cron}"
    withSeconds: true
{extra}"""


def fired(db: Path, flow_id: str) -> list[datetime]:
    """The dates of the executions the Schedule created, oldest first (repeats kept)."""
    rows = db_rows(db, "SELECT trigger_info FROM executions WHERE flow_id = ?", flow_id)
    dates = [json.loads(row[0])["variables"]["date"] for row in rows]
    return sorted(datetime.fromisoformat(d.replace("Z", "+00:00")) for d in dates)


def stored_next(db: Path, flow_id: str) -> datetime:
    (row,) = db_rows(db, "SELECT next_date FROM trigger_states WHERE flow_id = ?", flow_id)
    return datetime.fromtimestamp(row[0] / 1e6, UTC)


def assert_exactly_once(db: Path, flow_id: str) -> list[datetime]:
    """Every date from the first to the last fired once, and the stored next date follows."""
    dates = fired(db, flow_id)
    assert len(dates) >= 2, dates
    repeated = sorted({d for d in dates if dates.count(d) > 1})
    assert not repeated, f"dates fired more than once: {repeated}"
    gaps = [(a, b) for a, b in itertools.pairwise(dates) if b - a != SECOND]
    assert not gaps, f"dates skipped between: {gaps}"
    assert stored_next(db, flow_id) == dates[-1] + SECOND
    return dates


def test_each_date_fires_exactly_once_across_random_kills(tmp_path: Path) -> None:
    seed = int(os.environ.get("TERCEL_CRASH_SEED") or random.randrange(1_000_000))
    print(f"TERCEL_CRASH_SEED={seed}")
    rng = random.Random(seed)
    with running_server(tmp_path) as server:
        server.deploy(schedule("every"))
        for round_ in range(4):
            time.sleep(rng.uniform(0.2, 2.0))
            if round_ == 2:
                server.stop()  # a clean stop (SIGTERM) among the kills is no different
            else:
                server.kill()
            server.start()
        time.sleep(1.5)
        server.kill()
    dates = assert_exactly_once(server.db_path, "every")
    assert len(dates) >= 8, f"seed {seed}: {dates}"


@pytest.mark.parametrize("point", ["before_trigger_commit", "after_trigger_commit"])
def test_a_crash_around_the_commit_of_a_date(tmp_path: Path, point: str) -> None:
    with running_server(tmp_path, start=False) as server:
        server.start(env={"TERCEL_FAILPOINT": point, "TERCEL_FAILPOINT_SKIP": "2"})
        server.deploy(schedule("every"))
        assert server.proc is not None
        assert server.proc.wait(20) == 137, server.log_tail()
        died = fired(server.db_path, "every")
        # before the commit: two dates are stored, the third died with its process; after it,
        # the third is stored too
        assert len(died) == (2 if point == "before_trigger_commit" else 3), died
        server.start()
        time.sleep(2.5)
        server.kill()
    dates = assert_exactly_once(server.db_path, "every")
    assert dates[: len(died)] == died and len(dates) >= len(died) + 2


def backdate(db: Path, seconds: int) -> datetime:
    """Move every stored next date about `seconds` into the past, to a multiple of 10 s (a date
    of every cron here), as if the server had been down since."""
    past = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=seconds)
    past -= timedelta(seconds=past.second % 10)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE trigger_states SET next_date = ?", (int(past.timestamp() * 1e6),))
    conn.close()
    return past


@pytest.mark.timing
def test_missed_dates_follow_recover_missed_schedules(tmp_path: Path) -> None:
    every_10s = "*/10 * * * * *"
    with running_server(tmp_path) as server:
        server.deploy(schedule("all", every_10s))
        server.deploy(schedule("last", every_10s, "    recoverMissedSchedules: LAST\n"))
        server.deploy(schedule("none", every_10s, "    recoverMissedSchedules: NONE\n"))
        server.deploy(schedule("late", extra="    lateMaximumDelay: PT3S\n"))
        time.sleep(1.5)  # every trigger has its first next date stored
        server.kill()
        before = {flow: fired(server.db_path, flow) for flow in ("all", "last", "none", "late")}
        since = backdate(server.db_path, 60)  # down for a minute
        server.start()
        healthy = datetime.fromtimestamp(time.time(), UTC)
        time.sleep(0.3)
        missed = {
            flow: [d for d in fired(server.db_path, flow) if d not in before[flow]]
            for flow in ("all", "last", "none")
        }
        time.sleep(1.5)
        server.kill()
    due = _every(since, healthy, 10)
    assert missed["all"][: len(due)] == due, (missed["all"], due)
    (recovered,) = [d for d in missed["last"] if d <= healthy - timedelta(seconds=0.05)]
    assert recovered == due[-1]
    assert [d for d in missed["none"] if d < healthy - SECOND] == []
    assert "recoverMissedSchedules: NONE" in server.log_tail(20_000)
    late = fired(server.db_path, "late")
    backlog = [d for d in late if d not in before["late"] and d < healthy - timedelta(seconds=6)]
    assert backlog == [], "dates later than lateMaximumDelay must be skipped"
    assert "is later than lateMaximumDelay: skipped" in server.log_tail(200_000)
    assert late[-1] >= healthy - SECOND  # and the schedule goes on


def _every(start: datetime, end: datetime, step: int) -> list[datetime]:
    """The multiples of `step` seconds in [start, end]."""
    first = start + timedelta(seconds=(-start.second) % step)
    found = []
    while first <= end:
        found.append(first)
        first += timedelta(seconds=step)
    return found
