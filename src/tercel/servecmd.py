"""`tercel server`: the GraphQL API with the engine in the same process."""

from __future__ import annotations

import argparse
import sys
from types import FrameType
from typing import Any

import uvicorn

from tercel.settings import Settings
from tercel.storage import lock

__all__ = ["serve", "uvicorn_config"]

EXIT_OK = 0
EXIT_IN_USE = 2
EXIT_STARTUP = 4


class _Server(uvicorn.Server):
    """A uvicorn server whose SIGINT/SIGTERM stop is a clean exit (status 0): uvicorn re-raises
    the captured signal after its graceful shutdown, which would end the process with it."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        captured = getattr(self, "_captured_signals", None)
        if isinstance(captured, list):
            captured.clear()


def uvicorn_config(app: Any, settings: Settings, log_level: str = "info") -> uvicorn.Config:
    """How the server runs the application (the tests run it the same way)."""
    # permessage-deflate declined unless asked for: event frames are small JSON, and compressing
    # each one per connection took about a sixth of the fan-out's CPU (py-spy on the server of
    # `TERCEL_WS_DEFLATE=1 TERCEL_BENCH_CLIENT=websockets python -m bench.subscriptions`)
    return uvicorn.Config(
        app, host=settings.host, port=settings.port, lifespan="on", ws="websockets-sansio",
        ws_per_message_deflate=settings.ws_deflate, log_level=log_level,
    )  # fmt: skip


def serve(args: argparse.Namespace) -> int:
    settings = Settings.from_args(args)
    # Checked before uvicorn starts so the refusal is one clear line rather than a lifespan
    # traceback; the engine takes the lock for good when it starts.
    probe = lock.EngineLock(settings.db_path)
    try:
        probe.acquire()
    except lock.DatabaseInUseError as error:
        print(f"tercel server: {error}", file=sys.stderr)
        return EXIT_IN_USE
    probe.release()

    from tercel.app import create_app

    app = create_app(settings)
    server = _Server(uvicorn_config(app, settings))
    try:
        server.run()
    except lock.DatabaseInUseError as error:  # lost a race with another process
        print(f"tercel server: {error}", file=sys.stderr)
        return EXIT_IN_USE
    if not server.started:
        print("tercel server: startup failed (see above)", file=sys.stderr)
        return EXIT_STARTUP
    return EXIT_OK
