"""`tercel server`: the GraphQL API with the engine in the same process."""

from __future__ import annotations

import argparse
import os
import socket
import sys
import threading
from types import FrameType
from typing import Any

import uvicorn

from tercel import startcheck
from tercel.settings import Settings
from tercel.storage import lock

__all__ = ["serve", "uvicorn_config"]

EXIT_OK = 0
EXIT_IN_USE = 2
EXIT_PORT = 2
EXIT_STARTUP = 4
#: the engine loop died while serving: a supervisor should restart the process
EXIT_ENGINE_STOPPED = 4
#: how long the graceful stop after an engine death may take before the process just exits
ENGINE_STOPPED_HARD_EXIT = 4.0


class _Server(uvicorn.Server):
    """A uvicorn server whose SIGINT/SIGTERM stop is a clean exit (status 0): uvicorn re-raises
    the captured signal after its graceful shutdown, which would end the process with it.
    Once started it prints where the UI and GraphQL are served."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        captured = getattr(self, "_captured_signals", None)
        if isinstance(captured, list):
            captured.clear()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and sockets:
            base = _base_url(self.config.host, sockets[0].getsockname()[1])
            print(f"tercel: UI at {base}/ui/  GraphQL at {base}/graphql", flush=True)


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
    # Checked before the engine starts, so each refusal is one clear line rather than a lifespan
    # traceback (and a busy port never runs a crash recovery); the engine takes the lock for
    # good when it starts.
    problem = startcheck.open_problem(settings.db_path)
    if problem is not None:
        print(f"tercel server: {problem.message}", file=sys.stderr)
        return problem.exit_status
    try:
        listener = _listen(settings.host, settings.port)
    except OSError as error:
        where = f"{settings.host}:{settings.port}"
        reason = os.strerror(error.errno) if error.errno else str(error)
        print(f"tercel server: cannot listen on {where}: {reason}", file=sys.stderr)
        return EXIT_PORT

    from tercel.app import create_app

    app = create_app(settings)
    server = _Server(uvicorn_config(app, settings))
    app.state.runtime.request_exit = lambda: _exit_after_engine_death(server)
    try:
        server.run(sockets=[listener])
    except lock.DatabaseInUseError as error:  # lost a race with another process
        print(f"tercel server: {error}", file=sys.stderr)
        return EXIT_IN_USE
    finally:
        listener.close()
    if not server.started:
        print("tercel server: startup failed (see above)", file=sys.stderr)
        return EXIT_STARTUP
    stopped = app.state.runtime.engine_stopped
    if stopped is not None:
        print(f"tercel server: the engine stopped: {stopped}", file=sys.stderr)
        return EXIT_ENGINE_STOPPED
    return EXIT_OK


def _exit_after_engine_death(server: uvicorn.Server) -> None:
    """Stop gracefully; a stop that hangs (a client holding a connection) is cut short."""
    server.should_exit = True

    def hard_exit() -> None:
        sys.stderr.flush()
        os._exit(EXIT_ENGINE_STOPPED)

    timer = threading.Timer(ENGINE_STOPPED_HARD_EXIT, hard_exit)
    timer.daemon = True
    timer.start()


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything else starts (a busy port: OSError)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=2048)


def _base_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
