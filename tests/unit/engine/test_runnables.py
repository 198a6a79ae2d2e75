"""The simple built-in runnables: Return, Log, Echo, Fail, Sleep, OutputValues
(semantics.md#task-types)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from tests.unit.engine.filecontext import FilesOfAContext

from tercel.clock import FakeClock
from tercel.engine import expressions, model
from tercel.engine.tasks import base, registry, runnables
from tercel.storage.files import LocalFiles

L = model.LogLevel


@dataclass
class FakeContext(FilesOfAContext):
    """A RunContext that records what the task does; `{{ name }}` is replaced from `variables`."""

    task: model.TaskDef
    variables: dict[str, str] = field(default_factory=dict)
    logs: list[tuple[model.LogLevel, str]] = field(default_factory=list)
    metrics: list[tuple[str, str, float, dict[str, str]]] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)
    execution_id: str = "exec"
    task_run_id: str = "taskrun"
    attempt_number: int = 1
    namespace: str = "company.team"
    flow_id: str = "flow"
    files: LocalFiles = field(default_factory=lambda: LocalFiles("/nonexistent/tercel-files"))

    @property
    def idempotency_key(self) -> str:
        return f"{self.execution_id}/{self.task_run_id}/{self.attempt_number}"

    def render(self, value: Any, variables: Mapping[str, Any] | None = None) -> Any:
        if isinstance(value, str):
            if "{{ boom }}" in value:
                raise expressions.ExpressionError("Unable to render `{{ boom }}`")
            for name, replacement in self.variables.items():
                value = value.replace("{{ " + name + " }}", replacement)
            return value
        if isinstance(value, Mapping):
            return {self.render(key): self.render(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.render(item) for item in value]
        return value

    def log(self, level: model.LogLevel, message: str) -> None:
        self.logs.append((level, message))

    def counter(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        self.metrics.append(("counter", name, value, dict(tags or {})))

    def timer(self, name: str, seconds: float, tags: Mapping[str, str] | None = None) -> None:
        self.metrics.append(("timer", name, seconds, dict(tags or {})))

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    async def drain(self) -> None:
        await asyncio.sleep(0)

    def process_started(self, pid: int) -> None:
        raise AssertionError("no process expected")

    @property
    def services(self) -> base.EngineServices | None:
        return None


def make_ctx(type_name: str, variables: dict[str, str] | None = None, **props: Any) -> FakeContext:
    """A context for a task of `type_name`, with the registry's defaults applied."""
    task_type = registry.get(type_name)
    assert task_type is not None
    properties = {
        name: prop.default
        for name, prop in task_type.properties.items()
        if prop.default is not None
    }
    properties.update(props)
    task = model.TaskDef(
        id="t",
        type=task_type.name,
        written_type=type_name,
        kind=task_type.kind,
        properties=properties,
    )
    return FakeContext(task, variables or {"task.id": "t"})


def run(coro: Coroutine[Any, Any, base.TaskOutcome]) -> base.TaskOutcome:
    return asyncio.run(coro)


RETURN = "io.kestra.plugin.core.debug.Return"
LOG = "io.kestra.plugin.core.log.Log"
ECHO = "io.kestra.plugin.core.debug.Echo"
FAIL = "io.kestra.plugin.core.execution.Fail"
SLEEP = "io.kestra.plugin.core.flow.Sleep"
OUTPUT_VALUES = "io.kestra.plugin.core.output.OutputValues"


def _check_ctx_protocol(ctx: FakeContext) -> base.RunContext:
    return ctx  # mypy checks that the fake satisfies the protocol


def test_registry_points_at_these_functions() -> None:
    expected = {
        RETURN: runnables.run_return,
        LOG: runnables.run_log,
        ECHO: runnables.run_echo,
        FAIL: runnables.run_fail,
        SLEEP: runnables.run_sleep,
        OUTPUT_VALUES: runnables.run_output_values,
        "io.kestra.plugin.scripts.shell.Commands": runnables.run_commands,
    }
    for name, function in expected.items():
        task_type = registry.get(name)
        assert task_type is not None and task_type.run is function


def test_return_renders_logs_and_records_metrics() -> None:
    ctx = make_ctx(RETURN, format="{{ task.id }}!")
    outcome = run(runnables.run_return(ctx))
    assert outcome == base.TaskOutcome("SUCCESS", {"value": "t!"})
    assert ctx.logs == [(L.DEBUG, "t!")]
    (counter, timer) = ctx.metrics
    assert counter == ("counter", "length", 2.0, {"format": "t!"})
    assert timer[:2] == ("timer", "duration") and timer[3] == {"format": "t!"}
    assert 0 <= timer[2] < 1


def test_return_counts_characters_not_bytes() -> None:
    ctx = make_ctx(RETURN, format="héllo ✓")
    run(runnables.run_return(ctx))
    assert ctx.metrics[0][2] == 7.0


def test_return_without_format_outputs_null() -> None:
    ctx = make_ctx(RETURN)
    outcome = run(runnables.run_return(ctx))
    assert outcome.outputs == {"value": None}
    assert ctx.metrics[0][:3] == ("counter", "length", 0.0)


def test_render_errors_propagate() -> None:
    with pytest.raises(expressions.ExpressionError):
        run(runnables.run_return(make_ctx(RETURN, format="{{ boom }}")))
    with pytest.raises(expressions.ExpressionError):
        run(runnables.run_log(make_ctx(LOG, message=["ok", "{{ boom }}"])))


@pytest.mark.parametrize("level", ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"])
def test_log_at_each_level(level: str) -> None:
    ctx = make_ctx(LOG, message="hello {{ task.id }}", level=level)
    assert run(runnables.run_log(ctx)) == base.TaskOutcome("SUCCESS", {})
    assert ctx.logs == [(model.LogLevel[level], "hello t")]


def test_log_defaults_to_info_and_takes_a_list() -> None:
    ctx = make_ctx(LOG, message=["first", "second {{ task.id }}"])
    run(runnables.run_log(ctx))
    assert ctx.logs == [(L.INFO, "first"), (L.INFO, "second t")]


def test_echo_logs_its_format() -> None:
    ctx = make_ctx(ECHO, format="echo {{ task.id }}", level="WARN")
    assert run(runnables.run_echo(ctx)).outputs == {}
    assert ctx.logs == [(L.WARN, "echo t")]


def test_fail_without_condition() -> None:
    with pytest.raises(base.TaskFailure) as raised:
        run(runnables.run_fail(make_ctx(FAIL)))
    assert str(raised.value) == "Task failure"
    with pytest.raises(base.TaskFailure) as raised:
        run(runnables.run_fail(make_ctx(FAIL, errorMessage="bad {{ task.id }}")))
    assert str(raised.value) == "bad t"


@pytest.mark.parametrize("condition", ["true", "yes", "1", "False", " "])
def test_fail_on_truthy_condition(condition: str) -> None:
    ctx = make_ctx(FAIL, condition=condition, errorMessage="stop in {{ task.id }}")
    with pytest.raises(base.TaskFailure) as raised:
        run(runnables.run_fail(ctx))
    assert str(raised.value) == "Fail on a condition"
    assert ctx.logs == [(L.ERROR, "stop in t")]


@pytest.mark.parametrize("condition", ["false", "0", "-0", "", "{{ empty }}"])
def test_fail_succeeds_on_falsy_condition(condition: str) -> None:
    ctx = make_ctx(FAIL, {"empty": ""}, condition=condition, errorMessage="{{ boom }}")
    assert run(runnables.run_fail(ctx)) == base.TaskOutcome("SUCCESS", {})
    assert ctx.logs == []


def test_sleep_logs_and_sleeps_on_the_engine_clock() -> None:
    ctx = make_ctx(SLEEP, {"d": "PT1M30S"}, duration="{{ d }}")
    assert run(runnables.run_sleep(ctx)) == base.TaskOutcome("SUCCESS", {})
    assert ctx.logs == [(L.INFO, "Waiting for PT1M30S")]
    assert ctx.sleeps == [90.0]


def test_sleep_rejects_a_bad_duration() -> None:
    ctx = make_ctx(SLEEP, duration="soon")
    with pytest.raises(base.TaskFailure, match="soon"):
        run(runnables.run_sleep(ctx))
    assert ctx.sleeps == []


def test_sleep_is_cancellable() -> None:
    clock = FakeClock()
    asleep = asyncio.Event()

    class SlowContext(FakeContext):
        async def sleep(self, seconds: float) -> None:
            asleep.set()
            await clock.sleep(seconds)  # 30 s that never pass unless the test says so

    ctx = SlowContext(make_ctx(SLEEP, duration="PT30S").task)

    async def scenario() -> None:
        task = asyncio.create_task(runnables.run_sleep(ctx))
        await asyncio.wait_for(asleep.wait(), 5)  # inside its 30 s sleep
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(asyncio.wait_for(scenario(), 5))


def test_output_values_renders_recursively() -> None:
    values = {
        "plain": "xyz",
        "rendered": "{{ task.id }}-x",
        "number": 42,
        "nested": {"inner": "{{ task.id }}", "{{ task.id }}key": True},
        "items": ["a", "{{ task.id }}", None],
    }
    outcome = run(runnables.run_output_values(make_ctx(OUTPUT_VALUES, values=values)))
    assert outcome.outputs == {
        "values": {
            "plain": "xyz",
            "rendered": "t-x",
            "number": 42,
            "nested": {"inner": "t", "tkey": True},
            "items": ["a", "t", None],
        }
    }


def test_output_values_default_is_empty() -> None:
    assert run(runnables.run_output_values(make_ctx(OUTPUT_VALUES))).outputs == {"values": {}}
