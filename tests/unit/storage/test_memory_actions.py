"""Passes and actions unit-tested over the in-memory store: no engine loop, no thread, no file,
no subprocess. Each step is committed to `MemoryStore` and read back from it, so what is
checked is what the engine would find at its next start."""

from __future__ import annotations

from datetime import timedelta

from memrun import MemoryRun, history, run_states

from tercel.engine import states

S = states.StateType

SHELL = "io.kestra.plugin.scripts.shell.Commands"

CHAIN = f"""
id: chain
namespace: unit.memory
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hello
  - id: work
    type: {SHELL}
    commands: ["true"]
  - id: bye
    type: io.kestra.plugin.core.log.Log
    message: bye
"""

RETRIED = f"""
id: retried
namespace: unit.memory
tasks:
  - id: flaky
    type: {SHELL}
    commands: ["false"]
    retry:
      type: constant
      interval: PT30S
      maxAttempt: 3
"""

TWO_BRANCHES = f"""
id: parallel
namespace: unit.memory
tasks:
  - id: both
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: left
        type: {SHELL}
        commands: ["sleep 100"]
      - id: right
        type: {SHELL}
        commands: ["sleep 100"]
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: never
"""


def test_a_chain_runs_to_success_one_commit_at_a_time() -> None:
    run = MemoryRun(CHAIN)
    assert history(run.stored()) == [S.CREATED, S.RUNNING]
    assert run_states(run.stored(), "hello") == [[S.CREATED, S.RUNNING, S.SUCCESS]]
    assert run_states(run.stored(), "work") == [[S.CREATED, S.RUNNING]]
    assert list(run.running) == ["work"]
    assert run.store.active_execution_ids() == [run.es.ex.id]

    run.finish("work", S.SUCCESS)

    stored = run.stored()
    assert history(stored) == [S.CREATED, S.RUNNING, S.SUCCESS]
    assert [r.task_id for r in stored.task_runs] == ["hello", "work", "bye"]
    assert run_states(stored, "bye") == [[S.CREATED, S.RUNNING, S.SUCCESS]]
    assert run.store.active_execution_ids() == []
    entries = len(stored.state.histories) + sum(
        len(r.state.histories) + sum(len(a.state.histories) for a in r.attempts or [])
        for r in stored.task_runs
    )
    assert run.store.last_state_seq == entries == 21  # one seq per history entry


def test_a_failed_attempt_with_retries_left_goes_retrying_until_its_timer_is_due() -> None:
    run = MemoryRun(RETRIED)
    run.finish("flaky", S.FAILED)

    assert run_states(run.stored(), "flaky") == [[S.CREATED, S.RUNNING, S.FAILED, S.RETRYING]]
    assert history(run.stored())[-1] is S.RETRYING
    [timer] = run.store.load_timers(run.es.ex.id)
    assert timer.due == run.clock.now() + timedelta(seconds=30)

    run.advance(29.999)  # not yet due: nothing moves
    assert run_states(run.stored(), "flaky")[0][-1] is S.RETRYING
    assert "flaky" not in run.running

    run.advance(0.001)  # due: a second attempt starts
    assert run_states(run.stored(), "flaky")[0][-3:] == [S.RETRYING, S.CREATED, S.RUNNING]
    assert run.running["flaky"].number == 2
    run.finish("flaky", S.FAILED)
    run.advance(30)
    run.finish("flaky", S.FAILED)  # the third and last attempt

    stored = run.stored()
    [flaky] = stored.task_runs
    assert [a.state.current for a in flaky.attempts or []] == [S.FAILED] * 3
    assert flaky.state.current is S.FAILED
    assert stored.state.current is S.FAILED
    assert run.store.load_timers(run.es.ex.id) == []


def test_a_retrying_execution_rebuilt_from_the_store_keeps_its_timer() -> None:
    run = MemoryRun(RETRIED)
    run.finish("flaky", S.FAILED)
    again = run.reloaded()
    assert again.ex.state.current is S.RETRYING
    assert [t.due for t in again.timers.values()] == [run.clock.now() + timedelta(seconds=30)]


def test_kill_cancels_running_attempts_and_ends_killed_once_they_stop() -> None:
    run = MemoryRun(TWO_BRANCHES)
    assert sorted(run.running) == ["left", "right"]

    run.kill()
    assert history(run.stored())[-1] is S.KILLING
    assert sorted(run.es.to_cancel) == sorted(
        r.id for r in run.es.ex.task_runs if r.task_id in ("left", "right")
    )
    run.finish("left", S.KILLED)
    assert history(run.stored())[-1] is S.KILLING  # one attempt still running
    run.finish("right", S.KILLED)

    stored = run.stored()
    assert history(stored)[-2:] == [S.KILLING, S.KILLED]
    assert {r.task_id: r.state.current for r in stored.task_runs} == {
        "both": S.KILLED,
        "left": S.KILLED,
        "right": S.KILLED,
    }
    assert run.store.active_execution_ids() == []
