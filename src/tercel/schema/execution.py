"""A faster completion of plain-data subtrees (task runs, attempts, metrics, states, histories).

graphql-core completes every field of a result through its general machinery (resolver call,
info object, awaitable checks, path bookkeeping): about 10 µs a field. A list page of 100
executions with their task runs and attempts has some 30,000 fields, nearly all leaves of
plain objects that `from_domain()` built in full. For the object types listed in `PLAIN`, whose
fields are plain attributes (no resolvers, no context), this context builds the response
directly from the collected selection set: aliases, `__typename`, fragments and @skip/@include
are honoured because the selection is collected by graphql-core itself. Anything unexpected
(a null in a non-null field, a type outside the list) falls back to the general path, which
then reports it as usual.

The stream events (`StateChange`, `LogEntry`) are plain data too (`schema.streams`): a
subscription executes its selection set once per event and per group of subscribers, and that
execution, not the event itself, was most of a lone subscriber's server CPU per message. A field
of a plain type whose type is not plain completes a null here; any other value sends the whole
object to the general path.

`Execution` is plain but for its resolvers: the ones in `IN_MEMORY` answer here from an
execution held whole in memory (the row on a stream's CREATED entry, which the open list of the
web UI asks for at every new execution, and a mutation's answer), and raise `NotPlain` for one
read from storage (a list page), which then takes the general path, resolvers and loaders; a
selection of any other resolver (`taskRunList`, `timeline`) takes the general path whole.

`event_renderer()` goes one step further for a subscription whose one root field this path
completes: an event's `data` without graphql-core's per-event execution (the executor's copy,
the root field's collection, argument coercion and resolve info), which costs more than the
completion itself; `resolvers.live.fanout` writes it as the event's frame. A websocket
operation's task sets `SUBSCRIPTION_BUILT` to hear of the subscription's executor when `build`
makes it (the schema's executor class stays this one).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    OperationType,
    is_leaf_type,
)
from graphql.execution.collect_fields import collect_fields
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from tercel.schema import leaves, types

__all__ = ["IN_MEMORY", "PLAIN", "SUBSCRIPTION_BUILT", "EventRenderer", "FastExecutionContext"]

#: object types whose every field is a plain attribute of the `from_domain()` object, or one of
#: `IN_MEMORY`
PLAIN = frozenset(
    {
        *("TaskRun", "Attempt", "Metric", "State", "StateHistory", "Label", "StateChange"),
        *("LogEntry", "Execution", "ExecutionMetadata", "ExecutionTrigger"),
    }
)

_NAMES: dict[tuple[str, str], str] = {}
#: an executor's completers (an attribute of its own, shared with its per-event copies)
_CACHE = "_tercel_completers"


Completer = Callable[[Any], Any]
#: an event -> the `data` of its result, or None when the event needs the general path
EventRenderer = Callable[[Any], "dict[str, Any] | None"]


#: what a websocket operation's task does with a subscription executor built in it (None: no
#: operation listens, an HTTP request)
SUBSCRIPTION_BUILT: ContextVar[Callable[[FastExecutionContext], None] | None] = ContextVar(
    "tercel_subscription_built", default=None
)


def _state_in_memory(source: types.Execution) -> Any:
    found = source.state_in_memory()
    if found is None:
        raise leaves.NotPlain  # read from storage: the resolver reads its histories
    return found


#: (type, field) -> the value of a resolver field, without its resolver, or `NotPlain`
IN_MEMORY: dict[tuple[str, str], Completer] = {("Execution", "state"): _state_in_memory}


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        """graphql-core's `build` (an executor, or the errors of the arguments); a subscription's
        executor is handed to `SUBSCRIPTION_BUILT` when the running task set it."""
        built = super().build(*args, **kwargs)
        hear = SUBSCRIPTION_BUILT.get()
        if (
            hear is not None
            and isinstance(built, FastExecutionContext)
            and built.operation.operation is OperationType.SUBSCRIPTION
        ):
            hear(built)
        return built

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: Any,
        info: GraphQLResolveInfo[Any],
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        if result is not None and not isinstance(result, Exception) and _plain(return_type):
            try:
                return self._completer(return_type, field_details_list)(result)
            except leaves.NotPlain:
                pass
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def build_per_event_executor(self, payload: Any) -> Any:
        """A subscription's executor for one event: a shallow copy of this one, which then
        shares this one's completers, so a selection's completer is built once per operation,
        not once per event (building it costs more than completing a small event)."""
        self.__dict__.setdefault(_CACHE, {})
        return super().build_per_event_executor(payload)

    def event_renderer(self) -> EventRenderer | None:
        """The `data` of a subscription event's result, as `execute_subscription_event` answers
        it, for an operation whose one root field is of a type this path completes; None for
        any other operation. Built once per operation: its variables are fixed, so the root
        field's collection and arguments (coerced once by the subscribe step) are too."""
        root = self.schema.subscription_type
        if (
            root is None
            or self.operation.operation is not OperationType.SUBSCRIPTION
            or (self.middleware_manager and self.middleware_manager.middlewares)
        ):
            return None
        grouped, deferred, *_ = collect_fields(
            self.schema, self.fragments, self.variable_values, root, self.operation,
            self.hide_suggestions,
        )  # fmt: skip
        if len(grouped) != 1 or deferred:
            return None
        [(key, details)] = grouped.items()
        field = root.fields.get(details[0].node.name.value)
        if field is None or not _plain(field.type) or not _passes_events(field):
            return None
        complete = self._completer(field.type, details)

        def data(event: Any) -> dict[str, Any] | None:
            if event is None or isinstance(event, Exception):
                return None  # the general path reports it
            try:
                return {key: complete(event)}
            except leaves.NotPlain:
                return None

        return data

    def _completer(self, kind: GraphQLOutputType, details: Any) -> Completer:
        """A function completing values of `kind` for this selection, built once per query
        (once per subscription operation, shared by its events).

        The cache keeps `details` alive, so the identities in its key cannot be reused while
        it lives; the variables are the operation's own, the same for every event."""
        cache: dict[tuple[int, ...], tuple[Any, Completer]] = self.__dict__.setdefault(_CACHE, {})
        key = _selection_key(kind, details)
        found = cache.get(key)
        if found is None:
            found = cache[key] = (details, self._build(kind, details))
        return found[1]

    def _build(self, kind: GraphQLOutputType, details: Any) -> Completer:
        if isinstance(kind, GraphQLNonNull):
            if is_leaf_type(kind.of_type):  # the commonest case, fused into one call
                return leaves.required(kind.of_type)
            inner = self._build(kind.of_type, details)

            def required(value: Any) -> Any:
                if value is None:
                    raise leaves.NotPlain
                return inner(value)

            return required
        if is_leaf_type(kind):
            return leaves.nullable(kind)
        return _nullable(self._build_value(kind, details))

    def _build_value(self, kind: GraphQLOutputType, details: Any) -> Completer:
        if isinstance(kind, GraphQLList):
            item = self._completer(kind.of_type, details)
            return lambda values: [item(value) for value in values]
        if not isinstance(kind, GraphQLObjectType) or kind.name not in PLAIN:
            return _general  # a null completes as null (`_build`); a value needs the general path
        steps: list[tuple[str, str | None, Any]] = []
        computed: list[tuple[str, Completer]] = []
        for key, sub_details in self.collect_subfields(kind, details).grouped_field_set.items():
            name = sub_details[0].node.name.value
            if name == "__typename":
                steps.append((key, None, kind.name))
                continue
            field = kind.fields[name]
            definition = field.extensions.get("strawberry-definition")
            if getattr(definition, "base_resolver", None) is not None:
                found = IN_MEMORY.get((kind.name, name))
                if found is None:
                    return _general  # a resolver of its own: the general path
                computed.append((key, found))
            attribute = _python_name(kind, name, field.extensions)
            steps.append((key, attribute, self._completer(field.type, sub_details)))
        return _with_computed(steps, computed) if computed else _of_attributes(steps)


def _of_attributes(steps: list[tuple[str, str | None, Any]]) -> Completer:
    def complete(source: Any) -> dict[str, Any]:
        return {
            key: complete_field(getattr(source, attribute)) if attribute else complete_field
            for key, attribute, complete_field in steps
        }

    return complete


def _with_computed(
    steps: list[tuple[str, str | None, Any]], computed: list[tuple[str, Completer]]
) -> Completer:
    """`_of_attributes` with some fields' values from `IN_MEMORY`, taken first: one that is not
    in memory sends the object to the general path before any field is completed."""

    def complete(source: Any) -> dict[str, Any]:
        known = {key: value_of(source) for key, value_of in computed}
        return {
            key: (
                complete_field(known[key] if key in known else getattr(source, attribute))
                if attribute
                else complete_field
            )
            for key, attribute, complete_field in steps
        }

    return complete


def _selection_key(kind: GraphQLOutputType, details: Any) -> tuple[int, ...]:
    """What a completer depends on. graphql-core memoizes selection lists within one
    executor, so the same `details` object comes back for every item of a list and every
    parent; a subscription collects its root fields again for each event, into new lists of the
    same field nodes of the one parsed document: keyed on those nodes, so the events share."""
    if all(d.defer_usage is None and d.fragment_variable_values is None for d in details):
        return (id(kind), *(id(d.node) for d in details))
    return (id(kind), -1, id(details))


def _passes_events(field: GraphQLField) -> bool:
    """The root field's value for an event is the event itself (strawberry resolves a
    subscription field's events so), with no argument read."""
    if field.resolve is None or field.subscribe is None:
        return False
    probe = object()
    return field.resolve(probe, None) is probe


def _general(value: Any) -> Any:
    """A value of a type this path does not complete."""
    raise leaves.NotPlain


def _nullable(inner: Completer) -> Completer:
    return lambda value: None if value is None else inner(value)


def _plain(kind: GraphQLOutputType) -> bool:
    while isinstance(kind, GraphQLNonNull | GraphQLList):
        kind = kind.of_type
    return isinstance(kind, GraphQLObjectType) and kind.name in PLAIN


def _python_name(kind: GraphQLObjectType, name: str, extensions: dict[str, Any]) -> str:
    key = (kind.name, name)
    found = _NAMES.get(key)
    if found is None:
        definition = extensions.get("strawberry-definition")
        found = _NAMES[key] = getattr(definition, "python_name", None) or name
    return found
