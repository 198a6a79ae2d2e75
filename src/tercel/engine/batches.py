"""How ForEachItem splits its `items` file (semantics.md#foreachitem), as Kestra's
`StorageService.split` does: lines (split on `\\n`, `\\r` or `\\r\\n`), each written back with
`\\n`.

- `rows: N`: a new batch every N lines.
- `bytes: SIZE`: a new batch once the current one holds SIZE bytes or more (the line that
  crosses the size stays in it, so a batch may be larger).
- `partitions: N`: N batches, lines dealt round-robin; the empty ones are left out, as
  Kestra's `StorageService.partition` filters them.
Kestra's precedence when several are given: `bytes`, then `partitions`, then `rows`.

Streamed: `lines_of` reads a file by chunks and `batches_of` yields each batch once it is
complete, so a split holds one batch in memory (`partitions`: every batch, as they fill at once).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

__all__ = ["BatchError", "batches_of", "lines_of", "parse_size", "split_batches", "whole"]

_CHUNK = 1 << 20

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


def lines_of(handle: BinaryIO, chunk: int = _CHUNK) -> Iterator[bytes]:
    """The lines of a file, split on `\\n`, `\\r` or `\\r\\n`, each ending in `\\n`, read
    `chunk` bytes at a time (a line end split across two chunks still counts once). A chunk
    with no line end is kept aside and joined once its line ends, so a line spanning many
    chunks costs its length, not its length times the number of chunks."""
    held: list[bytes] = []  # the unfinished line, in pieces
    while block := handle.read(chunk):
        ends_held = bool(held) and held[-1].endswith(b"\r")  # `\r`, maybe `\r\n` split
        if b"\n" not in block and b"\r" not in block and not ends_held:
            held.append(block)
            continue
        parts = b"".join([*held, block]).splitlines(keepends=True)
        held = [parts.pop()] if parts and not parts[-1].endswith(b"\n") else []
        for part in parts:
            yield part.rstrip(b"\r\n") + b"\n"
    for part in b"".join(held).splitlines():
        yield part + b"\n"


def split_batches(data: bytes, batch: dict[str, Any]) -> list[bytes]:
    """The batches of `data` for a rendered `batch` setting; raises BatchError."""
    return list(batches_of((line + b"\n" for line in data.splitlines()), batch))


def batches_of(lines: Iterable[bytes], batch: dict[str, Any]) -> Iterator[bytes]:
    """The batches of `lines` (each ending in `\\n`), one at a time; raises BatchError, before
    the first batch, for a bad setting."""
    if batch.get("bytes") is not None:
        return _while(lines, parse_size(batch["bytes"]), by_bytes=True)
    if batch.get("partitions") is not None:
        return _partitions(lines, whole("partitions", batch["partitions"]))
    return _while(lines, whole("rows", batch.get("rows", 1)), by_bytes=False)


def _partitions(lines: Iterable[bytes], count: int) -> Iterator[bytes]:
    dealt: list[list[bytes]] = [[] for _ in range(count)]
    for i, line in enumerate(lines):
        dealt[i % count].append(line)
    return (b"".join(part) for part in dealt if part)


def _while(lines: Iterable[bytes], limit: int, *, by_bytes: bool) -> Iterator[bytes]:
    current: list[bytes] = []
    held = 0
    for line in lines:
        if current and held >= limit:
            yield b"".join(current)
            current, held = [], 0
        current.append(line)
        held += len(line) if by_bytes else 1
    if current:
        yield b"".join(current)
