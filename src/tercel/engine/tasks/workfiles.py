"""A shell attempt's folders and files: `inputFiles` in, `outputFiles` out.

docs/semantics.md#files.

Every attempt gets a folder of its own holding its working directory (`{{ workingDir }}`, where
the script runs) and its output directory (`{{ outputDir }}`); the whole folder goes when the
attempt ends, however it ends. `inputFiles` (name -> inline content, rendered, or a `kestra://`
URI of this execution) are written into the working directory before the script starts;
after a successful run the files matching `outputFiles` (globs relative to the working
directory) and every file of the output directory are stored in the internal storage, and
`outputs.outputFiles` maps each one's relative name to its URI. A name or a glob that would
leave the working directory (absolute, `..`) fails the attempt with a message naming it.
"""

from __future__ import annotations

import asyncio
import glob
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tercel.engine import files
from tercel.engine.tasks import base

__all__ = ["Folders", "collect_outputs", "write_inputs"]

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True, slots=True)
class Folders:
    """One attempt's folders: `root` holds the two others and is removed at the end."""

    root: str
    working: str
    output: str

    @classmethod
    def create(cls) -> Folders:
        root = tempfile.mkdtemp(prefix="tercel-commands-")
        working, output = os.path.join(root, "work"), os.path.join(root, "outputs")
        os.mkdir(working, 0o700)
        os.mkdir(output, 0o700)
        return cls(root, working, output)

    @property
    def variables(self) -> dict[str, str]:
        return {"workingDir": self.working, "outputDir": self.output}

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _relative(name: str, what: str) -> list[str]:
    """The parts of a relative path that stays inside its folder; TaskFailure otherwise."""
    parts = name.replace("\\", "/").split("/")
    if not name or "\0" in name or any(part in ("", ".", "..") for part in parts):
        raise base.TaskFailure(
            f"{what} `{name}`: a file name must be a relative path inside the working "
            "directory (no `..`, no leading `/`)"
        )
    return parts


async def write_inputs(ctx: base.RunContext, folders: Folders, given: Any) -> None:
    """Write the rendered `inputFiles` into the working directory."""
    if given is None:
        return
    rendered = ctx.render(given, folders.variables)
    if isinstance(rendered, str):
        try:
            rendered = json.loads(rendered)
        except ValueError:
            rendered = None
    if not isinstance(rendered, dict):
        raise base.TaskFailure(
            "`inputFiles` must be a map of file name to content or kestra:/// URI"
        )
    for name, value in rendered.items():
        parts = _relative(str(name), "inputFiles")
        target = os.path.join(folders.working, *parts)
        await asyncio.to_thread(_write_input, ctx, target, str(name), value)


def _create(target: str) -> int:
    """A new file at `target`, its folders made; FileExistsError only for the file itself."""
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
    except FileExistsError as error:  # a file where a folder should be: not "given twice"
        raise NotADirectoryError(error.errno, "a file is where a folder of it should be") from None
    return os.open(target, _CREATE, 0o600)


def _write_input(ctx: base.RunContext, target: str, name: str, value: Any) -> None:
    try:
        handle = _create(target)
    except FileExistsError:
        raise base.TaskFailure(f"inputFiles `{name}`: given twice") from None
    except OSError as error:  # a name too long, a file where one of its folders should be
        message = f"inputFiles `{name}`: cannot write it: {error.strerror}"
        raise base.TaskFailure(message) from None
    with os.fdopen(handle, "wb") as out:
        if isinstance(value, str) and value.startswith(files.SCHEME):
            try:
                with ctx.open_file(value) as source:
                    shutil.copyfileobj(source, out)
            except (files.FileRefused, files.FileMissing) as error:
                raise base.TaskFailure(f"inputFiles `{name}`: {error}") from None
        else:
            text = value if isinstance(value, str) else json.dumps(value)
            out.write(text.encode("utf-8"))


async def collect_outputs(
    ctx: base.RunContext, folders: Folders, patterns: list[str] | None
) -> dict[str, str] | None:
    """Store the files of `outputFiles` and of the output directory; name -> URI. None when
    the task declares no `outputFiles` and wrote nothing to its output directory."""
    found: dict[str, str] = {}
    for pattern in patterns or []:
        rendered = str(ctx.render(pattern, folders.variables))
        _relative(rendered, "outputFiles")
        for name in glob.glob(rendered, root_dir=folders.working, recursive=True):
            path = os.path.join(folders.working, name)
            if _regular_inside(path, folders.working):
                found[name] = path
    found.update(_files_under(folders.output))
    if not found and patterns is None:
        return None
    stored: dict[str, str] = {}
    for name in sorted(found):
        stored[name] = await asyncio.to_thread(_store, ctx, name, found[name])
    return stored


def _store(ctx: base.RunContext, name: str, path: str) -> str:
    try:
        with open(path, "rb") as source:
            return ctx.store_file(name, source)
    except (OSError, files.FileRefused) as error:
        raise base.TaskFailure(f"outputFiles `{name}`: cannot store it: {error}") from None


def _regular_inside(path: str, folder: str) -> bool:
    """A regular file (not a link) whose real place is inside `folder`."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return False
    real = os.path.realpath(path)
    return stat.S_ISREG(mode) and real.startswith(os.path.realpath(folder) + os.sep)


def _files_under(folder: str) -> Iterator[tuple[str, str]]:
    for top, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(top, name)
            if _regular_inside(path, folder):
                yield os.path.relpath(path, folder), path
