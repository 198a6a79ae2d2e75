"""The schema's executor: the fast completion path (`schema.execution`), and, for a subscription
built inside a websocket operation's task, its event renderer handed to the operation's scope
(`fanout`), which then writes the events it can answer as frames of its own.

It lives with the live streams rather than in `schema` because it reaches the operation scope;
`resolvers.build` gives it to the schema."""

from __future__ import annotations

from typing import Any

from tercel.resolvers.live import fanout
from tercel.schema import execution

__all__ = ["StreamingExecutionContext"]


class StreamingExecutionContext(execution.FastExecutionContext):
    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        """graphql-core's `build` (an executor, or the errors of the arguments); a subscription
        built in an operation task gives that operation's scope its renderer (a query over
        the websocket, or an operation whose root field the fast path does not complete, gives
        none)."""
        built = super().build(*args, **kwargs)
        scope = fanout.scope_of_task()
        if scope is not None and isinstance(built, execution.FastExecutionContext):
            scope.render = built.event_renderer()
        return built
