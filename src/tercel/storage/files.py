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
import secrets
import shutil
import stat
from collections.abc import Iterator
from typing import BinaryIO

from tercel.engine import files as uris
from tercel.engine.files import FileMissing, FileRefused
from tercel.storage.pendingsync import PendingSyncs

__all__ = ["LocalFiles", "default_folder"]

_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_CHUNK = 1 << 20


def default_folder(db_path: str) -> str:
    """Where a database's files live unless configured: `<db>.files` beside it."""
    return os.path.abspath(db_path) + ".files"


class LocalFiles:
    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        #: written since the last `sync`: flushed to disk by it
        self._unsynced = PendingSyncs()

    # ----------------------------------------------------------------------- FileStorage

    def put(self, uri: str, source: BinaryIO) -> int:
        parts = uris.segments(uri)
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
            handle = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)
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


def _refusal(error: OSError, uri: str) -> Exception:
    if error.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
        return FileRefused(f"`{uri}`: a symbolic link or a file is in the way")
    if error.errno == errno.ENOENT:
        return FileMissing(f"`{uri}` does not exist")
    return error


def _count_files(name: str, parent: int) -> int | None:
    try:
        mode = os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return None
    if not stat.S_ISDIR(mode):
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


def _is_link(name: str, folder: int) -> bool:
    return stat.S_ISLNK(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode)


def _temporary(name: str) -> bool:
    return name.startswith(".tmp-")
