"""Render worker processes: where renders that outgrew the event loop's slice run (#12 item 4).

A render thread shares the server's GIL: one C-level step (splitting 1 MB, `title` over 1 MB)
runs to its end holding it, and the event loop waits. Measured on the 2-core machine with
heavy renders back to back: the loop's lag was p50 1.2 ms, p99 6.2-6.4 ms with the render on a
thread (switch interval 1 ms), p50 0.1 ms, p99 0.2-1.5 ms with the same renders in a worker
process. So a render that leaves the loop runs here, in one of `WORKERS` Python processes
started when first needed (~0.2 s each, seconds on a loaded machine; a job is sent once its
worker says it is ready, so a start is outside any deadline) and kept for the next renders.

A job is a pure function of plain data: a module-level callable (pickled by name), its
arguments and a pickled expression context. The caller (a render thread, never the loop) waits
without the GIL for at most the job's deadline plus `GRACE_SECONDS`; the worker that overruns
it is killed and replaced, which stops even a step no deadline check can interrupt. A worker
runs under a 1 GiB address-space limit, so a render that allocates gigabytes fails alone.
"""

from __future__ import annotations

import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from multiprocessing.connection import Connection
from typing import Any

from tercel.engine.expressions import errors, guard

__all__ = [
    "GRACE_SECONDS",
    "WORKERS",
    "Farm",
    "Overran",
    "call_away",
    "pack",
    "render_away",
    "render_one",
    "unpack",
]

#: render processes: one, which leaves the other core of the 2-core target to the server (two
#: doubled the p99 of `{ __typename }` under the heavy mix: 128-182 ms against 72-75 ms)
WORKERS = 1
#: time a worker gets past its job's deadline to stop by itself (a deadline check, a jq helper
#: killed at the deadline) before the caller kills it
GRACE_SECONDS = 0.5
#: address space of one render process
MEMORY_LIMIT = 1 << 30
#: how long a new render process may take to start (imports; seconds on a loaded machine),
#: outside any render's deadline
STARTUP_SECONDS = 30.0
_ERROR_LOGS = "__errorLogs"

Job = Callable[..., Any]


class Overran(Exception):
    """The worker did not answer within the deadline and its grace: it was killed."""


def pack(context: dict[str, Any]) -> bytes:
    """The context as bytes (its snapshot: the engine keeps changing the live one); the
    `errorLogs()` source is read now."""
    plain = dict(context)
    logs = plain.get(_ERROR_LOGS)
    if callable(logs):
        plain[_ERROR_LOGS] = list(logs())
    return pickle.dumps(plain, protocol=pickle.HIGHEST_PROTOCOL)


def unpack(blob: bytes) -> dict[str, Any]:
    context: dict[str, Any] = pickle.loads(blob)
    if _ERROR_LOGS in context:
        logs = context[_ERROR_LOGS]
        context[_ERROR_LOGS] = lambda: logs
    return context


class _Worker:
    """One render process: `python -c` importing this module and the jobs' modules (not
    multiprocessing, whose spawn and forkserver start methods run the server's `__main__`
    again in every worker), answering over a socket pair with pickled frames."""

    def __init__(self, preload: list[str]) -> None:
        ours, theirs = socket.socketpair()
        with ours, theirs:
            imports = "; ".join(f"import {name}" for name in preload)
            self.process = subprocess.Popen(
                [sys.executable, "-c", f"{imports}; {__name__}._serve({theirs.fileno()})"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
                process_group=0,  # its own group, so that its jq helper goes with it
            )
            self.conn = Connection(os.dup(ours.fileno()))

    def wait_ready(self, timeout: float) -> None:
        """Wait for the worker's imports: a job's deadline starts when it can run. (A deadline
        counted from the spawn failed the first render at load ~12, where a start takes
        seconds.)"""
        problem = f"did not start within {timeout:g} s"
        try:
            if self.conn.poll(timeout) and self.conn.recv() == ("ready", None):
                return
        except (EOFError, OSError):
            problem = "exited while it started"
        self.kill()
        raise errors.ExpressionError(f"The render process {problem}")

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """Kill the worker and what it started (a jq helper busy in an endless program)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        self.conn.close()


class Farm:
    """At most `size` render processes, started when first needed; `call` blocks its thread."""

    def __init__(self, size: int = WORKERS, preload: tuple[str, ...] = ()) -> None:
        #: modules a worker imports when it starts (those of the jobs it will run)
        self.preload = [__name__, *preload]
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(size)
        self._closed = False

    def call(self, job: Job, args: tuple[Any, ...], context: bytes, spent: float) -> Any:
        """`job(render, *args)` in a worker, `render` rendering against `context`; the job's
        renders share one deadline, `guard.DEADLINE_SECONDS - spent`. Raises what the job
        raised as an `ExpressionError` (its message), `Overran` when the worker was killed."""
        limit = guard.DEADLINE_SECONDS
        deadline = max(limit - spent, 0.0)
        request = pickle.dumps((job, args, context, limit, spent), protocol=pickle.HIGHEST_PROTOCOL)
        with self._slots:
            worker = self._checkout()
            try:
                worker.conn.send_bytes(request)
                kind, payload = _answer(worker.conn, deadline + GRACE_SECONDS)
            except Overran:
                worker.kill()
                raise
            except (EOFError, OSError):
                worker.kill()
                raise errors.ExpressionError(
                    "The render process stopped unexpectedly (out of memory?)"
                ) from None
            self._checkin(worker)
        if kind != "ok":
            raise errors.ExpressionError(payload)
        return payload

    def close(self) -> None:
        """Stop the idle workers; a busy one stops when its call returns."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()

    def _checkout(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise errors.ExpressionError("The engine is stopping: the render was not run")
            while self._idle:
                worker = self._idle.pop()
                if worker.alive():
                    return worker
                worker.kill()
        worker = _Worker(self.preload)
        worker.wait_ready(STARTUP_SECONDS)
        return worker

    def _checkin(self, worker: _Worker) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(worker)
                return
        worker.kill()


def _answer(conn: Connection, timeout: float) -> tuple[str, Any]:
    """The worker's answer within `timeout` of the job's start (on a busy machine the worker
    may take a while to read the request), which the worker may extend (jq helper start-up
    does not count against a render's deadline)."""
    until = time.monotonic() + timeout
    while True:
        left = until - time.monotonic()
        if left <= 0 or not conn.poll(left):
            raise Overran()
        kind, payload = conn.recv()
        if kind == "start":
            until = time.monotonic() + timeout
        elif kind == "extend":
            until += payload
        else:
            return kind, payload


def render_one(render: Callable[[Any], Any], value: Any) -> Any:
    """The job of one render."""
    return render(value)


def render_away(pool: Farm, value: Any, context: bytes, spent: float) -> Any:
    """`value` rendered in a render process (see `call_away`)."""
    return call_away(pool, render_one, (value,), context, spent, value)


def call_away(
    pool: Farm, job: Job, args: tuple[Any, ...], context: bytes, spent: float, reads: Any
) -> Any:
    """`pool.call`, with the worker killed at the deadline reported like a render that ran
    into it, naming the first expression of `reads` (what the job renders)."""
    try:
        return pool.call(job, args, context, spent)
    except Overran:
        first = next(_templates(reads), "")
        raise errors.ExpressionError(
            f"Rendering took longer than the {guard.DEADLINE_SECONDS:g} s time limit (the render "
            f"process was stopped) in the expression `{first}` at line 1"
        ) from None


def _templates(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if "{{" in value or "{%" in value or "{#" in value:
            yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _templates(key)
            yield from _templates(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _templates(item)


def _serve(fd: int) -> None:
    """A worker's loop: one job at a time, until the engine's end of the socket closes."""
    from tercel.engine import expressions  # noqa: F401 - imported before announcing readiness

    conn = Connection(fd)
    _limit_memory()
    guard.EXTENSION_HOOKS.append(lambda seconds: conn.send(("extend", seconds)))
    conn.send(("ready", None))
    while True:
        try:
            request = conn.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            conn.send(_run(conn, request))
        except Exception as error:  # an answer that cannot be pickled
            conn.send(("error", f"The render's result cannot be sent back: {error}"))


def _run(conn: Connection, request: bytes) -> tuple[str, Any]:
    from tercel.engine import expressions

    try:
        job, args, blob, limit, spent = pickle.loads(request)
        context = unpack(blob)
        guard.DEADLINE_SECONDS = limit  # the engine's, which a test may have changed
        guard.set_spent(spent)
        conn.send(("start", None))
        saved = guard.enter()  # one deadline for all the job's renders
        try:
            return "ok", job(lambda value: expressions.render_value(value, context), *args)
        finally:
            guard.leave(saved)
    except errors.RenderFailure as error:
        return "error", str(error)
    except MemoryError:
        return "error", "Out of memory while rendering"
    except Exception as error:
        return "error", str(error) or type(error).__name__


def _limit_memory() -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except (ImportError, ValueError, OSError):
        pass
