"""Expressions (semantics.md#expression-functions): `date`, `dateAdd`, `timestamp` and Java date
patterns."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from tercel.engine.expressions import ExpressionError, render

START = datetime(2024, 11, 13, 14, 38, 38, 355668, tzinfo=UTC)  # a Wednesday


def fmt(pattern: str, value: Any = START, **options: str) -> str:
    args = "".join(f", {key}='{val}'" for key, val in options.items())
    return render(f"{{{{ d | date(f{args}) }}}}", {"d": value, "f": pattern})


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("iso", "2024-11-13T14:38:38.355668Z"),
        ("iso_sec", "2024-11-13T14:38:38Z"),
        ("sql", "2024-11-13 14:38:38.355668"),
        ("sql_seq", "2024-11-13 14:38:38"),
        ("iso_date_time", "2024-11-13T14:38:38.355668Z[UTC]"),
        ("iso_zoned_date_time", "2024-11-13T14:38:38.355668Z[UTC]"),
        ("iso_date", "2024-11-13Z"),
        ("iso_time", "14:38:38.355668Z"),
        ("iso_offset_time", "14:38:38.355668Z"),
        ("iso_local_date", "2024-11-13"),
        ("iso_local_time", "14:38:38.355668"),
        ("iso_local_date_time", "2024-11-13T14:38:38.355668"),
        ("iso_instant", "2024-11-13T14:38:38.355668Z"),
        ("iso_ordinal_date", "2024-318Z"),
        ("iso_week_date", "2024-W46-3Z"),
        ("rfc_1123_date_time", "Wed, 13 Nov 2024 14:38:38 GMT"),
        ("short", "11/13/24, 2:38 PM"),
        ("medium", "Nov 13, 2024, 2:38:38 PM"),
    ],
)
def test_named_formats(name: str, expected: str) -> None:
    assert fmt(name) == expected


def test_default_format_is_iso_in_utc() -> None:
    assert render("{{ d | date }}", {"d": START}) == "2024-11-13T14:38:38.355668Z"


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("yyyy-MM-dd HH:mm:ss.SSS", "2024-11-13 14:38:38.355"),
        ("yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX", "2024-11-13T14:38:38.355668Z"),
        ("EEE, MMM d yy h:mm a", "Wed, Nov 13 24 2:38 PM"),
        ("EEEE d MMMM", "Wednesday 13 November"),
        ("D", "318"),
        ("'quoted ''x'''", "quoted 'x'"),
        ("Z|ZZZZZ|xxx|x|X|VV|z|O", "+0000|Z|+00:00|+00|Z|UTC|UTC|GMT"),
        ("Q QQQ", "4 Q4"),
        ("k K h H", "14 2 2 14"),
        ("SSSSSSSSS", "355668000"),
        ("[yyyy]", "2024"),
        ("yyyy/M/d", "2024/11/13"),
    ],
)
def test_java_patterns(pattern: str, expected: str) -> None:
    assert fmt(pattern) == expected


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Europe/Paris", "2024-11-13T15:38:38.355668+01:00"),
        ("Asia/Kolkata", "2024-11-13T20:08:38.355668+05:30"),
        ("America/New_York", "2024-11-13T09:38:38.355668-05:00"),
        ("+05:30", "2024-11-13T20:08:38.355668+05:30"),
        ("UTC+2", "2024-11-13T16:38:38.355668+02:00"),
        ("-03", "2024-11-13T11:38:38.355668-03:00"),
        ("Z", "2024-11-13T14:38:38.355668Z"),
    ],
)
def test_time_zones(zone: str, expected: str) -> None:
    assert fmt("iso", timeZone=zone) == expected


def test_zone_ids_in_iso_date_time() -> None:
    assert fmt("iso_date_time", timeZone="Europe/Paris") == (
        "2024-11-13T15:38:38.355668+01:00[Europe/Paris]"
    )
    assert fmt("iso_date_time", timeZone="+05:30") == "2024-11-13T20:08:38.355668+05:30"
    assert fmt("VV XXX", timeZone="Asia/Kolkata") == "Asia/Kolkata +05:30"


@pytest.mark.parametrize(
    ("value", "options", "expected"),
    [
        (1700000000, {}, "2023-11-14T22:13:20.000000Z"),
        (1700000000.5, {}, "2023-11-14T22:13:20.500000Z"),
        ("2024-01-01T10:00:00+02:00", {}, "2024-01-01T08:00:00.000000Z"),
        ("2024-01-01T10:00:00.5Z", {}, "2024-01-01T10:00:00.500000Z"),
        ("2024-06-01T10:00:00+02:00[Europe/Paris]", {}, "2024-06-01T08:00:00.000000Z"),
        ("2024-01-01T10:00", {}, "2024-01-01T10:00:00.000000Z"),
        ("2024-01-01T10:00:00", {"timeZone": "Europe/Paris"}, "2024-01-01T10:00:00.000000+01:00"),
        ("2024-01-01", {}, "2024-01-01T00:00:00.000000Z"),
        (date(2024, 1, 2), {}, "2024-01-02T12:00:00.000000Z"),
        ("13/11/2024 10:20", {"existingFormat": "dd/MM/yyyy HH:mm"}, "2024-11-13T10:20:00.000000Z"),
        ("13 Nov 2024", {"existingFormat": "dd MMM yyyy"}, "2024-11-13T00:00:00.000000Z"),
        ("241113", {"existingFormat": "yyMMdd"}, "2024-11-13T00:00:00.000000Z"),
        ("2024-318", {"existingFormat": "yyyy-DDD"}, "2024-11-13T00:00:00.000000Z"),
        (
            "2024-11-13 02:38:38.355 PM +0100",
            {"existingFormat": "yyyy-MM-dd hh:mm:ss.SSS a Z"},
            "2024-11-13T13:38:38.355000Z",
        ),
        (
            "2024-11-13 14:38 Europe/Paris",
            {"existingFormat": "yyyy-MM-dd HH:mm VV"},
            "2024-11-13T13:38:00.000000Z",
        ),
        ("2024-11-13T14:38:38Z", {"existingFormat": "iso_sec"}, "2024-11-13T14:38:38.000000Z"),
    ],
)
def test_inputs(value: Any, options: dict[str, str], expected: str) -> None:
    assert fmt("iso", value, **options) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("'2024-01-31T10:00:00Z' | dateAdd(1, 'MONTHS')", "2024-02-29T10:00:00.000000Z"),
        ("'2024-02-29' | dateAdd(1, 'YEARS', 'iso_local_date')", "2025-02-28"),
        ("'2024-01-01T00:00:00Z' | dateAdd(-1, 'DAYS')", "2023-12-31T00:00:00.000000Z"),
        ("'2024-01-01T00:00:00Z' | dateAdd(90, 'MINUTES')", "2024-01-01T01:30:00.000000Z"),
        ("'2024-01-01T00:00:00Z' | dateAdd(1500, 'MILLIS')", "2024-01-01T00:00:01.500000Z"),
        ("'2024-01-01T00:00:00Z' | dateAdd(2, 'WEEKS', format='yyyy-MM-dd')", "2024-01-15"),
        ("'2024-01-01T00:00:00Z' | dateAdd(1, 'HALF_DAYS')", "2024-01-01T12:00:00.000000Z"),
        (
            "'2024-03-30T12:00:00Z' | dateAdd(1, 'DAYS', timeZone='Europe/Paris')",
            "2024-03-31T13:00:00.000000+02:00",
        ),
        (
            "'2024-03-30T12:00:00Z' | dateAdd(24, 'HOURS', timeZone='Europe/Paris')",
            "2024-03-31T14:00:00.000000+02:00",
        ),
        ("null | dateAdd(1, 'DAYS')", ""),
        ("d | timestamp", "1731508718"),
        ("'1970-01-01T00:00:01Z' | timestamp", "1"),
        ("'1969-12-31T23:59:59.5Z' | timestamp", "-1"),
        ("'2024-01-01T00:00:00' | timestamp(timeZone='Europe/Paris')", "1704063600"),
        ("null | timestamp", ""),
        ("null | date", ""),
        ("now() | date('yyyy') | length", "4"),
        ("now() | dateAdd(-1, 'DAYS') | length", "27"),
    ],
)
def test_date_add_and_timestamp(expression: str, expected: str) -> None:
    assert render(f"{{{{ {expression} }}}}", {"d": START}) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("d | date(timeZone='Mars/Olympus')", "Unknown time-zone ID: Mars/Olympus"),
        ("d | date(timeZone='+19:00')", "Zone offset not in valid range"),
        ("d | date('bbb')", "Unknown pattern letter: b"),
        ("d | date('MMMMMM')", "Too many pattern letters: M"),
        ("d | date('{')", "reserved character"),
        ('d | date("\'open")', "incomplete string literal"),
        ("d | date(1)", "format must be a string"),
        ("'garbage' | date", "could not be parsed as an ISO date"),
        ("'2024-13-01' | date", "could not be parsed"),
        ("'2024-01-01Z' | date", "could not be parsed as an ISO date"),
        ("'2024' | date(existingFormat='yyyy')", "does not contain a full date"),
        ("'x' | date(existingFormat='dd/MM/yyyy')", "could not be parsed with the given pattern"),
        ("'2024 Q1' | date(existingFormat='yyyy QQQ')", "not supported for parsing"),
        ("[1] | date", "Cannot read a date from a list"),
        ("d | dateAdd(1, 'FORTNIGHTS')", "Unknown unit `FORTNIGHTS`"),
        ("d | dateAdd('1', 'DAYS')", "expects an integer amount"),
        ("d | dateAdd(100000, 'YEARS')", "Date out of range"),
    ],
)
def test_date_errors(expression: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        render(f"{{{{ {expression} }}}}", {"d": START})
    assert message in str(caught.value)
