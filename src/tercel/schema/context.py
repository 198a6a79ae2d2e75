"""The per-request context: the application's services and fresh DataLoaders.

It lives beside the types because they read through it: `Execution.state` and
`Execution.taskRunList` load a page's children with the request's loaders. The resolvers (a
layer above) use the same context for the services.

Loaders cache for the life of one HTTP request only (docs/semantics.md#queries): module-level
loaders would serve stale rows forever and break across event loops. A websocket connection's
context is created once per connection, so it must not hold loaders: subscriptions call
`new_loaders` per event instead."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.extensions import SchemaExtension

from tercel.engine import model, states
from tercel.settings import Settings
from tercel.storage.histories import HistoryKey
from tercel.storage.read import connection, executions, rows

if TYPE_CHECKING:
    from tercel.engine.runtime.scheduler import Engine

__all__ = [
    "Context",
    "Loaders",
    "OperationLoaders",
    "Services",
    "loaders",
    "new_loaders",
    "reset_loaders",
    "services",
]

_BATCH = 500
V = TypeVar("V")


@dataclass(slots=True)
class Services:
    """What lives for the whole application: settings, the engine and the read engine."""

    settings: Settings
    engine: Engine
    db: connection.Reader


class Loaders:
    """Batched loads keyed by execution id: one `WHERE execution_id IN (...)` per batch.

    Each loader is made on its first use: most requests use none (a createExecution made ten,
    five for its request and five again after its write), and a subscription event one or two.
    """

    __slots__ = ("_db", "_made")

    def __init__(self, db: connection.Reader) -> None:
        self._db = db
        self._made: dict[str, DataLoader[str, Any]] = {}

    @property
    def executions(self) -> DataLoader[str, rows.ExecutionRow | None]:
        return self._loader("executions", executions.executions_by_id)

    @property
    def task_runs(self) -> DataLoader[str, list[rows.TaskRunRow]]:
        return self._loader("task_runs", executions.task_runs_by_execution)

    @property
    def metrics(self) -> DataLoader[str, dict[tuple[str, int], list[model.Metric]]]:
        return self._loader("metrics", executions.metrics_by_execution)

    @property
    def histories(self) -> DataLoader[str, dict[HistoryKey, states.State]]:
        return self._loader("histories", executions.histories_by_execution)

    @property
    def labels(self) -> DataLoader[str, list[model.Label]]:
        return self._loader("labels", executions.labels_by_execution)

    def _loader(
        self, name: str, fn: Callable[[connection.Reader, list[str]], Awaitable[list[V]]]
    ) -> DataLoader[str, V]:
        made = self._made.get(name)
        if made is None:
            db = self._db

            async def load(ids: list[str]) -> list[V]:
                return await fn(db, ids)

            made = self._made[name] = DataLoader(load_fn=load, max_batch_size=_BATCH)
        return cast("DataLoader[str, V]", made)


def new_loaders(db: connection.Reader) -> Loaders:
    return Loaders(db)


@dataclass(slots=True)
class Context:
    services: Services
    request: Any = None
    response: Any = None
    #: None on websocket connections (see the module docstring)
    loaders: Loaders | None = None
    #: the websocket `connection_init` payload (set by Strawberry)
    connection_params: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


#: loaders of the running websocket operation (set by `OperationLoaders`)
_operation_loaders: ContextVar[Loaders | None] = ContextVar("tercel_loaders", default=None)


class OperationLoaders(SchemaExtension):
    """Fresh loaders per operation on websocket connections, whose context is shared by every
    operation of the connection (HTTP contexts already carry per-request loaders)."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        if not isinstance(context, Context) or context.loaders is not None:
            yield
            return
        token = _operation_loaders.set(new_loaders(context.services.db))
        try:
            yield
        finally:
            try:
                _operation_loaders.reset(token)
            except ValueError:  # exited in another context: nothing to restore
                pass


def services(info: strawberry.Info) -> Services:
    context: Context = info.context
    return context.services


def loaders(info: strawberry.Info) -> Loaders:
    context: Context = info.context
    if context.loaders is not None:
        return context.loaders
    found = _operation_loaders.get()
    return found if found is not None else new_loaders(context.services.db)


def reset_loaders(info: strawberry.Info) -> None:
    """Fresh caches after a write: the next mutation of the request must not see stale rows."""
    context: Context = info.context
    if context.loaders is not None:
        context.loaders = new_loaders(context.services.db)
    else:
        _operation_loaders.set(new_loaders(context.services.db))
