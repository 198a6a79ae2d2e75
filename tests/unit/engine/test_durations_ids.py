from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tercel import ids
from tercel.engine import durations


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(0), "PT0S"),
        (timedelta(microseconds=205802), "PT0.205802S"),
        (timedelta(seconds=2), "PT2S"),
        (timedelta(minutes=1, seconds=30), "PT1M30S"),
        (timedelta(hours=1, minutes=2, seconds=3.5), "PT1H2M3.5S"),
        (timedelta(days=2), "PT48H"),
        (timedelta(seconds=-3), "PT0S"),
    ],
)
def test_format_duration(value: timedelta, text: str) -> None:
    assert durations.format_duration(value) == text


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("PT0.25s", timedelta(milliseconds=250)),
        ("pt1m30s", timedelta(seconds=90)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("PT48H", timedelta(hours=48)),
    ],
)
def test_parse_duration(text: str, value: timedelta) -> None:
    assert durations.parse_duration(text) == value


@pytest.mark.parametrize("text", ["P1Y", "P2W", "-PT1S", "PT", "P", "1s", "PT1.S", ""])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        durations.parse_duration(text)


def test_instant_forms() -> None:
    at = datetime(2024, 11, 13, 14, 38, 38, 355668, tzinfo=UTC)
    assert durations.format_instant(at) == "2024-11-13T14:38:38.355668Z"
    assert durations.format_instant_millis(at) == "2024-11-13T14:38:38.355Z"
    assert durations.format_clock(timedelta(seconds=3725.5)) == "1:02:05.500"


def test_ids_are_22_base62_chars_and_time_ordered() -> None:
    first = ids.new_id(now_ms=1_700_000_000_000)
    second = ids.new_id(now_ms=1_700_000_000_001)
    assert len(first) == ids.ID_LENGTH == 22
    assert set(first) <= set(ids.ALPHABET)
    assert first < second
    assert len({ids.new_id() for _ in range(1000)}) == 1000
