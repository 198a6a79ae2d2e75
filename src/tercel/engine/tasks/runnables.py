"""The built-in runnable task types (execution-model §13.2, §13.3)."""

from __future__ import annotations

from tercel.engine.tasks.base import RunContext, TaskOutcome

__all__ = [
    "run_commands",
    "run_echo",
    "run_fail",
    "run_log",
    "run_output_values",
    "run_return",
    "run_sleep",
]


async def run_return(ctx: RunContext) -> TaskOutcome:
    raise NotImplementedError


async def run_log(ctx: RunContext) -> TaskOutcome:
    raise NotImplementedError


async def run_echo(ctx: RunContext) -> TaskOutcome:
    raise NotImplementedError


async def run_fail(ctx: RunContext) -> TaskOutcome:
    raise NotImplementedError


async def run_sleep(ctx: RunContext) -> TaskOutcome:
    raise NotImplementedError


async def run_output_values(ctx: RunContext) -> TaskOutcome:
    raise NotImplementedError


async def run_commands(ctx: RunContext) -> TaskOutcome:
    raise NotImplementedError
