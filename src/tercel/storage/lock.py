"""One engine per database file: an exclusive `flock` on `<db>.lock` holding the owner's pid."""

from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path

__all__ = ["DatabaseInUseError", "EngineLock"]


class DatabaseInUseError(RuntimeError):
    """Another process runs an engine on this database file."""


class EngineLock:
    def __init__(self, db_path: str) -> None:
        self.path = Path(f"{db_path}.lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise DatabaseInUseError(
                f"database {self.path.with_suffix('')} is in use by {holder}; "
                "one engine per database file"
            ) from None
        os.ftruncate(fd, 0)
        command = " ".join(os.path.basename(a) for a in sys.argv[:3])
        os.write(fd, f"process {os.getpid()} ({command})".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
