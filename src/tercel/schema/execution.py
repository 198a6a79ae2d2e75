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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    is_leaf_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from tercel.schema import leaves

__all__ = ["PLAIN", "FastExecutionContext"]

#: object types whose every field is a plain attribute of the `from_domain()` object
PLAIN = frozenset({"TaskRun", "Attempt", "Metric", "State", "StateHistory", "Label"})

_NAMES: dict[tuple[str, str], str] = {}


Completer = Callable[[Any], Any]


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
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

    def _completer(self, kind: GraphQLOutputType, details: Any) -> Completer:
        """A function completing values of `kind` for this selection, built once per query.

        graphql-core memoizes selection lists, so the same `details` object comes back for
        every item of a list and every parent: the cache is keyed on its identity and keeps
        it alive so the identity cannot be reused during the execution."""
        cache: dict[tuple[int, int], tuple[Any, Completer]] = self.__dict__.setdefault(
            "_tercel_completers", {}
        )
        key = (id(kind), id(details))
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
            raise leaves.NotPlain
        steps: list[tuple[str, str | None, Any]] = []
        for key, sub_details in self.collect_subfields(kind, details).grouped_field_set.items():
            name = sub_details[0].node.name.value
            if name == "__typename":
                steps.append((key, None, kind.name))
                continue
            field = kind.fields[name]
            attribute = _python_name(kind, name, field.extensions)
            steps.append((key, attribute, self._completer(field.type, sub_details)))

        def complete(source: Any) -> dict[str, Any]:
            return {
                key: complete_field(getattr(source, attribute)) if attribute else complete_field
                for key, attribute, complete_field in steps
            }

        return complete


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
