"""The API's read connection: SQLAlchemy Core over the engine's database file.

The engine is the only writer (its own sqlite3 connection on one thread, `storage.sqlite`); the
API reads beside it through pooled connections marked `query_only` (WAL lets readers run during
writes). Not to be confused with `storage.reader`, the engine's loader on the writer connection.

Statements run on SQLAlchemy's asyncio engine over aiosqlite (`sqlite+aiosqlite`), which gives
every pooled connection a thread of its own, so reads never block the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, Executable, event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

__all__ = ["Reader", "marks", "open_reader"]

_CONNECTIONS = 8


class Reader:
    """Read-only access for the API: `await reader.rows(statement)`."""

    def __init__(self, db_path: str) -> None:
        self.async_engine: AsyncEngine = create_async_engine(
            f"sqlite+aiosqlite:///{db_path}", pool_size=_CONNECTIONS, max_overflow=0
        )
        #: the engine's synchronous face, where SQLAlchemy events are listened to
        self.engine: Engine = self.async_engine.sync_engine
        #: when a list, every statement run is appended to it (benchmarks count them)
        self.trace: list[str] | None = None
        event.listen(self.engine, "connect", _pragmas)

    async def rows(self, statement: Executable) -> Sequence[Any]:
        if self.trace is not None:
            self.trace.append(str(statement))
        async with self.async_engine.connect() as conn:
            result = await conn.execute(statement)
            return result.all()

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The plain tuples of one SQL statement on a pooled connection, in one thread hop.

        For the batched loads of a page (thousands of history rows): SQLAlchemy's `Row`
        objects and result machinery cost more than the query itself there."""
        if self.trace is not None:
            self.trace.append(sql)
        async with self.async_engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection  # the pooled aiosqlite connection
            return list(await driver.execute_fetchall(sql, params))

    async def close(self) -> None:
        await self.async_engine.dispose()


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 5000")
    cursor.execute("PRAGMA query_only = ON")
    cursor.close()


def open_reader(db_path: str) -> Reader:
    """A reader over `db_path` (the file must exist: the engine creates it)."""
    return Reader(db_path)


def marks(n: int) -> str:
    """`?,?,...`: the placeholders of an `IN (...)` list of n values."""
    return ",".join("?" * n)
