"""The in-process broker behind the subscriptions (docs/architecture.md#streams).

The engine calls every listener synchronously after each commit. The `Broker` is one of them: it
turns the committed batch into one immutable `Event` (shared by every subscriber) and offers it to
each interested subscriber's bounded queue with `put_nowait`. It never blocks nor awaits. A
subscriber whose queue is full misses the event and is marked *lagging*: it then empties its
queue and catches up from the database, which is the truth (the broker is only a wake-up and a
fast path). Memory stays bounded: at most `queue_size` events per subscriber, and at most
`max_subscriptions` subscribers in the process.

The broker also offers a small single-flight cache (`shared`) so that subscribers of the same
execution load one snapshot per committed change, not one each.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import copy
import dataclasses
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from tercel.engine import changes, model
from tercel.engine.states import StateType

if TYPE_CHECKING:
    from tercel.engine.changes import Batch
    from tercel.engine.runtime.scheduler import Engine

__all__ = [
    "DEFAULT_MAX_SUBSCRIPTIONS",
    "DEFAULT_QUEUE_SIZE",
    "Attributes",
    "Broker",
    "Event",
    "Subscriber",
    "TooManySubscriptions",
    "attach",
    "broker_of",
]

T = TypeVar("T")

DEFAULT_QUEUE_SIZE = 1024
DEFAULT_MAX_SUBSCRIPTIONS = 10_000
#: snapshots kept for sharing (the newest ones; older keys are loaded again when asked)
_SHARED = 256


class TooManySubscriptions(Exception):
    """The process-wide subscription limit is reached."""


@dataclass(frozen=True, slots=True)
class Attributes:
    """The attributes of an execution that stream filters test (labels change only by
    `setExecutionLabels`, whose commit carries the new ones)."""

    namespace: str
    flow_id: str
    labels: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, execution: model.Execution) -> Attributes:
        labels = tuple((lb.key, lb.value) for lb in execution.labels)
        return cls(execution.namespace, execution.flow_id, labels)


@dataclass(frozen=True, slots=True)
class Event:
    """What one commit wrote, as the subscribers see it (shared, never mutated)."""

    #: appended history entries, in `seq` order
    states: tuple[changes.StateRow, ...]
    #: appended log lines, in `seq` order
    logs: tuple[changes.LogRow, ...]
    #: execution id -> its committed state, for every execution the commit touched
    committed: Mapping[str, StateType]
    #: executions deleted (their streams complete)
    deleted: frozenset[str]
    #: attributes of the executions the engine had at hand for this commit
    attributes: Mapping[str, Attributes]
    #: every execution id the event concerns
    touched: frozenset[str]
    #: executions whose labels this commit replaced (no state entry: a new snapshot)
    relabelled: frozenset[str] = frozenset()
    #: executions this commit created, as it wrote them (copies: the engine goes on changing
    #: its own); only while a global stream listens (the list shows new rows from them)
    created: Mapping[str, model.Execution] = field(default_factory=dict)
    #: values derived from the event once and shared by its subscribers (payload objects)
    memo: dict[Hashable, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, batch: Batch, keep_created: bool = False) -> Event | None:
        found = batch.changes
        if not (found.states or found.logs or found.deleted_executions or batch.states):
            return None
        rows = tuple(sorted(found.states, key=lambda r: r.seq))
        logs = tuple(sorted(found.logs, key=lambda r: r.seq))
        deleted = frozenset(found.deleted_executions)
        attributes = {ex.id: Attributes.of(ex) for ex in batch.executions}
        for ex in (*found.new_executions.values(), *found.relabelled.values()):
            attributes[ex.id] = Attributes.of(ex)
        touched = (
            {r.execution_id for r in rows}
            | {r.execution_id for r in logs}
            | set(batch.states)
            | deleted
        )
        relabelled = frozenset(found.relabelled)
        created = (
            {ex_id: _as_committed(ex) for ex_id, ex in found.new_executions.items()}
            if keep_created
            else {}
        )
        return cls(
            rows,
            logs,
            dict(batch.states),
            deleted,
            attributes,
            frozenset(touched),
            relabelled,
            created,
        )


def _as_committed(ex: model.Execution) -> model.Execution:
    """A copy of `ex` as committed. Its state and labels are immutable values the engine
    replaces (the list is copied), its task runs change in place (copied whole, usually none at
    creation); inputs, trigger and variables never change after the creation (shared)."""
    return dataclasses.replace(
        ex,
        labels=list(ex.labels),
        outputs=copy.deepcopy(ex.outputs),
        task_runs=copy.deepcopy(ex.task_runs),
    )


class Subscriber:
    """One subscription's bounded queue. `get()` answers the next event, or None when events
    were dropped (the subscriber must then catch up from the database)."""

    __slots__ = ("dropped", "execution_id", "lagging", "log_head", "queue", "state_head")

    def __init__(
        self, execution_id: str | None, queue_size: int, state_head: int = 0, log_head: int = 0
    ) -> None:
        self.execution_id = execution_id
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=queue_size)
        self.lagging = False
        #: events this subscriber missed (for diagnostics and tests)
        self.dropped = 0
        #: the highest state-change and log sequence numbers published before the registration:
        #: every row above them is offered to this subscriber (a stream "from now" starts there)
        self.state_head, self.log_head = state_head, log_head

    def offer(self, event: Event) -> bool:
        """Called by the broker, in the engine's loop: never blocks. False when dropped."""
        if not self.lagging:
            try:
                self.queue.put_nowait(event)
                return True
            except asyncio.QueueFull:
                self.lagging = True
        self.dropped += 1
        return False

    async def get(self) -> Event | None:
        if not self.lagging:
            event = await self.queue.get()
            if not self.lagging:
                return event
        self._reset()
        return None

    def _reset(self) -> None:
        """Forget the queued events: the database catch-up that follows covers them (and any
        event offered from now on is queued again)."""
        self.lagging = False
        while not self.queue.empty():
            self.queue.get_nowait()


class Broker:
    """Fans committed batches out to subscribers. Register it with `attach(engine)`."""

    def __init__(
        self,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        max_subscriptions: int = DEFAULT_MAX_SUBSCRIPTIONS,
        heads: Callable[[], tuple[int, int]] = lambda: (0, 0),
    ) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self.queue_size, self.max_subscriptions = queue_size, max_subscriptions
        #: the highest state-change and log `seq` published so far (the engine's, once attached)
        self.heads = heads
        self._global: set[Subscriber] = set()
        self._by_execution: dict[str, set[Subscriber]] = {}
        self._count = 0
        #: events dropped for lagging subscribers since the start (they caught up from the DB)
        self.dropped = 0
        self._shared: collections.OrderedDict[Hashable, asyncio.Future[Any]] = (
            collections.OrderedDict()
        )

    # ------------------------------------------------------------------ subscribers

    @property
    def subscribers(self) -> int:
        """Active subscriptions."""
        return self._count

    def subscribe(self, execution_id: str | None = None) -> Subscriber:
        """A new subscriber for one execution (or all when None), with the heads published so
        far (read in the same step: no publish comes in between). Register before reading."""
        if self._count >= self.max_subscriptions:
            raise TooManySubscriptions(
                f"Subscription limit reached ({self.max_subscriptions} per process)"
            )
        subscriber = Subscriber(execution_id, self.queue_size, *self.heads())
        if execution_id is None:
            self._global.add(subscriber)
        else:
            self._by_execution.setdefault(execution_id, set()).add(subscriber)
        self._count += 1
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Idempotent."""
        if subscriber.execution_id is None:
            found = subscriber in self._global
            self._global.discard(subscriber)
        else:
            group = self._by_execution.get(subscriber.execution_id)
            found = group is not None and subscriber in group
            if group is not None:
                group.discard(subscriber)
                if not group:
                    del self._by_execution[subscriber.execution_id]
        if found:
            self._count -= 1

    # ------------------------------------------------------------------ publishing

    def __call__(self, batch: Batch) -> None:
        """The engine listener."""
        self.publish(batch)

    def publish(self, batch: Batch) -> None:
        event = Event.of(batch, keep_created=bool(self._global))
        if event is None:
            return
        dropped = 0
        for subscriber in self._global:
            dropped += not subscriber.offer(event)
        if self._by_execution:
            for execution_id in event.touched:
                for subscriber in self._by_execution.get(execution_id, ()):
                    dropped += not subscriber.offer(event)
        self.dropped += dropped

    # ------------------------------------------------------------------ sharing

    async def shared(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        """`load()` once per key for everybody asking at about the same time (the newest
        `_SHARED` keys are remembered). A failed load is forgotten, so the next caller retries."""
        future = self._shared.get(key)
        if future is None:

            async def run() -> T:
                return await load()

            # an empty context: the load outlives the asking subscription, and must not keep
            # what that subscription's context holds (its connection)
            future = asyncio.get_running_loop().create_task(run(), context=contextvars.Context())
            self._shared[key] = future
            while len(self._shared) > _SHARED:
                self._shared.popitem(last=False)
            future.add_done_callback(lambda done: self._forget_failed(key, done))
        result: T = await asyncio.shield(future)
        return result

    def _forget_failed(self, key: Hashable, future: asyncio.Future[Any]) -> None:
        if future.cancelled() or future.exception() is not None:
            if self._shared.get(key) is future:
                del self._shared[key]


def attach(
    engine: Engine,
    queue_size: int = DEFAULT_QUEUE_SIZE,
    max_subscriptions: int = DEFAULT_MAX_SUBSCRIPTIONS,
) -> Broker:
    """The engine's broker, created and registered as a listener on first call."""
    for listener in engine.listeners:
        if isinstance(listener, Broker):
            return listener

    def heads() -> tuple[int, int]:
        return engine.published_state_seq, engine.published_log_seq

    broker = Broker(queue_size, max_subscriptions, heads)
    engine.listeners.append(broker)
    return broker


def broker_of(engine: Engine) -> Broker:
    """The broker registered on `engine` (one with the defaults when none was)."""
    return attach(engine)
