"""Run jq programs in a helper process that can be killed at the render deadline
(docs/semantics.md#expression-limits).

The helper (`_jqworker.py`) starts on first use, caches compiled programs, and is killed and
replaced when a program overruns; its start-up time is given back to the render's deadline.
Programs are checked first: at most 4 KiB, and none of the builtins that reach outside the
input (`env`, `$ENV`, `input`, `inputs`, `import`, `include`, `input_filename`, `debug`,
`stderr`, `halt`, `halt_error`, …).
"""

from __future__ import annotations

import atexit
import json
import os
import re
import select
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from tercel.engine.expressions import errors, guard

__all__ = ["check_program", "run", "shutdown"]

_WORKER_SCRIPT = str(Path(__file__).with_name("_jqworker.py"))
_STARTUP_TIMEOUT = 15.0
_FORBIDDEN = frozenset(
    {"env", "$ENV", "ENV", "input", "inputs", "import", "include", "input_filename", "debug"}
    | {"stderr", "halt", "halt_error", "$__loc__", "__loc__", "input_line_number"}
    | {"get_search_list", "$__prog_args", "get_prog_origin", "get_jq_origin", "modulemeta"}
)
#: all the helper inherits: enough to start Python, nothing that could hold a secret
_PASSED_ENVIRONMENT = ("PATH", "LD_LIBRARY_PATH", "SYSTEMROOT", "TMPDIR")
_IDENT = re.compile(r"\$?[A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)*")


def check_program(program: str) -> None:
    """Refuse oversized programs, comments and forbidden builtins (outside string literals)."""
    if len(program.encode()) > guard.MAX_JQ_PROGRAM:
        raise errors.RenderFailure(f"jq program is larger than {guard.MAX_JQ_PROGRAM} bytes")
    for name in _identifiers(program):
        if name in _FORBIDDEN:
            raise errors.RenderFailure(f"jq `{name}` is not allowed")


def _identifiers(program: str) -> list[str]:
    """Identifiers used as code: string bodies are skipped, interpolations `\\(…)` are not."""
    found: list[str] = []
    stack: list[int] = []  # -1: inside a string; n >= 0: open parens of an interpolation
    index, size = 0, len(program)
    while index < size:
        char = program[index]
        if stack and stack[-1] < 0:
            if char == "\\":
                if program.startswith("(", index + 1):
                    stack.append(0)
                index += 2
            else:
                if char == '"':
                    stack.pop()
                index += 1
            continue
        if char == "#":
            raise errors.RenderFailure("Comments are not allowed in jq programs")
        if char == '"':
            stack.append(-1)
        elif char == "(" and stack:
            stack[-1] += 1
        elif char == ")" and stack:
            if stack[-1] == 0:
                stack.pop()
            else:
                stack[-1] -= 1
        match = _IDENT.match(program, index) if (char.isalpha() or char in "_$") else None
        if match:
            is_field = (
                index > 0 and program[index - 1] == "." and not program[:index].endswith("..")
            )
            if not is_field or match.group().startswith("$"):
                found.append(match.group())
            index = match.end()
            continue
        index += 1
    return found


class _Worker:
    def __init__(self) -> None:
        self.owner = os.getpid()
        self.process = subprocess.Popen(
            [sys.executable, "-I", _WORKER_SCRIPT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={key: os.environ[key] for key in _PASSED_ENVIRONMENT if key in os.environ},
            close_fds=True,
        )
        self.pending = bytearray()
        os.set_blocking(self._pipes()[0].fileno(), False)  # writes wait in poll(), bounded
        try:
            if json.loads(self.read_line(time.monotonic() + _STARTUP_TIMEOUT)) != ["ready"]:
                raise EOFError
        except (TimeoutError, EOFError, ValueError):
            self.kill()
            raise errors.RenderFailure("The jq helper process could not start") from None

    def _pipes(self) -> tuple[IO[bytes], IO[bytes]]:
        assert self.process.stdin is not None and self.process.stdout is not None
        return self.process.stdin, self.process.stdout

    def request(self, line: bytes, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        self._write(line, deadline)
        return self.read_line(deadline)

    def _write(self, data: bytes, deadline: float) -> None:
        stdin, _ = self._pipes()
        fd = stdin.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        view = memoryview(data)
        while view:
            if not _wait(poller, deadline):
                raise TimeoutError
            try:
                view = view[os.write(fd, view[: 1 << 16]) :]
            except BlockingIOError:
                continue

    def read_line(self, deadline: float) -> bytes:
        _, stdout = self._pipes()
        fd = stdout.fileno()
        poller = select.poll()  # not select(): a busy server may hold descriptors above 1024
        poller.register(fd, select.POLLIN)
        while b"\n" not in self.pending:
            if not _wait(poller, deadline):
                raise TimeoutError
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise EOFError
            self.pending += chunk
        end = self.pending.index(b"\n")
        line = bytes(self.pending[:end])
        del self.pending[: end + 1]
        return line

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self._reap()

    def close(self) -> None:
        stdin, _ = self._pipes()
        try:
            stdin.close()
            self.process.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
        self._reap()

    def _reap(self) -> None:
        self.process.wait()
        for pipe in self._pipes():
            try:
                pipe.close()
            except OSError:
                pass


def _wait(poller: select.poll, deadline: float) -> bool:
    left = deadline - time.monotonic()
    return left > 0 and bool(poller.poll(max(int(left * 1000), 1)))


_LOCK = threading.Lock()
_worker: _Worker | None = None


def _current() -> _Worker:
    global _worker
    if _worker is not None and _worker.owner != os.getpid():
        _worker = None  # inherited through fork: the parent owns that process
    if _worker is None or _worker.process.poll() is not None:
        if _worker is not None:
            _worker.kill()
        started = time.monotonic()
        _worker = _Worker()
        guard.extend_deadline(time.monotonic() - started)
    return _worker


def _discard() -> None:
    global _worker
    if _worker is not None:
        _worker.kill()
        _worker = None


def run(program: str, text: str) -> list[Any]:
    """All results of `program` on the JSON `text`, within the render's deadline."""
    check_program(program)
    guard.check_blocking()
    line = json.dumps([program, text, guard.MAX_OUTPUT], ensure_ascii=False).encode() + b"\n"
    if not _LOCK.acquire(timeout=max(min(guard.remaining(), guard.DEADLINE_SECONDS), 0.0)):
        raise errors.RenderFailure("jq did not finish within the time limit")
    try:
        worker = _current()
        timeout = min(guard.remaining(), guard.DEADLINE_SECONDS)
        answer = worker.request(line, max(timeout, 0.0))
    except TimeoutError:
        _discard()
        raise errors.RenderFailure("jq did not finish within the time limit") from None
    except (EOFError, OSError):
        _discard()
        raise errors.RenderFailure("The jq helper process stopped unexpectedly") from None
    finally:
        _LOCK.release()
    kind, payload = json.loads(answer)
    if kind != "ok":
        raise errors.RenderFailure(f"jq `{program}` failed: {' '.join(payload.split())}")
    return json.loads(payload)  # type: ignore[no-any-return]


def shutdown() -> None:
    """Stop the helper process (it restarts on the next jq call)."""
    global _worker
    with _LOCK:
        if _worker is not None and _worker.owner == os.getpid():
            _worker.close()
        _worker = None


def _after_fork_in_child() -> None:
    """The parent's helper is the parent's: drop our copies of its pipes, never kill it."""
    global _LOCK, _worker
    _LOCK = threading.Lock()  # a parent thread may have held it while forking
    if _worker is not None:
        for pipe in _worker._pipes():
            try:
                pipe.close()
            except OSError:
                pass
        _worker.process.returncode = -1  # not our child: nothing to wait for
        _worker = None


atexit.register(shutdown)
os.register_at_fork(after_in_child=_after_fork_in_child)
