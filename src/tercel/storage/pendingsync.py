"""The files put into internal storage and not synced yet, synced together just before the
engine's next commit (docs/semantics.md#files, "Durable before referenced").

`LocalFiles.put` writes a file under a temporary name and renames it into place; the flush to
disk waits here until the engine's writer thread calls `LocalFiles.sync`, right before it
commits (engine/runtime/commits.py), so every file is durable before a commit can refer to it.
The files are synced concurrently: a journaling file system (ext4, XFS) joins concurrent fsyncs
into one journal commit, so 1,000 files cost about what a few cost (on the bench host 0.3 s
against 3.6 s one after the other), and the engine loop no longer waits on a disk flush in the
middle of its passes (ForEachItem writes one file per batch there).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from tercel.engine.files import FileMissing, FileRefused

__all__ = ["PendingSyncs"]

#: concurrent fsyncs of one flush (the file system joins them into shared journal commits)
_THREADS = 16
#: O_NONBLOCK: a FIFO put in a file's place must not hold the writer's flush (and every commit)
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_GONE = (errno.ENOENT, errno.ENOTDIR, errno.ELOOP)
#: folders held open at once by a flush: thousands pending (namespace files uploaded one per
#: folder between two commits) are synced in groups, never one descriptor each at once (past
#: the process's limit every commit failed, and was retried, for good)
_FOLDERS_AT_ONCE = 64

#: a folder as segments under the storage root
Folder = tuple[str, ...]


class PendingSyncs:
    """Per folder, the names of the files written in it since the last flush; a folder with no
    names had a new folder made in it (its entries must be synced)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[Folder, set[str]] = {}
        self._pool: ThreadPoolExecutor | None = None

    def add_file(self, folder: Folder, name: str) -> None:
        with self._lock:
            self._pending.setdefault(folder, set()).add(name)

    def add_folder(self, folder: Folder) -> None:
        with self._lock:
            self._pending.setdefault(folder, set())

    def __len__(self) -> int:
        with self._lock:
            return sum(len(names) + 1 for names in self._pending.values())

    def flush(self, open_folder: Callable[[Folder], int]) -> None:
        """Sync every pending file, then every folder they are in. A file or folder removed
        meanwhile (its execution deleted) needs nothing. On an error (a failing disk) what was
        taken stays pending, so the next flush tries again."""
        with self._lock:
            taken, self._pending = self._pending, {}
        if not taken:
            return
        try:
            self._sync(taken, open_folder)
        except BaseException:
            with self._lock:
                for folder, names in taken.items():
                    self._pending.setdefault(folder, set()).update(names)
            raise

    def _sync(self, taken: dict[Folder, set[str]], open_folder: Callable[[Folder], int]) -> None:
        folders = list(taken)
        for start in range(0, len(folders), _FOLDERS_AT_ONCE):
            group = folders[start : start + _FOLDERS_AT_ONCE]
            self._sync_group({folder: taken[folder] for folder in group}, open_folder)

    def _sync_group(
        self, taken: dict[Folder, set[str]], open_folder: Callable[[Folder], int]
    ) -> None:
        """Sync the files of these folders, then the folders, concurrently."""
        opened: dict[Folder, int] = {}
        try:
            for folder in taken:
                with contextlib.suppress(FileMissing, FileRefused):
                    opened[folder] = open_folder(folder)
            jobs: list[tuple[int, str | None]] = [
                (fd, name) for folder, fd in opened.items() for name in taken[folder]
            ]
            self._run(jobs)
            self._run([(fd, None) for fd in opened.values()])
        finally:
            for fd in opened.values():
                os.close(fd)

    def _run(self, jobs: list[tuple[int, str | None]]) -> None:
        if len(jobs) <= 2:
            for job in jobs:
                _sync_one(job)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(_THREADS, thread_name_prefix="tercel-fsync")
        for _ in self._pool.map(_sync_one, jobs):  # re-raises the first error
            pass


def _sync_one(job: tuple[int, str | None]) -> None:
    """fsync the file `name` of the folder `fd` (the folder itself when `name` is None)."""
    folder, name = job
    if name is None:
        os.fsync(folder)
        return
    try:
        handle = os.open(name, _FILE, dir_fd=folder)
    except OSError as error:
        if error.errno in _GONE:
            return  # removed, or replaced by a folder or a link since: nothing of it to keep
        raise
    try:
        if stat.S_ISREG(os.fstat(handle).st_mode):  # else replaced (a FIFO): nothing to keep
            os.fsync(handle)
    finally:
        os.close(handle)
