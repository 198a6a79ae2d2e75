"""`PurgeExecutions` and `PurgeLogs` (docs/semantics.md#retention; Kestra's tasks of those names).

Both render their filters (`namespace`, `flowId`, `executionId`, `startDate`, `endDate` may be
expressions such as `{{ now() | dateAdd(-1, 'MONTHS') }}`) and hand them to the engine's
services (`RunContext.services`), which purge in batches. `states` and `logLevels` are fixed
lists, checked when the flow is loaded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tercel.engine import model, states
from tercel.engine.expressions import dates, errors
from tercel.engine.store import ExecutionPurge, LogPurge
from tercel.engine.tasks import base

__all__ = ["parse_date", "run_purge_executions", "run_purge_logs"]


def parse_date(text: str) -> datetime:
    """An ISO date (`2026-01-31`, `2026-01-31T10:00:00Z`, `…+01:00[Europe/Paris]`; UTC when it
    names no zone), as Kestra's `ZonedDateTime.parse` takes it; ValueError says why not."""
    try:
        return dates.convert(text, dates.zone(None))
    except errors.RenderFailure:
        raise ValueError(f"`{text}` is not an ISO date (2026-01-31T00:00:00Z, say)") from None


def _text(ctx: base.RunContext, name: str) -> str | None:
    """A rendered string property; None when absent or rendered empty."""
    value = ctx.task.properties.get(name)
    if value is None:
        return None
    rendered = ctx.render(value)
    text = "" if rendered is None else str(rendered)
    return text or None


def _date(ctx: base.RunContext, name: str) -> datetime | None:
    text = _text(ctx, name)
    if text is None:
        return None
    try:
        return parse_date(text)
    except ValueError as error:
        raise base.TaskFailure(f"{name}: {error}") from None


def _services(ctx: base.RunContext) -> base.EngineServices:
    if ctx.services is None:
        raise base.TaskFailure(f"`{ctx.task.type}` needs the engine's services")
    return ctx.services


def _end(ctx: base.RunContext) -> datetime:
    end = _date(ctx, "endDate")
    if end is None:
        raise base.TaskFailure("endDate: rendered empty")
    return end


async def run_purge_executions(ctx: base.RunContext) -> base.TaskOutcome:
    props: dict[str, Any] = dict(ctx.task.properties)
    names = props.get("states")
    which = ExecutionPurge(
        end=_end(ctx),
        start=_date(ctx, "startDate"),
        namespace=_text(ctx, "namespace"),
        flow_id=_text(ctx, "flowId"),
        states=None if not names else frozenset(states.StateType(n) for n in names),
        spare=ctx.execution_id,
    )
    parts = base.PurgeParts(
        executions=bool(props.get("purgeExecution", True)),
        logs=bool(props.get("purgeLog", True)),
        metrics=bool(props.get("purgeMetric", True)),
        storage=bool(props.get("purgeStorage", True)),
    )
    counts = await _services(ctx).purge_executions(which, parts)
    ctx.log(
        model.LogLevel.INFO,
        f"Purged {counts.executions} executions, {counts.logs} logs, {counts.metrics} metrics, "
        f"{counts.storages} files",
    )
    outputs = {
        "executionsCount": counts.executions,
        "logsCount": counts.logs,
        "metricsCount": counts.metrics,
        "storagesCount": counts.storages,
    }
    return base.TaskOutcome(outputs=outputs)


async def run_purge_logs(ctx: base.RunContext) -> base.TaskOutcome:
    levels = ctx.task.properties.get("logLevels")
    which = LogPurge(
        end=_end(ctx),
        start=_date(ctx, "startDate"),
        namespace=_text(ctx, "namespace"),
        flow_id=_text(ctx, "flowId"),
        execution_id=_text(ctx, "executionId"),
        levels=None if not levels else frozenset(model.LogLevel[n] for n in levels),
    )
    count = await _services(ctx).purge_logs(which)
    ctx.log(model.LogLevel.INFO, f"Purged {count} logs")
    return base.TaskOutcome(outputs={"count": count})
