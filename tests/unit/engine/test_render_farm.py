"""Render processes (expressions/farm.py, #12 item 4): a render runs out of the server's GIL,
the same caps hold there, and a worker that overruns its deadline is killed and replaced (the
hard stop for a step no deadline check can interrupt)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tercel.engine.expressions import ExpressionError, farm, guard


@pytest.fixture
def pool() -> Iterator[farm.Farm]:
    made = farm.Farm(1)
    try:
        yield made
    finally:
        made.close()


def _pid(pool: farm.Farm) -> int:
    [worker] = pool._idle
    return worker.process.pid


def test_renders_against_a_snapshot_of_plain_data(pool: farm.Farm) -> None:
    started = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    context = {
        "execution": {"startDate": started},
        "outputs": {"t": {"value": [1, "two"]}},
        "__errorLogs": lambda: [{"message": "boom"}],
    }
    template = "{{ execution.startDate | date('yyyy') }} {{ outputs.t.value }} {{ errorLogs() }}"
    rendered = farm.render_away(pool, template, farm.pack(context), 0.0)
    assert rendered.startswith('2024 [1,"two"] [{'), rendered
    assert "boom" in rendered
    assert _pid(pool) != os.getpid()


def test_the_caps_hold_in_the_worker(pool: farm.Farm) -> None:
    with pytest.raises(ExpressionError, match="Rendered text is larger than 1048576"):
        farm.render_away(pool, "{{ 'a' * 1000000 }}{{ 'b' * 100000 }}", farm.pack({}), 0.0)
    with pytest.raises(ExpressionError, match="Unable to find `nope`"):
        farm.render_away(pool, "{{ nope }}", farm.pack({}), 0.0)


@pytest.mark.timing
def test_a_worker_past_its_deadline_is_killed_and_replaced(
    pool: farm.Farm, monkeypatch: pytest.MonkeyPatch
) -> None:
    farm.render_away(pool, "{{ 1 }}", farm.pack({}), 0.0)  # started outside the deadline
    first = _pid(pool)
    monkeypatch.setattr(guard, "DEADLINE_SECONDS", 0.0)
    monkeypatch.setattr(farm, "GRACE_SECONDS", 0.0)
    template = "{{ ('a' * 1000000) | title | length }}"
    with pytest.raises(ExpressionError) as raised:
        farm.render_away(pool, template, farm.pack({}), 0.0)
    assert str(raised.value) == (
        "Rendering took longer than the 0 s time limit (the render process was stopped) "
        f"in the expression `{template}` at line 1"
    )
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(first, 0)
        except ProcessLookupError:
            break
        time.sleep(0.01)
    else:
        pytest.fail(f"render process {first} still runs")
    monkeypatch.setattr(guard, "DEADLINE_SECONDS", 1.0)
    assert farm.render_away(pool, template, farm.pack({}), 0.0) == "1000000"
    assert _pid(pool) != first


def _slow_farm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> farm.Farm:
    """A farm whose workers import `slow_start` (`body`) before they are ready."""
    (tmp_path / "slow_start.py").write_text(body)
    paths = [str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))
    return farm.Farm(1, preload=("slow_start",))


def test_a_slow_start_is_outside_the_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At load ~12 a worker took longer to start than the deadline and its grace, so the first
    render off the loop was killed as overrunning (a 15 ms render failed with the deadline's
    message): a job now waits for its worker to be ready before its deadline runs."""
    slower = guard.DEADLINE_SECONDS + farm.GRACE_SECONDS + 0.5  # than the deadline and grace
    pool = _slow_farm(tmp_path, monkeypatch, f"import time\ntime.sleep({slower})\n")
    try:
        assert farm.render_away(pool, "{{ 1 + 1 }}", farm.pack({}), 0.0) == "2"
    finally:
        pool.close()


def test_a_worker_that_cannot_start_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = _slow_farm(tmp_path, monkeypatch, "raise SystemExit(3)\n")
    try:
        with pytest.raises(ExpressionError, match="The render process exited while it started"):
            farm.render_away(pool, "{{ 1 }}", farm.pack({}), 0.0)
    finally:
        pool.close()
