"""The first rows of a file, for `GET /api/v1/executions/{id}/file/preview` (Kestra's path;
docs/semantics.md#files).

At most `PREVIEW_BYTES` of the file are read. A `.csv` file gives rows (lists of strings), a
`.jsonl` / `.ndjson` / `.ion` file gives the values of its first lines (a line that is not
JSON stays its text), anything else the text of its first lines. Text must be UTF-8.
"""

from __future__ import annotations

import csv
import io
import json
import posixpath
from typing import Any, BinaryIO

__all__ = ["MAX_ROWS", "PREVIEW_BYTES", "preview"]

#: the most of a file a preview reads
PREVIEW_BYTES = 1 << 20
#: the most rows a preview answers (and its default: 100)
MAX_ROWS = 1000
_LINES = (".jsonl", ".ndjson", ".ion")


def preview(handle: BinaryIO, name: str, rows: int) -> dict[str, Any]:
    """`{extension, type, content, truncated}`; raises ValueError for a file that is not UTF-8
    text."""
    data = handle.read(PREVIEW_BYTES + 1)
    cut = len(data) > PREVIEW_BYTES
    body = data[:PREVIEW_BYTES]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        if not (cut and error.start >= len(body) - 3):  # not just a character cut at the end
            raise ValueError(f"`{name}` is not UTF-8 text (byte {error.start})") from None
        text = body[: error.start].decode("utf-8")
    lines = text.splitlines()
    if cut and lines:
        lines.pop()  # the last line read may be cut short
    extension = posixpath.splitext(name)[1].lower()
    truncated = cut or len(lines) > rows
    if extension == ".csv":
        content: Any = list(csv.reader(io.StringIO("\n".join(lines[:rows]))))
        kind = "LIST"
    elif extension in _LINES:
        content, kind = [_value(line) for line in lines[:rows]], "LIST"
    else:
        content, kind = "\n".join(lines[:rows]), "TEXT"
    return {"extension": extension.lstrip("."), "type": kind, "content": content,
            "truncated": truncated}  # fmt: skip


def _value(line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return line
