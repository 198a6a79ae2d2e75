"""ForEachItem's split (engine/batches.py) against Kestra's StorageService.split."""

from __future__ import annotations

import io
import time

import pytest

from tercel.engine.batches import BatchError, lines_of, parse_size, split_batches


def test_rows_keep_whole_lines_and_end_each_with_a_newline() -> None:
    assert split_batches(b"a\r\nb\rc\nd", {"rows": 3}) == [b"a\nb\nc\n", b"d\n"]
    assert split_batches(b"", {"rows": 1}) == []
    assert split_batches(b"x\ny\n", {}) == [b"x\n", b"y\n"]


def test_bytes_start_a_new_batch_once_the_size_is_reached() -> None:
    assert split_batches(b"aaaa\nb\nc\n", {"bytes": "4"}) == [b"aaaa\n", b"b\nc\n"]
    assert split_batches(b"a\nb\n", {"bytes": "1KB"}) == [b"a\nb\n"]


def test_partitions_deal_lines_round_robin_and_leave_empty_ones_out() -> None:
    assert split_batches(b"1\n2\n3\n", {"partitions": "2"}) == [b"1\n3\n", b"2\n"]
    # Kestra's StorageService.partition keeps only the partitions that got a line
    assert split_batches(b"1\n", {"partitions": 3}) == [b"1\n"]


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 1 << 20])
def test_lines_read_by_chunks_are_the_lines_of_the_whole(chunk: int) -> None:
    data = b"a\r\nbb\rc\n\r\nddd\re"
    assert list(lines_of(io.BytesIO(data), chunk)) == [line + b"\n" for line in data.splitlines()]
    assert list(lines_of(io.BytesIO(b""), chunk)) == []


def test_precedence_is_bytes_then_partitions_then_rows() -> None:
    data = b"1\n2\n3\n4\n"
    assert split_batches(data, {"rows": 1, "partitions": 2, "bytes": 100}) == [data]
    assert split_batches(data, {"rows": 1, "partitions": 2}) == [b"1\n3\n", b"2\n4\n"]


def test_sizes_are_1024_based() -> None:
    assert [parse_size(v) for v in (512, "10KB", "1 mb", "2GB")] == [512, 10240, 1 << 20, 2 << 30]


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ({"rows": 0}, "batch.rows must be a whole number of at least 1, got `0`"),
        ({"rows": True}, "batch.rows must be a whole number of at least 1, got `True`"),
        ({"partitions": "x"}, "batch.partitions must be a whole number of at least 1, got `x`"),
        ({"bytes": "1TB"}, "batch.bytes must be a size such as 10MB, got `1TB`"),
        ({"bytes": 0}, "batch.bytes must be at least 1 byte, got `0`"),
    ],
)
def test_bad_settings_name_themselves(batch: dict[str, object], message: str) -> None:
    with pytest.raises(BatchError) as refused:
        split_batches(b"a\n", batch)
    assert str(refused.value) == message


def test_one_enormous_line_is_read_in_linear_time() -> None:
    """A line spanning many chunks was re-joined with every chunk (`carry + block`, then split
    again): quadratic, 32 MiB by 16 KiB chunks copied about 64 GB, and a split of a 1 GB line
    ran for hours, deaf to a kill (checked between batches). Now each chunk without a line end
    is kept aside and joined once, when the line ends."""
    line = b"x" * (32 << 20)
    began = time.monotonic()
    found = list(lines_of(io.BytesIO(line + b"\r\nend"), chunk=16 << 10))
    assert time.monotonic() - began < 5.0  # about 0.1 s; well over 10 s before
    assert [len(part) for part in found] == [len(line) + 1, 4]
    assert found[1] == b"end\n"


@pytest.mark.parametrize("chunk", [1, 2, 3, 5])
def test_line_ends_across_chunks_of_lines_without_ends_count_once(chunk: int) -> None:
    data = b"aaaa\r\nbbbbbb\rcccc\n\r\ndddddddd"
    expected = [line + b"\n" for line in data.splitlines()]
    assert list(lines_of(io.BytesIO(data), chunk=chunk)) == expected
