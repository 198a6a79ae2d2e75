"""Why the engine cannot do what it was asked: errors a command's caller gets instead of waiting.

Each carries the code the API reports in `extensions.code` (docs/semantics.md#api-limits), so
the API layer maps them without knowing the engine's internals.
"""

from __future__ import annotations

from tercel.engine import storable

__all__ = [
    "ChangeRefused",
    "EngineStopped",
    "EngineUnavailable",
    "FilesTrouble",
    "StorageFull",
    "StorageTrouble",
    "describe",
]


class EngineUnavailable(Exception):
    """The engine did not do it (nothing acknowledged); the message says why."""

    code = "INTERNAL_SERVER_ERROR"


class EngineStopped(EngineUnavailable):
    """The engine loop died: nothing runs until the process is restarted."""

    code = "ENGINE_STOPPED"

    def __init__(self, reason: str) -> None:
        super().__init__(f"the engine has stopped ({reason}); the server must be restarted")
        self.reason = reason


class StorageFull(EngineUnavailable):
    """A commit failed for lack of disk space; the engine retries it until space returns."""

    code = "STORAGE_FULL"

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"the database's disk is full ({detail}): this change is not committed. The engine "
            "keeps its pending work and retries, so a command answered this way may still take "
            "effect once space returns: read the execution before sending it again"
        )
        self.detail = detail


class StorageTrouble(EngineUnavailable):
    """The database could not be written for a reason of its environment, not of the data
    (locked by another program, an I/O error): the engine retries its commits."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"the database cannot be written now ({detail}); try again")
        self.detail = detail


class FilesTrouble(EngineUnavailable):
    """An input file could not be stored in the internal storage (its folder missing, not
    writable, a full disk): nothing was created (docs/semantics.md#files)."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"the internal storage cannot be written now ({detail}); try again")
        self.detail = detail


class ChangeRefused(EngineUnavailable):
    """The command's changes could not be stored; its execution was failed with the reason."""

    def __init__(self, execution_id: str, reason: str) -> None:
        super().__init__(f"execution `{execution_id}` could not be stored: {reason}")


def describe(error: BaseException) -> str:
    """One line naming an unexpected error (for logs, answers and stderr: always storable)."""
    text = storable.scrubbed(str(error))
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
