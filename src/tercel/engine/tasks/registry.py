"""The task-type registry: every built-in type with its property specs.

`register(TaskType(...))` adds a type (a user's runnable, say) without touching the engine.
"""

from __future__ import annotations

from collections.abc import Mapping

from tercel.engine import model
from tercel.engine.tasks import flowables, httprequest, itemtasks, retention, runnables
from tercel.engine.tasks.base import Flowable, Prop, PropKind, TaskType

__all__ = ["COMMON_PROPERTIES", "get", "names", "register"]

K = PropKind
RUNNABLE = model.TaskKind.RUNNABLE
FLOWABLE = model.TaskKind.FLOWABLE

#: properties every task takes; the flow loader maps them onto TaskDef fields
COMMON_PROPERTIES: frozenset[str] = frozenset(
    {
        "id",
        "type",
        "description",
        "disabled",
        "allowFailure",
        "allowWarning",
        "runIf",
        "retry",
        "timeout",
        "logLevel",
    }
)

_FLOWABLE_EXTRA: dict[str, Prop] = {"errors": Prop(K.TASKS), "finally": Prop(K.TASKS)}

CORE = "io.kestra.plugin.core"
LEGACY_FLOWS = "io.kestra.core.tasks.flows"


def _flowable(name: str, properties: Mapping[str, Prop], hooks: Flowable) -> TaskType:
    short = name.rsplit(".", 1)[1]
    return TaskType(
        name=name,
        kind=FLOWABLE,
        properties={**properties, **_FLOWABLE_EXTRA},
        aliases=(f"{LEGACY_FLOWS}.{short}",),
        flowable=hooks,
    )


def _builtins() -> list[TaskType]:
    tasks = Prop(K.TASKS, required=True)
    #: Subflow's properties; ForEachItem's too, with `items` and `batch`
    child_execution = {
        "namespace": Prop(K.STRING, required=True),
        "flowId": Prop(K.STRING, required=True),
        "revision": Prop(K.INT, minimum=1),
        "inputs": Prop(K.MAP, default={}),
        "labels": Prop(K.ANY),
        "wait": Prop(K.BOOL, default=True),
        "transmitFailed": Prop(K.BOOL, default=True),
        "inheritLabels": Prop(K.BOOL, default=False),
    }
    return [
        TaskType(
            f"{CORE}.debug.Return",
            RUNNABLE,
            {"format": Prop(K.STRING)},
            ("io.kestra.core.tasks.debugs.Return",),
            runnables.run_return,
            inline=True,
        ),
        TaskType(
            f"{CORE}.log.Log",
            RUNNABLE,
            {
                "message": Prop(K.STRING_OR_LIST, required=True),
                "level": Prop(K.LEVEL, default="INFO"),
            },
            ("io.kestra.core.tasks.log.Log",),
            runnables.run_log,
            inline=True,
        ),
        TaskType(
            f"{CORE}.debug.Echo",
            RUNNABLE,
            {"format": Prop(K.STRING, required=True), "level": Prop(K.LEVEL, default="INFO")},
            ("io.kestra.core.tasks.debugs.Echo",),
            runnables.run_echo,
            deprecated=True,
        ),
        TaskType(
            f"{CORE}.execution.Fail",
            RUNNABLE,
            {
                "condition": Prop(K.STRING),
                "errorMessage": Prop(K.STRING, default="Task failure", aliases=("message",)),
            },
            ("io.kestra.core.tasks.executions.Fail",),
            runnables.run_fail,
            inline=True,
        ),
        TaskType(
            f"{CORE}.flow.Sleep",
            RUNNABLE,
            {"duration": Prop(K.DURATION, required=True)},
            (f"{LEGACY_FLOWS}.Sleep",),
            runnables.run_sleep,
        ),
        TaskType(
            f"{CORE}.output.OutputValues",
            RUNNABLE,
            {"values": Prop(K.MAP, default={})},
            ("io.kestra.core.tasks.outputs.OutputValues",),
            runnables.run_output_values,
            inline=True,
        ),
        TaskType(
            "io.kestra.plugin.scripts.shell.Commands",
            RUNNABLE,
            {
                "commands": Prop(K.STRING_LIST, required=True),
                "interpreter": Prop(K.STRING_LIST, default=["/bin/sh", "-c"]),
                "env": Prop(K.MAP, default={}),
                "failFast": Prop(K.BOOL, default=True),
                "warningOnStdErr": Prop(K.BOOL, default=True),
                "beforeCommands": Prop(K.STRING_LIST, default=[]),
                "inputFiles": Prop(K.ANY),
                "outputFiles": Prop(K.STRING_LIST),
                "taskRunner": Prop(K.ANY, ignored=True),
                "containerImage": Prop(K.STRING, ignored=True),
                "docker": Prop(K.ANY, ignored=True),
            },
            (),
            runnables.run_commands,
        ),
        *_retention(),
        TaskType(
            f"{CORE}.http.Request",
            RUNNABLE,
            {
                "uri": Prop(K.STRING, required=True),
                "method": Prop(K.STRING, default="GET"),
                "headers": Prop(K.MAP),
                "body": Prop(K.STRING),
                "formData": Prop(K.MAP),
                "contentType": Prop(K.STRING),
                "options": Prop(K.MAP, default={}),
                "sslOptions": Prop(K.MAP),
                "allowFailed": Prop(K.BOOL, default=False),
            },
            ("io.kestra.plugin.fs.http.Request",),
            httprequest.run_request,
        ),
        _flowable(
            f"{CORE}.flow.Sequential",
            {"tasks": Prop(K.TASKS, required=True, non_empty=True)},
            flowables.SEQUENTIAL,
        ),
        _flowable(
            f"{CORE}.flow.Parallel",
            {
                "tasks": Prop(K.TASKS, required=True, non_empty=True),
                "concurrent": Prop(K.INT, default=0, minimum=0),
            },
            flowables.PARALLEL,
        ),
        _flowable(
            f"{CORE}.flow.ForEach",
            {
                "values": Prop(K.LIST_OR_STRING_VALUES, required=True),
                "concurrencyLimit": Prop(K.INT, default=1, minimum=0),
                "tasks": tasks,
            },
            flowables.FOR_EACH,
        ),
        _flowable(
            f"{CORE}.flow.EachSequential",
            {"value": Prop(K.LIST_OR_STRING_VALUES, required=True), "tasks": tasks},
            flowables.EACH_SEQUENTIAL,
        ),
        _flowable(
            f"{CORE}.flow.EachParallel",
            {
                "value": Prop(K.LIST_OR_STRING_VALUES, required=True),
                "concurrent": Prop(K.INT, default=0, minimum=0),
                "tasks": tasks,
            },
            flowables.EACH_PARALLEL,
        ),
        _flowable(
            f"{CORE}.flow.If",
            {
                "condition": Prop(K.STRING, required=True),
                "then": Prop(K.TASKS, required=True, non_empty=True),
                "else": Prop(K.TASKS),
            },
            flowables.IF,
        ),
        _flowable(
            f"{CORE}.flow.Switch",
            {
                "value": Prop(K.STRING, required=True),
                "cases": Prop(K.CASES, default={}),
                "defaults": Prop(K.TASKS),
            },
            flowables.SWITCH,
        ),
        _flowable(
            f"{CORE}.flow.Pause",
            {
                "delay": Prop(K.DURATION),
                "timeout": Prop(K.DURATION),
                "onResume": Prop(K.INPUTS),
                "tasks": Prop(K.TASKS),
            },
            flowables.PAUSE,
        ),
        _flowable(f"{CORE}.flow.AllowFailure", {"tasks": tasks}, flowables.ALLOW_FAILURE),
        TaskType(
            f"{CORE}.flow.Subflow",
            model.TaskKind.SUBFLOW,
            child_execution,
            (f"{LEGACY_FLOWS}.Subflow", f"{LEGACY_FLOWS}.Flow"),
        ),
        *itemtasks.task_types(child_execution),
    ]


def _retention() -> list[TaskType]:
    """PurgeExecutions and PurgeLogs (docs/semantics.md#retention)."""
    end = Prop(K.DATE, required=True)
    return [
        TaskType(
            f"{CORE}.execution.PurgeExecutions",
            RUNNABLE,
            {
                "namespace": Prop(K.STRING),
                "flowId": Prop(K.STRING),
                "startDate": Prop(K.DATE),
                "endDate": end,
                "states": Prop(K.ENDED_STATES),
                "purgeExecution": Prop(K.BOOL, default=True),
                "purgeLog": Prop(K.BOOL, default=True),
                "purgeMetric": Prop(K.BOOL, default=True),
                "purgeStorage": Prop(K.BOOL, default=True),
            },
            ("io.kestra.core.tasks.storages.Purge", f"{CORE}.storage.Purge"),
            retention.run_purge_executions,
        ),
        TaskType(
            f"{CORE}.log.PurgeLogs",
            RUNNABLE,
            {
                "namespace": Prop(K.STRING),
                "flowId": Prop(K.STRING),
                "executionId": Prop(K.STRING),
                "logLevels": Prop(K.LEVELS),
                "startDate": Prop(K.DATE),
                "endDate": end,
            },
            (),
            retention.run_purge_logs,
        ),
    ]


_BY_NAME: dict[str, TaskType] = {}


def register(task_type: TaskType) -> None:
    """Add a task type under its name and aliases (a later registration replaces an earlier one)."""
    for name in (task_type.name, *task_type.aliases):
        _BY_NAME[name] = task_type


def get(name: str) -> TaskType | None:
    """The task type for a class name or a legacy alias; None when unknown."""
    return _BY_NAME.get(name)


def names() -> list[str]:
    """Every registered canonical name."""
    return sorted({task_type.name for task_type in _BY_NAME.values()})


for _task_type in _builtins():
    register(_task_type)
