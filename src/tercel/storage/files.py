"""Internal storage on the local disk: one folder beside the database (docs/semantics.md#files).

`LocalFiles` implements `engine.files.FileStorage`. A URI's decoded segments become folders under
the root (`engine.files.segments` refuses `..`, encoded slashes and NUL). Every folder on the way
is opened with `O_NOFOLLOW` relative to its parent's descriptor, so a symbolic link placed
anywhere inside the root is refused instead of followed, and nothing outside the root is ever
opened, written or removed. Writes go to a temporary file that is renamed into place; `sync`
then flushes every file written since (and their folders) to disk, all at once
(`storage/pendingsync.py`). The engine's writer calls it right before each commit, so a file
is durable before the commit that refers to it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
import stat
from collections.abc import Iterator
from typing import BinaryIO

from tercel.engine import files as uris
from tercel.engine.files import FileMissing, FileRefused
from tercel.storage import pending
from tercel.storage.pendingsync import PendingSyncs

__all__ = ["LocalFiles", "default_folder"]

_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
#: how a stored file is opened for reading: never through a link, and never waiting (a FIFO
#: placed in the folder would hold the opening thread until a writer came; it is refused as
#: not a file instead). O_NONBLOCK does nothing to a regular file's reads.
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_CHUNK = 1 << 20
#: the name `put` writes under before renaming into place
_TEMPORARY = re.compile(r"\.tmp-[0-9a-f]{16}")


def default_folder(db_path: str) -> str:
    """Where a database's files live unless configured: `<db>.files` beside it."""
    return os.path.abspath(db_path) + ".files"


class LocalFiles:
    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        #: written since the last `sync`: flushed to disk by it
        self._unsynced = PendingSyncs()

    def __reduce__(self) -> tuple[type[LocalFiles], tuple[str]]:
        """Pickled as its root alone: an expression context carries the storage (`read()`) to
        the render process, which only reads; the flushes stay with the writer's copy. (Its
        lock cannot be pickled: a context that failed to pack was rendered on the loop.)"""
        return LocalFiles, (self.root,)

    # ----------------------------------------------------------------------- FileStorage

    def put(self, uri: str, source: BinaryIO) -> int:
        return self.write(uris.segments(uri), source)

    def write(self, parts: tuple[str, ...], source: BinaryIO) -> int:
        """`put` of the file at the folder segments `parts` (checked by the caller)."""
        uri = "/".join(parts)
        folder = self._folder(parts[:-1], create=True)
        temporary = f".tmp-{secrets.token_hex(8)}"
        written = 0
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            handle = os.open(temporary, flags, 0o600, dir_fd=folder)
            try:
                while chunk := source.read(_CHUNK):
                    written += os.write(handle, chunk)
            finally:
                os.close(handle)
            self._refuse_link(parts[-1], folder, uri)
            os.rename(temporary, parts[-1], src_dir_fd=folder, dst_dir_fd=folder)
            self._unsynced.add_file(parts[:-1], parts[-1])
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary, dir_fd=folder)
            raise
        finally:
            os.close(folder)
        return written

    def sync(self) -> None:
        self._unsynced.flush(lambda parts: self._folder(parts, create=False))

    def open(self, uri: str, scope: tuple[str, ...]) -> BinaryIO:
        parts = self._scoped(uri, scope)
        folder = self._folder(parts[:-1], create=False, uri=uri)
        try:
            handle = os.open(parts[-1], _READ, dir_fd=folder)
        except OSError as error:
            raise _refusal(error, uri) from None
        finally:
            os.close(folder)
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            os.close(handle)
            raise FileMissing(f"`{uri}` is not a file")
        return os.fdopen(handle, "rb")

    def size(self, uri: str, scope: tuple[str, ...]) -> int:
        with self.open(uri, scope) as handle:
            return os.fstat(handle.fileno()).st_size

    def under(self, prefix: tuple[str, ...]) -> Iterator[str]:
        try:
            folder = self._folder(prefix, create=False)
        except (FileMissing, FileRefused):
            return iter(())
        found: list[str] = []
        try:
            for top, _, names, top_fd in os.fwalk(".", dir_fd=folder):
                del top_fd
                base = [part for part in top.split("/") if part not in ("", ".")]
                kept = [name for name in names if not _temporary(name)]
                found += [uris.uri_of((*prefix, *base, name)) for name in kept]
        finally:
            os.close(folder)
        return iter(sorted(found))

    def delete_execution(self, namespace: str, flow_id: str, execution_id: str) -> int:
        """Remove every file of one execution (the function `deleteExecution`, the bulk DELETE
        and `PurgeExecutions`' `purgeStorage` call); returns how many files went."""
        prefix = uris.execution_prefix(namespace, flow_id, execution_id)
        try:
            parent = self._folder(prefix[:-1], create=False)
        except (FileMissing, FileRefused):
            return 0
        try:
            count = _count_files(execution_id, parent)
            if count is None:
                return 0
            shutil.rmtree(execution_id, dir_fd=parent)
            os.fsync(parent)
            return count
        finally:
            os.close(parent)

    def listing(self, folder: tuple[str, ...]) -> list[uris.Entry]:
        """The entries of one folder (namespace files' `files/directory`), links left out."""
        handle = self._folder(folder, create=False, uri="/".join(folder))
        try:
            with os.scandir(handle) as found:
                entries = [_entry(item) for item in found if not _temporary(item.name)]
        finally:
            os.close(handle)
        return sorted((entry for entry in entries if entry is not None), key=lambda e: e.name)

    def remove(self, parts: tuple[str, ...], keep: tuple[str, ...]) -> int:
        """Remove the file or folder `parts`, then each parent folder it leaves empty up to
        (not including) `keep`; returns how many files went."""
        shown = "/".join(parts)
        parent = self._folder(parts[:-1], create=False, uri=shown)
        try:
            count = _count_files(parts[-1], parent, folders_only=False)
            if count is None:
                raise FileMissing(f"`{shown}` does not exist")
            if _is_folder(parts[-1], parent):
                shutil.rmtree(parts[-1], dir_fd=parent)
            else:
                os.unlink(parts[-1], dir_fd=parent)
            os.fsync(parent)
        finally:
            os.close(parent)
        for depth in range(len(parts) - 1, len(keep), -1):
            if not self._remove_if_empty(parts[:depth]):
                break
        return count

    def _remove_if_empty(self, parts: tuple[str, ...]) -> bool:
        parent = self._folder(parts[:-1], create=False, uri="/".join(parts))
        try:
            os.rmdir(parts[-1], dir_fd=parent)
            os.fsync(parent)
            return True
        except OSError:  # not empty (or gone): the cascade stops here
            return False
        finally:
            os.close(parent)

    def mark_pending(self, namespace: str, flow_id: str, execution_id: str) -> None:
        pending.mark(self._write_now, namespace, flow_id, execution_id)

    def _write_now(self, parts: tuple[str, ...], source: BinaryIO) -> int:
        """`write`, durable when it returns: the journal's mark must be on disk before the
        first file it covers can be (the other writes wait for `sync`)."""
        written = self.write(parts, source)
        for depth in range(len(parts) - 1, -1, -1):  # the file, then each folder up to the root
            fd = self._folder(parts[:depth], create=False)
            try:
                if depth == len(parts) - 1:
                    _fsync_at(fd, parts[-1])
                os.fsync(fd)
            finally:
                os.close(fd)
        return written

    def clear_pending(self, execution_id: str) -> None:
        pending.clear(self.root, execution_id)

    def pending(self) -> list[tuple[str, str, str]]:
        return pending.marked(self.root)

    # ----------------------------------------------------------------------- helpers

    def _scoped(self, uri: str, scope: tuple[str, ...]) -> tuple[str, ...]:
        parts = uris.segments(uri)
        if not (len(parts) > len(scope) and parts[: len(scope)] == scope):
            raise FileRefused(f"`{uri}` is not a file of this execution")
        return parts

    def _folder(self, parts: tuple[str, ...], *, create: bool, uri: str | None = None) -> int:
        """A descriptor of the folder `parts` under the root, opened one step at a time
        without following links (created, and each new entry synced, when `create`)."""
        if create:
            os.makedirs(self.root, exist_ok=True)
        try:
            current = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as error:  # missing, or not a folder: nothing of it can be opened
            raise _refusal(error, uri or self.root) from None
        try:
            for depth, part in enumerate(parts):
                child, made = self._step(current, part, create, uri or "/".join(parts))
                os.close(current)
                current = child
                if made:  # its parent's new entry is synced with the files
                    self._unsynced.add_folder(parts[:depth])
        except BaseException:
            os.close(current)
            raise
        return current

    @staticmethod
    def _step(parent: int, part: str, create: bool, uri: str) -> tuple[int, bool]:
        """Open (or create) the folder `part` inside `parent`, never through a link; whether
        it was made now."""
        try:
            return os.open(part, _DIRECTORY, dir_fd=parent), False
        except FileNotFoundError:
            if not create:
                raise FileMissing(f"`{uri}` does not exist") from None
        except OSError as error:
            raise _refusal(error, uri) from None
        made = True
        try:
            os.mkdir(part, 0o700, dir_fd=parent)
        except FileExistsError:
            made = False
        try:
            return os.open(part, _DIRECTORY, dir_fd=parent), made
        except OSError as error:
            raise _refusal(error, uri) from None

    @staticmethod
    def _refuse_link(name: str, folder: int, uri: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISLNK(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode):
                raise FileRefused(f"`{uri}`: a symbolic link is in the way")


def _fsync_at(folder: int, name: str) -> None:
    handle = os.open(name, _READ, dir_fd=folder)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _refusal(error: OSError, uri: str) -> Exception:
    if error.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
        return FileRefused(f"`{uri}`: a symbolic link or a file is in the way")
    if error.errno == errno.ENOENT:
        return FileMissing(f"`{uri}` does not exist")
    if error.errno == errno.ENAMETOOLONG:  # a file system whose names are shorter than 255 bytes
        return FileRefused(f"`{uri}`: a name in it is too long for the file system")
    return error


def _count_files(name: str, parent: int, *, folders_only: bool = True) -> int | None:
    """How many files (links counted) the folder `name` holds; 1 for a file when not
    `folders_only`; None when nothing is there."""
    try:
        mode = os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return None
    if not stat.S_ISDIR(mode):
        if not folders_only:
            return 1
        raise FileRefused(f"`{name}` is not a folder of executions' files")
    folder = os.open(name, _DIRECTORY, dir_fd=parent)
    try:
        count = 0
        for _, folders, names, fd in os.fwalk(".", dir_fd=folder):
            links = [name for name in folders if _is_link(name, fd)]
            count += len(names) + len(links)
        return count
    finally:
        os.close(folder)


def _is_folder(name: str, folder: int) -> bool:
    return stat.S_ISDIR(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode)


def _entry(item: os.DirEntry[str]) -> uris.Entry | None:
    """A folder's entry as listed; None for a link or anything but a file or folder."""
    info = item.stat(follow_symlinks=False)
    if not (stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode)):
        return None
    folder = stat.S_ISDIR(info.st_mode)
    modified = int(info.st_mtime * 1000)
    created = int(getattr(info, "st_birthtime", info.st_ctime) * 1000)
    return uris.Entry(item.name, folder, 0 if folder else info.st_size, modified, created)


def _is_link(name: str, folder: int) -> bool:
    return stat.S_ISLNK(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode)


def _temporary(name: str) -> bool:
    """A file `put` is still writing (its exact name shape: a user's `.tmp-report.csv` is
    listed like any other file)."""
    return _TEMPORARY.fullmatch(name) is not None
