"""What a task type declares, and what a runnable task gets when it runs.

A task type is a `TaskType`: its Kestra class name (and legacy aliases), its kind, its properties
(`Prop` specs, which the flow loader validates against) and, for runnables, an async `run`
function. `registry.register()` adds one; the engine never needs to change for a new runnable.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

from tercel.engine import model
from tercel.engine.files import FileStorage
from tercel.engine.store import ExecutionPurge, LogPurge
from tercel.engine.types import Mode, Plan

__all__ = [
    "EngineServices",
    "Flowable",
    "MainBranch",
    "PlanError",
    "Prop",
    "PropKind",
    "PurgeCounts",
    "PurgeParts",
    "RunContext",
    "RunFunction",
    "TaskFailure",
    "TaskOutcome",
    "TaskType",
]


class PropKind(enum.Enum):
    """How the flow loader checks a property, and what `TaskDef.properties` then holds."""

    STRING = "string"  #: a scalar, kept as its source text (templates allowed and validated)
    STRING_OR_LIST = "string_or_list"  #: a string, or a list of strings (Log `message`)
    STRING_LIST = "string_list"  #: a list of strings (Commands `commands`)
    INT = "int"  #: an integer (bool refused)
    NUMBER = "number"  #: an int or float
    BOOL = "bool"
    DURATION = "duration"  #: a string: ISO-8601 duration, or a template rendered at run time
    LEVEL = "level"  #: TRACE, DEBUG, INFO, WARN or ERROR (kept as the upper-case name)
    LEVELS = "levels"  #: a non-empty list of LEVEL names
    ENDED_STATES = "ended_states"  #: a non-empty list of terminal state names (retention)
    DATE = "date"  #: a string: an ISO date, or a template rendered at run time
    MAP = "map"  #: a mapping of any values (string leaves may be templates)
    ANY = "any"  #: any YAML value (string leaves may be templates)
    LIST_OR_STRING_VALUES = "values"  #: ForEach `values`: a list, or a string (template/JSON)
    INPUTS = "inputs"  #: a list of input definitions -> tuple[model.InputDef, ...]
    TASKS = "tasks"  #: a task list -> TaskDef.branches[name]
    CASES = "cases"  #: a map of key -> task list -> TaskDef.cases


@dataclass(frozen=True, slots=True)
class Prop:
    """One property of a task type."""

    kind: PropKind
    required: bool = False
    #: applied when the property is absent (None: absent stays absent)
    default: Any = None
    #: other accepted names (`message` for Fail's `errorMessage`)
    aliases: tuple[str, ...] = ()
    #: for INT/NUMBER: the smallest accepted value
    minimum: float | None = None
    #: for TASKS: refuse an empty list
    non_empty: bool = False
    #: accepted and ignored with a WARN log (Commands `taskRunner`, `containerImage`, `docker`)
    ignored: bool = False


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    """What a runnable returns when it did not fail."""

    state: str = "SUCCESS"  #: SUCCESS or WARNING
    outputs: dict[str, Any] = field(default_factory=dict)


class TaskFailure(Exception):
    """Raised by a runnable to fail its attempt; the message is logged at ERROR as it is."""


@dataclass(frozen=True, slots=True)
class PurgeParts:
    """What `PurgeExecutions` deletes of each execution it matches."""

    executions: bool = True
    logs: bool = True
    metrics: bool = True
    storage: bool = True


@dataclass(frozen=True, slots=True)
class PurgeCounts:
    """What a purge deleted (`PurgeExecutions`' outputs)."""

    executions: int = 0
    logs: int = 0
    metrics: int = 0
    storages: int = 0


class EngineServices(Protocol):
    """What the engine running a task does for it on other executions (Kestra's tasks reach
    its services through the application context): retention, in batches through the engine's
    one writer, so other executions go on meanwhile."""

    async def purge_executions(self, which: ExecutionPurge, parts: PurgeParts) -> PurgeCounts: ...

    async def purge_logs(self, which: LogPurge) -> int:
        """How many log rows went."""


class RunContext(Protocol):
    """What a runnable task sees while one of its attempts runs."""

    @property
    def task(self) -> model.TaskDef: ...

    @property
    def execution_id(self) -> str: ...

    @property
    def task_run_id(self) -> str: ...

    @property
    def attempt_number(self) -> int: ...

    @property
    def idempotency_key(self) -> str:
        """`execution_id/task_run_id/attempt_number`: stable for one attempt."""

    @property
    def files(self) -> FileStorage:
        """The internal storage (docs/semantics.md#files)."""

    def open_file(self, uri: str) -> BinaryIO:
        """Open a file this execution may read (its own, its FILE inputs); raises
        `files.FileRefused` or `files.FileMissing` otherwise."""

    def store_file(self, name: str, source: BinaryIO) -> str:
        """Store a file of this task run durably under `name` (a relative path); its URI."""

    @property
    def namespace(self) -> str:
        """The execution's namespace (where its files live)."""

    @property
    def flow_id(self) -> str: ...

    def render(self, value: Any, variables: Mapping[str, Any] | None = None) -> Any:
        """Render templates in a string, or recursively in a map or list (keys too); the
        task's own `variables` (a shell attempt's `workingDir`) are added to the context."""

    def log(self, level: model.LogLevel, message: str) -> None: ...

    async def drain(self) -> None:
        """Wait while this attempt's logs not yet taken for a commit exceed a bound: a task
        that logs a lot awaits this between chunks, so its memory stays bounded (backpressure
        down to the subprocess pipe)."""

    def counter(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None: ...

    def timer(self, name: str, seconds: float, tags: Mapping[str, str] | None = None) -> None: ...

    async def sleep(self, seconds: float) -> None:
        """Sleep on the engine's clock; cancelled at once by a kill or a timeout."""

    def process_started(self, pid: int) -> None:
        """Record a subprocess (its own process group) so a restarted engine can end it."""

    @property
    def services(self) -> EngineServices | None:
        """The engine's services (None where no engine runs the task: a unit test's context)."""


RunFunction = Callable[[RunContext], Coroutine[Any, Any, TaskOutcome]]
#: renders a property value (templates in strings, maps and lists) in the task run's context
Render = Callable[[Any], Any]


class PlanError(Exception):
    """A property could not be evaluated: the flowable fails at once with this message logged."""


#: one child of a flowable's main branch: (task, loop value, iteration, group)
Child = tuple[model.TaskDef, str | None, int | None, int]


@dataclass(frozen=True, slots=True)
class MainBranch:
    """How a started flowable runs its main branch: its children in order, and the mode."""

    #: its children in order; loop value and iteration are None outside loops
    children: Sequence[Child]
    mode: Mode = Mode.SEQUENTIAL
    #: PARALLEL: most children active at once; GROUPED: most groups open (0: no limit)
    limit: int = 0
    #: GROUPED: children per group (one group per loop value)
    group_size: int = 1


@dataclass(frozen=True, slots=True)
class Flowable:
    """The hooks of a flowable task type: what it does that other flowables do not."""

    #: its main branch, laid out from its plan when it starts (and when it is rebuilt)
    layout: Callable[[model.TaskDef, Plan], MainBranch]
    #: what it decides when it starts (loop values, the If/Switch branch); raises PlanError.
    #: None: nothing to decide (Sequential, Parallel, Pause, AllowFailure)
    plan: Callable[[model.TaskDef, Render], Plan] | None = None
    #: it goes PAUSED when it starts, until resumed or its delay or timeout (Pause)
    pauses: bool = False
    #: its children's failure makes it WARNING, not FAILED (AllowFailure)
    absorbs_failure: bool = False


@dataclass(frozen=True, slots=True)
class TaskType:
    """A task type: its names, kind, properties and (for runnables) how it runs."""

    name: str
    kind: model.TaskKind
    properties: Mapping[str, Prop]
    aliases: tuple[str, ...] = ()
    run: RunFunction | None = None
    deprecated: bool = False
    #: a pure in-process task (no effect outside Tercel, never awaits): it runs inside the
    #: engine pass and its attempt row is committed together with its result. A crash before
    #: that commit loses both and the attempt runs again, so delivery stays at-least-once.
    inline: bool = False
    #: for flowables: their hooks (what they plan, how they run their children)
    flowable: Flowable | None = None
