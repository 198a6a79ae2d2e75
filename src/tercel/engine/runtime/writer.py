"""The engine's hold on its database file: the file lock (one engine per file), the writer
connection on its one dedicated thread (SQLite never sees two writers), a read-only connection
for the loop itself, and the internal storage's folder (`storage/files.py`). The one module of
the engine that names storage's classes: everything else sees them as `engine.store.Store`,
`StoreReads` and `engine.files.FileStorage`."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from tercel.engine import faults
from tercel.storage import files, lock, sqlite

__all__ = ["Storage"]

T = TypeVar("T")


class Storage:
    def __init__(self, path: str, synchronous: str, files_dir: str | None = None) -> None:
        self.path, self._synchronous = path, synchronous
        #: the internal storage: a folder beside the database unless configured
        self.files = files.LocalFiles(files_dir or files.default_folder(path))
        self._lock = lock.EngineLock(path)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="tercel-writer")
        self._db: sqlite.Database | None = None
        self._reader: sqlite.Reads | None = None

    async def open(self) -> None:
        """Lock the file, open (and migrate) it on the writer thread, open the loop's reader."""
        self._lock.acquire()
        try:
            self._db = await self.run(
                lambda: sqlite.Database(self.path, synchronous=self._synchronous)
            )
            self._reader = sqlite.Reads(sqlite.connect(self.path, readonly=True))
        except BaseException:
            self._lock.release()
            raise

    async def run(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the writer thread; an OperationalError is the environment's (a full
        disk, a locked file, an I/O error), not the data's, and says so."""
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn)
        except sqlite3.OperationalError as error:
            if sqlite.is_disk_full(error):
                raise faults.StorageFull(str(error)) from error
            raise faults.StorageTrouble(str(error)) from error

    async def close(self) -> None:
        if self._db is not None:
            await self.run(self._db.close)
        if self._reader is not None:
            self._reader.close()
        self._pool.shutdown(wait=True)
        self._lock.release()

    def release(self) -> None:
        """Give the file up after a failed start (the writer connection is left to close)."""
        self._lock.release()

    @property
    def db(self) -> sqlite.Database:
        assert self._db is not None, "engine not started"
        return self._db

    @property
    def reader(self) -> sqlite.Reads:
        assert self._reader is not None, "engine not started"
        return self._reader
