"""One engine per database file: an exclusive `flock` on the database file itself.

The lock belongs to the file (its inode), not to the path that names it: a symlink, a hardlink,
a relative or `./` path all reach the same lock. A lock on a side file named after the path let a
second engine in through another name, and its crash recovery then ended the first engine's
shell processes. `flock` and SQLite's own POSIX (`fcntl`) locks are independent on Linux; the
descriptor stays open for the engine's lifetime and is closed only after the database is.

The holder is named from `/proc/locks` (pid) and `/proc/PID/cmdline`.
"""

from __future__ import annotations

import fcntl
import os

__all__ = ["DatabaseInUseError", "DatabaseOpenError", "EngineLock"]


class DatabaseInUseError(RuntimeError):
    """Another process runs an engine on this database file."""


class DatabaseOpenError(RuntimeError):
    """The database file cannot be opened or created (missing folder, read-only location)."""


class EngineLock:
    def __init__(self, db_path: str) -> None:
        self.db_path = db_path
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.db_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as error:
            raise DatabaseOpenError(
                f"cannot open database {self.db_path}: {error.strerror}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = holder_of(fd)
            os.close(fd)
            raise DatabaseInUseError(
                f"database {self.db_path} is in use by {holder}; one engine per database file"
            ) from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def holder_of(fd: int) -> str:
    """`process PID (command)` of the process holding a flock on fd's file, when Linux says."""
    info = os.fstat(fd)
    where = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as locks:
            rows = [line.split() for line in locks]
    except OSError:
        return "another process"
    for row in rows:
        if len(row) > 5 and row[1] == "FLOCK" and row[5] == where and row[4].isdigit():
            return f"process {row[4]} ({_command(row[4])})"
    return "another process"


def _command(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            args = cmdline.read().split(b"\0")
    except OSError:
        return "unknown command"
    words = (os.path.basename(a.decode(errors="replace")) for a in args[:4] if a)
    return " ".join(" ".join(word.split())[:60] for word in words)
