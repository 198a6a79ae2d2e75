"""Checks made before an engine starts, so each refusal is one clear line (no traceback).

`tercel server` and `tercel run` both call `open_problem` first: a database in use (exit 2), or
a database that cannot be opened, created or read (a corrupt file, a read-only location: exit 4).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from tercel.storage import lock, sqlite

__all__ = ["EXIT_DATABASE", "EXIT_IN_USE", "Problem", "open_problem"]

EXIT_IN_USE = 2
EXIT_DATABASE = 4


@dataclass(frozen=True, slots=True)
class Problem:
    message: str
    exit_status: int


def open_problem(db_path: str) -> Problem | None:
    """Why an engine cannot start on db_path, or None: lock it, open it, migrate and check it."""
    probe = lock.EngineLock(db_path)
    try:
        probe.acquire()
    except lock.DatabaseInUseError as error:
        return Problem(str(error), EXIT_IN_USE)
    except lock.DatabaseOpenError as error:
        return Problem(str(error), EXIT_DATABASE)
    try:
        sqlite.Database(db_path).close()
    except (sqlite3.Error, RuntimeError) as error:
        return Problem(f"cannot use database {db_path}: {error}", EXIT_DATABASE)
    finally:
        probe.release()
    return None
