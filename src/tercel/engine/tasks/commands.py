"""The shell Commands task: a real local subprocess (docs/semantics.md#commands).

The script runs in its own process group, in a working directory of its own (`workfiles`:
`inputFiles` in, `outputFiles` out), with a minimal environment. Output lines become logs as
they come, with backpressure (`RunContext.drain`); `::{json}::` lines carry outputs, metrics
and logs (`directives`). A kill or a timeout arrives as asyncio cancellation. Whatever ends the
attempt, every process it started (its group, and the descendants that left it:
`descendants`) gets SIGTERM, then SIGKILL after 2 s, and the attempt ends only once they are
gone (no process outlives its attempt).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tercel.engine import model
from tercel.engine.tasks import base, descendants, directives, processgroups, workfiles

__all__ = ["run"]

T = TypeVar("T")

#: lines longer than this many bytes are cut
LINE_LIMIT = 64 * 1024
#: how long a terminated process group gets before SIGKILL
#: the only variables of the server's environment passed on
_INHERITED_ENV = ("PATH", "HOME", "LANG", "TMPDIR")
_IGNORED_PROPERTIES = ("taskRunner", "containerImage", "docker")
_DIRECTIVE = re.compile(r"^::(\{.*\})::$")
_POLL_SECONDS = 0.05
_DRAIN_SECONDS = 1.0


@dataclass(slots=True)
class _Script:
    args: list[str]
    env: dict[str, str]
    warning_on_stderr: bool
    #: TERCEL_ATTEMPT's value: how the attempt's descendants are found (`descendants`)
    mark: str


@dataclass(slots=True)
class _Collector:
    """Turns output lines into logs, metrics and vars."""

    ctx: base.RunContext
    vars: dict[str, Any] = field(default_factory=dict)
    stderr_seen: bool = False

    def line(self, text: str, *, stderr: bool) -> None:
        match = _DIRECTIVE.match(text)
        if match:
            self._directive(match.group(1))
            return
        self.stderr_seen = self.stderr_seen or stderr
        self.ctx.log(model.LogLevel.ERROR if stderr else model.LogLevel.INFO, text)

    def _directive(self, text: str) -> None:
        try:
            outputs, metrics, logs = directives.parse(text)
        except (ValueError, TypeError, KeyError, RecursionError):
            self.ctx.log(model.LogLevel.WARN, f"Invalid outputs '{text}'")
            return
        self.vars.update(outputs)
        for kind, name, value, tags in metrics:
            record = self.ctx.counter if kind == "counter" else self.ctx.timer
            record(name, value, tags)
        for level, message in logs:
            self.ctx.log(level, message)


async def run(ctx: base.RunContext) -> base.TaskOutcome:
    """Run one attempt of a Commands task."""
    properties = ctx.task.properties
    for name in _IGNORED_PROPERTIES:
        if properties.get(name) is not None:
            ctx.log(
                model.LogLevel.WARN, f"Property '{name}' is ignored: Tercel runs a local process"
            )
    folders = workfiles.Folders.create()
    try:
        script = _prepare(ctx, properties, folders.variables)
        await workfiles.write_inputs(ctx, folders, properties.get("inputFiles"))
        collector = _Collector(ctx)
        code = await _execute(ctx, script, folders.working, collector)
        if code != 0:
            raise base.TaskFailure(f"Command failed with exit code {code}")
        stored = await workfiles.collect_outputs(ctx, folders, properties.get("outputFiles"))
    finally:
        folders.remove()
    state = "WARNING" if script.warning_on_stderr and collector.stderr_seen else "SUCCESS"
    outputs: dict[str, Any] = {"exitCode": 0, "vars": collector.vars}
    if stored is not None:
        outputs["outputFiles"] = stored
    return base.TaskOutcome(state=state, outputs=outputs)


def _prepare(
    ctx: base.RunContext, properties: Mapping[str, Any], folders: Mapping[str, str]
) -> _Script:
    lines = ["set -e"] if properties.get("failFast", True) else []
    for name in ("beforeCommands", "commands"):
        lines += [directives.text(ctx.render(line, folders)) for line in properties.get(name) or []]
    interpreter = [str(part) for part in properties.get("interpreter") or ["/bin/sh", "-c"]]
    env = {key: os.environ[key] for key in _INHERITED_ENV if key in os.environ}
    for key, value in (properties.get("env") or {}).items():
        rendered = ctx.render(value, folders) if isinstance(value, str) else value
        env[str(key)] = directives.text(rendered)
    mark = descendants.mark(ctx.task_run_id, ctx.attempt_number)
    env[descendants.MARKER] = mark
    warning = bool(properties.get("warningOnStdErr", True))
    return _Script([*interpreter, "\n".join(lines)], env, warning, mark)


async def _execute(
    ctx: base.RunContext, script: _Script, workdir: str, collector: _Collector
) -> int:
    """Run the script to its end (or until cancelled); returns Kestra's exit code."""
    proc = await _spawn(script, workdir)
    try:
        ctx.process_started(proc.pid)
        return await _follow(proc, script.mark, collector)
    finally:
        processgroups.roots.discard(proc.pid)


async def _follow(proc: asyncio.subprocess.Process, mark: str, collector: _Collector) -> int:
    """Stream the output until the script ends, then end whatever it left behind."""
    assert proc.stdout is not None and proc.stderr is not None
    drain = collector.ctx.drain
    readers = asyncio.gather(
        _read_lines(proc.stdout, lambda text: collector.line(text, stderr=False), drain),
        _read_lines(proc.stderr, lambda text: collector.line(text, stderr=True), drain),
    )
    try:
        # `proc.wait()` also waits for the pipes to close, which leftovers of the script
        # (`cmd &`) would keep open: watch the exit code while the output drains instead
        while not readers.done():
            if proc.returncode is not None:
                await processgroups.stop_group(proc, mark)  # no process outlives its attempt
                await _drain(proc, readers)
                break
            await asyncio.wait([readers], timeout=_POLL_SECONDS)
        await readers
        code = await proc.wait()
    except BaseException:
        await _uninterruptible(_cleanup(proc, mark, readers))
        raise
    # Java's Process reports death by signal N as 128 + N
    return 128 - code if code < 0 else code


async def _spawn(script: _Script, workdir: str) -> asyncio.subprocess.Process:
    """Start the script's root process, counted in `processgroups.spawning` until it is known.

    A kill that lands while the root already runs but its spawn is not finished (the window a
    loaded host widens) ends it once the spawn is done and counted out: the cleanup inside the
    count would skip reaping (`stop_group` reaps adopted orphans only when no spawn is under
    way), leaving the escaped descendants it kills as zombies of the engine.
    """
    spawned: list[asyncio.subprocess.Process] = []

    async def keep(proc: asyncio.subprocess.Process) -> None:
        spawned.append(proc)

    try:
        with processgroups.spawning():
            proc = await _start(script, workdir, keep)
    except asyncio.CancelledError:
        for proc in spawned:
            processgroups.roots.add(proc.pid)  # the child watcher reaps it, never `stop_group`
            try:
                await _uninterruptible(_cleanup(proc, script.mark, None))
            finally:
                processgroups.roots.discard(proc.pid)
        raise
    processgroups.roots.add(proc.pid)
    return proc


async def _start(
    script: _Script,
    workdir: str,
    on_cancel: Callable[[asyncio.subprocess.Process], Awaitable[None]],
) -> asyncio.subprocess.Process:
    """Create the root process; one created while a cancel arrived goes to `on_cancel`."""
    try:
        return await _uninterruptible(
            asyncio.create_subprocess_exec(
                *script.args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=workdir,
                env=script.env,
                start_new_session=True,
                preexec_fn=processgroups.die_with_parent(),
            ),
            on_cancel=on_cancel,
        )
    except OSError as error:
        raise base.TaskFailure(f"Cannot start {script.args[0]}: {error.strerror}") from error


async def _read_lines(
    stream: asyncio.StreamReader,
    on_line: Callable[[str], None],
    drain: Callable[[], Awaitable[None]],
) -> None:
    """Feed each line (without its end of line, cut at LINE_LIMIT bytes) to on_line; between
    chunks, wait while the logs not yet committed are over their bound (`drain`): the pipe then
    fills and the script blocks on its writes, so memory never grows with the output."""
    buffer = bytearray()
    skipping = False  # inside the tail of a line already cut

    def emit(raw: bytes) -> None:
        on_line(raw[:LINE_LIMIT].rstrip(b"\r").decode("utf-8", errors="replace"))

    while chunk := await stream.read(LINE_LIMIT):
        buffer += chunk
        while (end := buffer.find(b"\n")) >= 0:
            if not skipping:
                emit(bytes(buffer[:end]))
            skipping = False
            del buffer[: end + 1]
        if len(buffer) > LINE_LIMIT:
            if not skipping:
                emit(bytes(buffer))
            skipping = True
            buffer.clear()
        await drain()
    if buffer and not skipping:
        emit(bytes(buffer))


async def _cleanup(
    proc: asyncio.subprocess.Process, mark: str, readers: asyncio.Future[Any] | None
) -> None:
    """End every process of the attempt, let the readers drain, reap the child."""
    await processgroups.stop_group(proc, mark)
    if readers is not None:
        await _drain(proc, readers)
        with contextlib.suppress(Exception):
            await readers
    await proc.wait()


async def _drain(proc: asyncio.subprocess.Process, readers: asyncio.Future[Any]) -> None:
    """Give the readers the rest of the output; with the group gone they end at once, unless a
    process that left the group still holds a pipe: then close our ends (the readers see EOF)."""
    await asyncio.wait([readers], timeout=_DRAIN_SECONDS)
    if not readers.done():
        transport = getattr(proc, "_transport", None)
        if transport is not None:
            transport.close()


async def _uninterruptible(
    awaitable: Awaitable[T],
    on_cancel: Callable[[T], Awaitable[None]] | None = None,
) -> T:
    """Await to completion even when cancelled meanwhile; then re-raise the cancellation.

    Cleanup must not be cut short by a second cancel (a kill during a timeout, say), and a
    process spawned while the cancel arrived must still be ended (`on_cancel`).
    """
    future = asyncio.ensure_future(awaitable)
    cancelled: asyncio.CancelledError | None = None
    while True:
        try:
            result = await asyncio.shield(future)
            break
        except asyncio.CancelledError as error:
            if future.cancelled():
                raise
            if future.done():
                result = future.result()
                cancelled = error
                break
            cancelled = error
    if cancelled is not None:
        if on_cancel is not None:
            await _uninterruptible(on_cancel(result))
        raise cancelled
    return result
