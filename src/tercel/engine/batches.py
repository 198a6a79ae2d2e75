"""How ForEachItem splits its `items` file (semantics.md#foreachitem), as Kestra's
`StorageService.split` does: lines (split on `\\n`, `\\r` or `\\r\\n`), each written back with
`\\n`.

- `rows: N`: a new batch every N lines.
- `bytes: SIZE`: a new batch once the current one holds SIZE bytes or more (the line that
  crosses the size stays in it, so a batch may be larger).
- `partitions: N`: exactly N batches, lines dealt round-robin (some may be empty).
Kestra's precedence when several are given: `bytes`, then `partitions`, then `rows`.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["BatchError", "parse_size", "split_batches", "whole"]

_SIZE = re.compile(r"^\s*(\d+)\s*(KB|MB|GB)?\s*$", re.IGNORECASE)
_UNITS = {None: 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}


class BatchError(ValueError):
    """A batch setting that is not a whole number from 1 (or a size); names which."""


def parse_size(value: Any) -> int:
    """`512`, `"10KB"`, `"1 MB"`, `"2gb"` (1024-based, as Kestra's readable bytes) -> bytes."""
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    else:
        found = _SIZE.match(str(value)) if isinstance(value, str) else None
        if found is None:
            raise BatchError(f"batch.bytes must be a size such as 10MB, got `{value}`")
        size = int(found.group(1)) * _UNITS[found.group(2) and found.group(2).upper()]
    if size < 1:
        raise BatchError(f"batch.bytes must be at least 1 byte, got `{value}`")
    return size


def whole(name: str, value: Any) -> int:
    """A whole number from 1 (`4` or `"4"`, as a rendered template gives it)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BatchError(f"batch.{name} must be a whole number of at least 1, got `{value}`")
    return value


def split_batches(data: bytes, batch: dict[str, Any]) -> list[bytes]:
    """The batches of `data` for a rendered `batch` setting; raises BatchError."""
    lines = [line + b"\n" for line in data.splitlines()]
    if batch.get("bytes") is not None:
        return _while(lines, parse_size(batch["bytes"]), by_bytes=True)
    if batch.get("partitions") is not None:
        count = whole("partitions", batch["partitions"])
        return [b"".join(lines[i::count]) for i in range(count)]
    return _while(lines, whole("rows", batch.get("rows", 1)), by_bytes=False)


def _while(lines: list[bytes], limit: int, *, by_bytes: bool) -> list[bytes]:
    batches: list[bytes] = []
    current: list[bytes] = []
    held = 0
    for line in lines:
        if current and held >= limit:
            batches.append(b"".join(current))
            current, held = [], 0
        current.append(line)
        held += len(line) if by_bytes else 1
    if current:
        batches.append(b"".join(current))
    return batches
