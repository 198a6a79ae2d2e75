"""One operation's scope on a websocket, and the fan-out of shared events as ready frames.

Every subscription operation runs in a task of its own (one per `subscribe`/`start` message).
The transport handler opens an `OperationScope` for it in a context variable, so the resolvers
running in that task reach it through `current()`:

- **Cleanup.** Every broker subscriber a resolver registers is recorded, and unregistered when
  the operation task ends, however it ends: complete, error, disconnect, or a cancellation that
  interrupts the chain of `aclose()` calls through Strawberry and graphql-core (which would leave
  the resolver's generator to the garbage collector, and its subscriber registered until then).

- **Ready frames.** A committed row becomes one payload object shared by every subscriber
  (`loop._shared`). Subscriptions of one *group* (same document text,
  operation name and variables) turn the same payload into the same `payload` JSON: the event
  types are plain data, with no context reads. So the first subscription of a group that meets
  a payload sends it through Strawberry as usual (execution, error masking, extensions), and the
  handler keeps the encoded body of that `next`/`data` message when it carries neither errors
  nor extensions. Every other subscription of the group then writes that body with its own id
  as one text frame: no selection-set execution, no extension hooks, no JSON encoding per
  subscriber. Order holds: a resolver resumes after a `yield` only once its message was sent.

- **Rendered frames.** An operation whose events the fast completion path answers whole
  (`schema.execution`'s `event_renderer`, taken by the scope when the operation's executor is
  built: `SUBSCRIPTION_BUILT`) writes a payload no subscription of its group has sent yet from
  that `data` itself, and teaches it to the group: no per-event executor, extension hooks or
  result objects. It does so once a result of the operation went through Strawberry with
  nothing but `data` (no errors, no extensions: what a rendered frame could not carry), and
  the next result through Strawberry decides again; an event the renderer cannot answer (a
  null in a non-null field) is yielded, and Strawberry reports it as before.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import hashlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

import orjson
from strawberry.http.exceptions import WebSocketDisconnected

from tercel.engine.runtime import pubsub
from tercel.schema import execution

__all__ = [
    "Frames",
    "OperationScope",
    "Scope",
    "current",
    "group_of",
    "json_text",
    "opened",
    "scope_of_task",
]

#: encoded bodies remembered (the newest ones): a few thousand events' worth
FRAMES = 4096

SendText = Callable[[str], Awaitable[None]]
Group = bytes
#: an event -> the `data` of its result, or None when it needs Strawberry's path
Render = Callable[[object], "dict[str, object] | None"]


def json_text(value: object) -> str:
    """A websocket message (or part of one) as JSON text, encoded as the HTTP answers are."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def group_of(
    query: str, operation_name: str | None, variables: Mapping[str, object] | None
) -> Group | None:
    """What makes two subscriptions produce the same body for the same payload; None (never
    shared) for variables that do not encode back (nested deeper than the encoder goes)."""
    parts = [query, operation_name, variables or {}]
    try:
        encoded = orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return None
    return hashlib.blake2b(encoded, digest_size=16).digest()  # a key that pins no query text


class Frames:
    """Encoded `payload` bodies by (group, payload), bounded; one per application."""

    def __init__(self, size: int = FRAMES) -> None:
        self.size = size
        #: frames written from a known body, and from a rendered one (diagnostics and tests)
        self.hits = self.rendered = 0
        self._bodies: collections.OrderedDict[tuple[Group, int], tuple[object, str]] = (
            collections.OrderedDict()
        )

    def get(self, group: Group, payload: object) -> str | None:
        found = self._bodies.get((group, id(payload)))  # an entry pins its payload: ids hold
        if found is None:
            return None
        self.hits += 1
        return found[1]

    def put(self, group: Group, payload: object, body: str) -> None:
        self._bodies[(group, id(payload))] = (payload, body)  # the payload pins its id
        if len(self._bodies) > self.size:
            self._bodies.popitem(last=False)

    def __len__(self) -> int:
        return len(self._bodies)


class OperationScope:
    """What one subscription operation holds: its subscribers, and how to write its frames."""

    __slots__ = (
        "_pending",
        "_plain",
        "_subscribers",
        "frames",
        "group",
        "prefix",
        "render",
        "send_text",
    )

    def __init__(
        self, frames: Frames, group: Group | None, prefix: str, send_text: SendText
    ) -> None:
        #: `prefix + body + "}"` is this operation's message for a payload body; no group: the
        #: operation neither uses nor teaches ready frames
        self.frames, self.group, self.prefix, self.send_text = frames, group, prefix, send_text
        self._subscribers: list[tuple[pubsub.Broker, pubsub.Subscriber]] = []
        self._pending: object | None = None
        #: how this operation's events are rendered without Strawberry (None: they are not)
        self.render: Render | None = None
        #: the operation's last result through Strawberry carried nothing but `data`
        self._plain = False

    # ------------------------------------------------------------------ cleanup

    def registered(self, broker: pubsub.Broker, subscriber: pubsub.Subscriber) -> None:
        self._subscribers.append((broker, subscriber))

    def close(self) -> None:
        """Unregister every subscriber of the operation and let go of the connection (a task
        started from the operation's context may outlive it). Idempotent."""
        for broker, subscriber in self._subscribers:
            broker.unsubscribe(subscriber)
        self._subscribers.clear()
        self.group, self._pending, self.send_text = None, None, _closed
        self.render = None

    # ------------------------------------------------------------------ ready frames

    async def deliver(self, payload: object) -> bool:
        """Write the group's body for `payload` as one frame: True when it was known. When it was
        not, the caller yields the payload and the handler's `sent` remembers the body."""
        body = None if self.group is None else self.frames.get(self.group, payload)
        if body is None:
            body = self._rendered(payload)
        if body is None:
            self._pending = payload
            return False
        try:
            await self.send_text(self.prefix + body + "}")
        except WebSocketDisconnected:
            # the connection is gone: end the operation as the handler's cleanup would
            raise asyncio.CancelledError from None
        return True

    def built(self, executor: execution.FastExecutionContext) -> None:
        """The operation's subscription executor was built: how its events are rendered."""
        self.render = executor.event_renderer()

    def _rendered(self, payload: object) -> str | None:
        """The body of `payload` rendered here (and taught to the group), or None."""
        if self.render is None or not self._plain:
            return None
        data = self.render(payload)
        if data is None:
            return None
        body = json_text({"data": data})
        self.frames.rendered += 1
        if self.group is not None:
            self.frames.put(self.group, payload, body)
        return body

    def sent(self, payload_body: Mapping[str, object]) -> str:
        """The handler is sending this operation's next message, `payload_body` its payload:
        its JSON, remembered for the group when it answers the pending shared payload."""
        body = json_text(payload_body)
        pending, self._pending = self._pending, None
        self._plain = payload_body.keys() == {"data"}
        if pending is not None and self.group is not None and self._plain:
            self.frames.put(self.group, pending, body)
        return body


async def _closed(text: str) -> None:
    """The writer of a closed scope (in place of the one that held the connection)."""
    raise WebSocketDisconnected


class Scope(Protocol):
    """What a resolver asks of its operation's scope (`current()`)."""

    async def deliver(self, payload: object) -> bool: ...

    def registered(self, broker: pubsub.Broker, subscriber: pubsub.Subscriber) -> None: ...


class _Unscoped:
    """Outside a websocket operation (a test calling the schema directly): no frames."""

    async def deliver(self, payload: object) -> bool:
        return False

    def registered(self, broker: pubsub.Broker, subscriber: pubsub.Subscriber) -> None:
        pass


_CURRENT: contextvars.ContextVar[OperationScope | None] = contextvars.ContextVar(
    "tercel_operation_scope", default=None
)
_UNSCOPED = _Unscoped()


def opened(scope: OperationScope) -> None:
    """Make `scope` the current one for the rest of this task (call it in the operation task),
    and the one to hear of the task's subscription executor."""
    _CURRENT.set(scope)
    execution.SUBSCRIPTION_BUILT.set(scope.built)


def current() -> Scope:
    """The running operation's scope, or one that shares nothing and records nothing."""
    return _CURRENT.get() or _UNSCOPED


def scope_of_task() -> OperationScope | None:
    """The scope of the running operation task, for the handler's own sends."""
    return _CURRENT.get()
