"""The SQLModel tables describe the migrated schema exactly (names, nullability, primary keys)."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import SQLModel

from tercel.storage import sqlite, tables


def test_tables_mirror_the_migration(tmp_path: Path) -> None:
    conn = sqlite.connect(str(tmp_path / "schema.db"))
    try:
        sqlite.migrate(conn)
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        migrated = {
            name: {
                (row[1], bool(row[3]) or row[5] > 0, row[5] > 0)
                for row in conn.execute(f"PRAGMA table_info({name})")
            }
            for name in names
        }
    finally:
        conn.close()
    described = {
        name: {(c.name, not c.nullable, c.primary_key) for c in table.columns}
        for name, table in SQLModel.metadata.tables.items()
        if name in migrated or table is tables.table(tables.FlowTable)
    }
    assert described == migrated
    assert set(SQLModel.metadata.tables) >= set(migrated)
