"""The built-in runnable task types (docs/semantics.md#task-types, #commands).

Each is `async def run_x(ctx) -> TaskOutcome`. Properties arrive unrendered with defaults applied;
render errors (`ExpressionError`) propagate so the engine fails the attempt with their message.
"""

from __future__ import annotations

import time
from typing import Any

from tercel.engine import durations, expressions, model
from tercel.engine.tasks import base, commands
from tercel.engine.tasks.directives import text as _text

__all__ = [
    "run_commands",
    "run_echo",
    "run_fail",
    "run_log",
    "run_output_values",
    "run_return",
    "run_sleep",
]


async def run_return(ctx: base.RunContext) -> base.TaskOutcome:
    """Render `format`; metrics `length` and `duration` tagged with the rendered text
    (docs/semantics.md#metrics-logs)."""
    start = time.perf_counter()
    value = _optional_text(ctx.render(ctx.task.properties.get("format")))
    elapsed = time.perf_counter() - start
    tags = {} if value is None else {"format": value}
    if value is not None:
        ctx.log(model.LogLevel.DEBUG, value)
    ctx.counter("length", float(len(value or "")), tags)
    ctx.timer("duration", elapsed, tags)
    return base.TaskOutcome(outputs={"value": value})


async def run_log(ctx: base.RunContext) -> base.TaskOutcome:
    """Log each rendered message at `level`."""
    messages = ctx.task.properties.get("message")
    level = _level(ctx.task.properties.get("level"))
    for message in messages if isinstance(messages, list) else [messages]:
        ctx.log(level, _text(ctx.render(message)))
    return base.TaskOutcome()


async def run_echo(ctx: base.RunContext) -> base.TaskOutcome:
    """Deprecated: Log with the single message `format`."""
    level = _level(ctx.task.properties.get("level"))
    ctx.log(level, _text(ctx.render(ctx.task.properties.get("format"))))
    return base.TaskOutcome()


async def run_fail(ctx: base.RunContext) -> base.TaskOutcome:
    """Fail with `errorMessage`; with a `condition`, only when it renders truthy."""
    properties = ctx.task.properties
    message = properties.get("errorMessage", "Task failure")
    condition = properties.get("condition")
    if condition is None:
        raise base.TaskFailure(_text(ctx.render(message)))
    if not expressions.truthy(_text(ctx.render(condition))):
        return base.TaskOutcome()
    ctx.log(model.LogLevel.ERROR, _text(ctx.render(message)))
    raise base.TaskFailure("Fail on a condition")


async def run_sleep(ctx: base.RunContext) -> base.TaskOutcome:
    """Sleep for the rendered `duration` on the engine clock (cancellable at once)."""
    written = _text(ctx.render(ctx.task.properties.get("duration"))).strip()
    try:
        duration = durations.parse_duration(written)
    except ValueError as error:
        raise base.TaskFailure(str(error)) from error
    ctx.log(model.LogLevel.INFO, f"Waiting for {written}")
    await ctx.sleep(duration.total_seconds())
    return base.TaskOutcome()


async def run_output_values(ctx: base.RunContext) -> base.TaskOutcome:
    """Outputs `{values}`: the map with its string keys and leaves rendered recursively."""
    values = ctx.task.properties.get("values")
    return base.TaskOutcome(outputs={"values": ctx.render(values if values is not None else {})})


async def run_commands(ctx: base.RunContext) -> base.TaskOutcome:
    """A shell script in a local subprocess (docs/semantics.md#commands); see `commands`."""
    return await commands.run(ctx)


def _level(name: Any) -> model.LogLevel:
    if isinstance(name, model.LogLevel):
        return name
    return model.LogLevel[str(name or "INFO").upper()]


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)
