"""The server's watch over its engine (docs/semantics.md#durability, #api-limits): what `/health`
answers, and what happens when the engine loop dies (commands are refused at once by the engine
itself; the server is asked to exit, and `tercel server` then exits with status 4 so that a
supervisor restarts it)."""

from __future__ import annotations

import asyncio
import sys
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tercel.engine.runtime import pubsub

if TYPE_CHECKING:
    from tercel.engine.runtime.scheduler import Engine
    from tercel.schema.context import Services

__all__ = ["ENGINE_STOPPED_EXIT_DELAY", "Runtime", "health", "supervise"]

#: after the engine loop died, the server asks to exit this long after (so /health says why)
ENGINE_STOPPED_EXIT_DELAY = 1.0


class Runtime:
    """What the application's lifespan starts and the watch records: the services while the app
    runs, whether it is ready, and why the engine loop died."""

    services: Services | None = None
    ready: bool = False
    #: why the engine loop died (the process should exit with status 4), None while it runs
    engine_stopped: str | None = None
    #: set by `tercel server`: stops the process once the engine loop died
    request_exit: Callable[[], None] | None = None

    def engine(self) -> Engine | None:
        """The running engine; None before the lifespan started it (routes answer 503)."""
        return None if self.services is None else self.services.engine


async def supervise(engine: Engine, runtime: Runtime) -> None:
    """Wait for the engine loop to end; if it died, record why and ask the server to exit."""
    error = await engine.crashed()
    if error is None:
        return
    runtime.engine_stopped = engine.stopped_reason or repr(error)
    traceback.print_exception(error, file=sys.stderr)
    await asyncio.sleep(ENGINE_STOPPED_EXIT_DELAY)
    if runtime.request_exit is not None:
        runtime.request_exit()


def health(engine: Engine | None, ready: bool) -> tuple[dict[str, Any], int]:
    """`/health`'s body and status: `{"status": "ok", "subscriptions": N}` (N live
    subscriptions), else 503 while starting, after the engine died (with the reason), or while
    commits fail for lack of disk space."""
    if engine is None:
        return {"status": "starting"}, 503
    if engine.stopped_reason is not None:
        return {"status": "engine_stopped", "reason": engine.stopped_reason}, 503
    if not ready:
        return {"status": "starting"}, 503
    if engine.storage_error is not None:
        return {"status": "storage_full"}, 503
    return {"status": "ok", "subscriptions": pubsub.broker_of(engine).subscribers}, 200
