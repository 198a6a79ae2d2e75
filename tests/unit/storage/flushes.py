"""`Flushes`: os.fsync wrapped to record what was flushed, by which thread, and to fail the
first calls like a failing disk (tests of storage/pendingsync.py and of the engine's commits)."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path
from typing import Any

import pytest


class Flushes:
    """Every fsync: the thread that made it and the (device, inode) it flushed; the first
    `failures` calls raise EIO."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, failures: int = 0) -> None:
        self.threads: list[int] = []
        self.synced: set[tuple[int, int]] = set()
        self.failures = failures
        self._lock = threading.Lock()
        real = os.fsync

        def recording(fd: Any) -> None:
            with self._lock:
                if self.failures > 0:
                    self.failures -= 1
                    raise OSError(errno.EIO, "I/O error")
            found = os.fstat(fd)
            real(fd)
            with self._lock:
                self.threads.append(threading.get_ident())
                self.synced.add((found.st_dev, found.st_ino))

        monkeypatch.setattr(os, "fsync", recording)

    def has(self, path: Path) -> bool:
        found = path.stat()
        return (found.st_dev, found.st_ino) in self.synced
