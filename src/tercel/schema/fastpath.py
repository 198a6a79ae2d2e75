"""An HTTP operation whose document passed validation before, executed without strawberry's
per-request extension machinery.

`strawberry.Schema.execute` builds, for every request, an instance of each extension, four
context managers around their hooks (operation, parsing, validation, execution), a middleware
manager and the extensions' results, and the extension instances and the execution context
hold each other (cyclic garbage for the collector): ~12 % of a createExecution's CPU under a
stream of them. For a document this schema validated before (`querycost.passed_before`, by the
identity the parser cache gives it), what the extensions do per request is known, and it is
done here directly, in their order:

* `NamingParserCache` with `MaxTokensLimiter`'s option: the same cached parse, so the same
  document object;
* `CostedValidationCache`, `AddValidationRules`, `DisableIntrospection`: the document passed
  them; its variables are checked as that cache checks them (a refusal takes the general path,
  which answers it);
* `OperationLoaders`: nothing on HTTP, whose context carries its own loaders;
* `TercelMaskErrors`: the errors logged as the schema logs them, then `answered`.

The answer is strawberry's `ExecutionResult`, as `Schema.execute` returns it; anything unusual
(another extension, a middleware, a document not validated yet, an operation type not allowed,
a websocket context) takes the general path, which answers as before. tests/api/
test_fastpath.py compares the answers of both paths."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from inspect import isawaitable
from typing import Any

import strawberry
from graphql import DocumentNode, GraphQLError
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.extensions import AddValidationRules, DisableIntrospection, MaxTokensLimiter
from strawberry.schema._graphql_core import execution_context_class_kwargs
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType
from strawberry.utils.operation import get_first_operation, get_operation_type

from tercel.schema import argbounds, context, execution, extensions, querycost, syntax

__all__ = ["KNOWN_EXTENSIONS", "FastPath"]

#: the extensions whose per-request work this path repeats (see the module docstring)
KNOWN_EXTENSIONS: frozenset[type] = frozenset(
    {
        extensions.TercelMaskErrors,
        syntax.NamingParserCache,
        MaxTokensLimiter,
        AddValidationRules,
        DisableIntrospection,
        querycost.CostedValidationCache,
        context.OperationLoaders,
    }
)

_FAST_TYPES = frozenset({OperationType.QUERY, OperationType.MUTATION})


class FastPath:
    """`execute` answers a request as `schema.execute` would, or returns None when the request
    must take the general path. `enabled` is False when the schema has an extension this path
    does not know (or a middleware); `served` counts the requests it answered."""

    def __init__(
        self,
        schema: strawberry.Schema,
        parse: Callable[..., DocumentNode],
        parse_options: dict[str, Any],
    ) -> None:
        self.schema, self.parse, self.parse_options = schema, parse, parse_options
        found = {type(extension) for extension in schema.get_extensions()}
        self.enabled = (
            found <= KNOWN_EXTENSIONS
            and not schema.config.enable_experimental_incremental_execution
        )
        self.execute_function = schema._get_execute_function()
        executor = schema.execution_context_class
        if executor is execution.FastExecutionContext:
            executor = _ReleasingExecutor
        self.executor = execution_context_class_kwargs(executor)
        self.served = 0

    def document(
        self, query: Any, operation_name: str | None, allowed: Iterable[OperationType], given: Any
    ) -> DocumentNode | None:
        """The request's document, when it can take this path."""
        if not self.enabled or not isinstance(query, str) or not query:
            return None
        if not isinstance(given, context.Context) or given.loaders is None:
            return None
        try:
            document = self.parse(query, **self.parse_options)
            operation_type = get_operation_type(document, operation_name)
        except Exception:
            return None  # the general path reports it
        if operation_type not in _FAST_TYPES or operation_type not in allowed:
            return None
        return document if querycost.passed_before(document, self.schema) else None

    async def execute(
        self,
        query: Any,
        *,
        variables: dict[str, Any] | None,
        context_value: Any,
        root_value: Any,
        operation_name: str | None,
        allowed: Iterable[OperationType],
        operation_extensions: dict[str, Any] | None,
    ) -> ExecutionResult | None:
        """The answer, or None: the general path answers."""
        document = self.document(query, operation_name, allowed, context_value)
        if document is None or _refused(document, variables):
            return None
        self.served += 1
        schema = self.schema
        try:
            result = self.execute_function(
                schema._schema,
                document,
                root_value=root_value,
                variable_values=variables,
                operation_name=_operation_name(document, operation_name),
                context_value=context_value,
                is_awaitable=optimized_is_awaitable,
                operation_extensions=operation_extensions,
                **self.executor,
            )
            if isawaitable(result):
                result = await result
        except Exception as error:
            cause = error if isinstance(error, GraphQLError) else _coerced(error)
            return self._answer(PreExecutionError(data=None, errors=[cause]))
        return self._answer(ExecutionResult(data=result.data, errors=result.errors))

    def _answer(self, result: ExecutionResult) -> ExecutionResult:
        """Errors logged (`Schema._process_errors`), then masked or given their code."""
        if result.errors:
            self.schema._process_errors(result.errors, None)
            result.errors = [extensions.answered(error) for error in result.errors]
        result.extensions = {}
        return result


class _ReleasingExecutor(execution.FastExecutionContext):
    """Drops its resolver helpers once its response is built. They are bound methods of the
    executor, held by it: a reference cycle that kept each request's executor, context,
    loaders and caches alive until the collector's next young collection (~100 objects a
    request). Resolve infos still alive keep the helpers they were given."""

    def build_response(self, data: dict[str, Any] | None) -> Any:
        try:
            return super().build_response(data)
        finally:
            self.async_helpers = None  # type: ignore[assignment]


def _refused(document: DocumentNode, variables: dict[str, Any] | None) -> bool:
    """A variable `CostedValidationCache` refuses (or a check that fails): the general path
    answers it."""
    try:
        return argbounds.too_long_argument(document, variables) is not None
    except Exception:
        return True


def _operation_name(document: DocumentNode, given: str | None) -> str | None:
    """As strawberry's `ExecutionContext.operation_name`: the given one, else the first
    operation's."""
    if given is not None:
        return given
    first = get_first_operation(document)
    return first.name.value if first is not None and first.name is not None else None


def _coerced(error: Exception) -> GraphQLError:
    return GraphQLError(str(error), original_error=error)
