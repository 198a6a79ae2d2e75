"""`build_schema(settings)`: the GraphQL schema, from the root types of this package and the
types, limits, extensions and config of `tercel.schema`.

It lives here, at the top of the API layers, because it is the one place that needs both the
root types (resolvers) and the types they return (schema): the schema package stays free of
any import of the resolvers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from graphql.validation import MaxIntrospectionDepthRule
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.schema.config import StrawberryConfig

from tercel.resolvers import mutations, queries, subscriptions
from tercel.schema import (
    context,
    execution,
    extensions,
    fastpath,
    querycost,
    scalars,
    streams,
    syntax,
)
from tercel.settings import Settings

__all__ = ["build_schema", "fast_path"]

#: documents the parser cache keeps (shared by every schema built with this size)
PARSER_CACHE_SIZE = 256


def build_schema(
    settings: Settings, subscription: type | None = None, types: Sequence[type] = ()
) -> strawberry.Schema:
    """The schema with Tercel's limits. `subscription` is the `Subscription` root type (Tercel's
    own, `resolvers.subscriptions.Subscription`, by default); `types` are extra types to
    include."""
    if subscription is None:
        subscription = subscriptions.Subscription
    limits = settings.limits
    # Rule classes are built once: the validation cache is keyed by them, and extensions are
    # constructed per request (factories), so they must not build new classes each time.
    rules = (
        *QueryDepthLimiter(max_depth=limits.depth).validation_rules,
        *MaxAliasesLimiter(limits.aliases).validation_rules,
        MaxIntrospectionDepthRule,
    )
    chosen: list[Any] = [
        extensions.TercelMaskErrors,
        lambda: syntax.NamingParserCache(maxsize=PARSER_CACHE_SIZE),
        lambda: MaxTokensLimiter(limits.tokens),
        lambda: AddValidationRules(list(rules)),
        lambda: querycost.CostedValidationCache(maxsize=256, max_fields=limits.fields),
        context.OperationLoaders,
    ]
    if not settings.introspection:
        chosen.append(DisableIntrospection)
    # ExecutionUpdate belongs to the subscriptions; listed so their types exist beforehand
    extra: list[Any] = [streams.ExecutionUpdate, *types]
    return strawberry.Schema(
        query=queries.Query,
        mutation=mutations.Mutation,
        subscription=subscription,
        types=extra,
        extensions=chosen,
        config=StrawberryConfig(scalar_map=scalars.SCALARS),
        execution_context_class=execution.FastExecutionContext,
    )


def fast_path(schema: strawberry.Schema, settings: Settings) -> fastpath.FastPath:
    """The fast path of a schema `build_schema` made: the same parser cache and token limit."""
    parse = syntax.NamingParserCache(maxsize=PARSER_CACHE_SIZE).cached_parse_document
    return fastpath.FastPath(schema, parse, {"max_tokens": settings.limits.tokens})
