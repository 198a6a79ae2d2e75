"""Storage: SQLite schema and migrations, the single writer, and the readers."""

from __future__ import annotations
