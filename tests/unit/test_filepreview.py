"""The preview of a file's first rows (docs/semantics.md#files)."""

from __future__ import annotations

import io

import pytest

from tercel import filepreview


def _preview(data: bytes, name: str, rows: int = 100) -> dict[str, object]:
    return filepreview.preview(io.BytesIO(data), name, rows)


def test_csv_rows_jsonl_values_and_text_lines() -> None:
    assert _preview(b'a,b\n"x, y",2\n', "t.csv") == {
        "extension": "csv", "type": "LIST", "content": [["a", "b"], ["x, y", "2"]],
        "truncated": False,
    }  # fmt: skip
    found = _preview(b'{"a": 1}\nnot json\n[2]\n', "t.jsonl", rows=2)
    assert found["content"] == [{"a": 1}, "not json"] and found["truncated"] is True
    assert _preview(b"one\ntwo\n", "notes")["content"] == "one\ntwo"
    assert _preview(b"one\ntwo\n", "notes")["type"] == "TEXT"


def test_a_large_file_is_read_up_to_the_cap_and_said_truncated() -> None:
    line = "é" * 99 + "\n"  # 199 bytes: the cap falls inside a character
    found = _preview(line.encode() * 10_000, "big.txt", rows=1000)
    assert found["truncated"] is True
    assert str(found["content"]).split("\n") == [line.rstrip("\n")] * 1000


def test_a_binary_file_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match=r"^`x.bin` is not UTF-8 text \(byte 1\)$"):
        _preview(b"a\xff\xfe", "x.bin")
