"""Hostile values for the fuzz (`test_fuzz.py`), each with a tag naming its family, and the JSON
and YAML writers that carry them unchanged into a request body or a flow source.

A value is plain data (str, int, float, bool, None, list, dict) or `Raw`: JSON text written as
it is, for what Python's `json` cannot produce (10,000 nested lists, a 5,000-digit number,
`NaN`). Strings are written with `\\uXXXX` escapes, so a lone surrogate reaches the server as a
valid UTF-8 body that decodes to a string Python holds but UTF-8 cannot store."""

from __future__ import annotations

import copy
import json
import random
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Raw:
    """JSON text inserted verbatim (also valid YAML flow text where YAML allows it)."""

    text: str


def deep_list(levels: int) -> Raw:
    return Raw("[" * levels + "1" + "]" * levels)


def deep_object(levels: int) -> Raw:
    return Raw('{"a":' * levels + "1" + "}" * levels)


TEXT: list[tuple[str, str]] = [
    ("surrogate", "\udfff"),
    ("surrogate", "\ud800"),
    ("surrogate", "a\udc80b"),
    ("surrogate", "\ud83d"),  # the high half of an emoji alone
    ("nul", "\x00"),
    ("nul", "a\x00b"),
    ("control", "\x01\x02\x1b[31mred\x7f"),
    ("control", "\x85\u2028\u2029\r\n\t\x0b\x0c"),
    ("bidi", "\u202eevil\u202c"),
    ("bidi", "\u2066abc\u2069\u200f\u061c"),
    ("astral", "😀"),
    ("astral", "𝕏" * 300),
    ("astral", "\U0010ffff\U000e0001"),
    ("nonchar", "\ufffe\uffff\ufeff"),
    ("combining", "e" + "\u0301" * 3000),
    ("long", "x" * 70_000),
    ("long", "é" * 300_000),
    ("empty", ""),
    ("blank", " \t\n "),
    ("format", "%s%n%x%999999999d"),
    ("format", "{0}{1}${x}%(a)s"),
    ("pebble", "{{"),
    ("pebble", "}}{%{#"),
    ("sql", "'; DROP TABLE executions; --"),
    ("like", "%_\\%"),
    ("path", "../../../../etc/passwd"),
    ("yaml", "&a *a !!python/object:os.system ? - : ---"),
    ("number-text", "1e309"),
    ("number-text", "9" * 5000),
    ("number-text", "NaN"),
    ("number-text", "-0"),
    ("binary", bytes(range(256)).decode("latin-1")),
    ("binary", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
    ("cursor", "HEAD"),
    ("cursor", "c2M6LTE"),  # sc:-1
    ("cursor", "c2M6OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5"),  # sc:9999... (out of range)
    ("cursor", "WyJTVEFSVF9EQVRFIiwgMWUzMDldCg"),  # ["START_DATE", 1e309]
    ("cursor", "W1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tb"),
    ("cursor", "!!!not base64==="),
    ("id", "0351pUK5Mbwfsd9XKOaeg7"),
    ("id", "x" * 300),
]

EXPRESSIONS: list[tuple[str, str]] = [
    ("expr-format", "{{ '%.999999999f' % 1.0 }}"),
    ("expr-format", "{{ '%0999999999d' % 1 }}"),
    ("expr-format", "{{ '%s' % 'x' }}"),
    ("expr-repeat", "{{ 'a' * 100000000 }}"),
    ("expr-repeat", "{{ [1] * 100000000 }}"),
    ("expr-power", "{{ 9 ** 9 ** 9 }}"),
    ("expr-power", "{{ 10 ** 400 * 1.0 }}"),
    ("expr-range", "{{ range(1000000000) | length }}"),
    ("expr-divide", "{{ 1 / 0 }}"),
    ("expr-divide", "{{ 1 % 0 }}"),
    ("expr-nesting", "{{ " + "(" * 500 + "1" + ")" * 500 + " }}"),
    ("expr-nesting", "{{ " + "[" * 200 + "]" * 200 + " }}"),
    ("expr-surrogate", "{{ '\udfff' }}"),
    ("expr-surrogate", '{{ "\\udfff" }}'),
    ("expr-nul", "{{ '\x00' }}"),
    ("expr-json", "{{ inputs | json }}"),
    ("expr-json", "{{ execution | json }}"),
    ("expr-missing", "{{ outputs.nope.value }}"),
    ("expr-missing", "{{ inputs.s.x.y }}"),
    ("expr-dunder", "{{ ''.__class__.__mro__ }}"),
    ("expr-jq", '{{ 1 | jq("[range(1000000000)]") }}'),
    ("expr-jq", '{{ "\\udfff" | jq(".") }}'),
    ("expr-syntax", "{{ ' }}"),
    ("expr-syntax", "{% for x in y %}"),
    ("expr-indent", "{{ 'x' | indent(999999999) }}"),
    ("expr-date", "{{ now() | date('yyyy-MM-dd', timeZone='Mars/Olympus') }}"),
    ("expr-date", "{{ 99999999999999 | date }}"),
    ("expr-number", "{{ 1e308 * 10 }}"),
    ("expr-number", "{{ 99999999999999999999999999999 | numberFormat('#') }}"),
]

NUMBERS: list[tuple[str, Any]] = [
    ("int-edge", 2**31),
    ("int-edge", -(2**31) - 1),
    ("int-edge", 2**63),
    ("int-edge", -(2**63) - 1),
    ("int-edge", 2**64),
    ("int-huge", 10**30),
    ("int-huge", Raw("1" + "0" * 5000)),
    ("float-edge", 1e308),
    ("float-edge", -1e308),
    ("float-edge", 5e-324),
    ("float-edge", -0.0),
    ("float-huge", Raw("1e999")),
    ("float-nan", Raw("NaN")),
    ("float-nan", Raw("Infinity")),
    ("float-nan", Raw("-Infinity")),
    ("int-small", -1),
    ("int-small", 0),
    ("float-plain", 1.5),
]

STRUCTURED: list[tuple[str, Any]] = [
    ("deep-json", deep_list(5_000)),
    ("deep-json", deep_object(2_000)),
    ("deep-json", deep_list(40)),
    ("wide-json", list(range(50_000))),
    ("wide-json", {f"k{i}": i for i in range(5_000)}),
    ("key-surrogate", {"\udfff": 1}),
    ("key-nul", {"\x00": "\x00"}),
    ("key-empty", {"": None}),
    ("mixed", [None, True, "\udfff", {"a": ["\x00"]}, 1.5]),
    ("bool", True),
    ("null", None),
    ("list", []),
    ("object", {}),
]

DATES = [
    "2026-13-45T99:99:99Z", "0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999Z", "+275760-09-13T00:00:00Z", "2026-01-01T00:00:00",
    "2026-01-01T00:00:00+99:99", "2026-01-01T00:00:00.1234567890123Z", "1e400",
]  # fmt: skip
DURATIONS = [
    "PT", "P", "PT1e400S", "P99999999999999999999D", "P999999999D", "-PT1S", "PT0.0000000001S",
    "PT-1S", "P1Y", "PT0S", "PT0.01S", "PT9999999999999999999H", "P1W2D", "pt1s",
]  # fmt: skip
STATES = ["SUCCESS", "FAILED", "PAUSED", "NOPE", "success", ""]


def text(rng: random.Random) -> tuple[str, str]:
    tag, value = rng.choice(TEXT)
    if rng.random() < 0.3:  # hostile text inside ordinary text
        return tag, f"ok-{value}-ok"
    return tag, value


def any_value(rng: random.Random) -> tuple[str, Any]:
    """A hostile value of any kind, weighted toward text (a copy: callers may change it)."""
    tag, value = _any_value(rng)
    return tag, copy.deepcopy(value) if isinstance(value, list | dict) else value


def _any_value(rng: random.Random) -> tuple[str, Any]:
    roll = rng.random()
    if roll < 0.45:
        return text(rng)
    if roll < 0.6:
        return rng.choice(EXPRESSIONS)
    if roll < 0.75:
        return rng.choice(NUMBERS)
    if roll < 0.85:
        return rng.choice(STRUCTURED)
    if roll < 0.92:
        return "date", rng.choice(DATES)
    return "duration", rng.choice(DURATIONS)


def scalar_value(rng: random.Random) -> tuple[str, Any]:
    """A hostile value that is not a container (for fields whose shape the fuzz keeps)."""
    while True:
        tag, value = any_value(rng)
        if not isinstance(value, list | dict):
            return tag, value


# --------------------------------------------------------------------------- writers


def to_json(value: Any, *, ascii_only: bool = True) -> str:
    """JSON text of `value`, with `Raw` parts verbatim and strings escaped (`ascii_only`) or
    written raw (a lone surrogate then stays in the Python string, for text-level writers)."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        parts = (
            f"{json.dumps(str(k), ensure_ascii=ascii_only)}:{to_json(v, ascii_only=ascii_only)}"
            for k, v in value.items()
        )
        return "{" + ",".join(parts) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(to_json(v, ascii_only=ascii_only) for v in value) + "]"
    return json.dumps(value, ensure_ascii=ascii_only)


def to_yaml(value: Any, indent: str = "") -> str:
    """Block YAML whose scalars are JSON (a JSON string is a valid YAML double-quoted scalar);
    `Raw` and empty containers are written as flow text."""
    if isinstance(value, dict) and value:
        lines = []
        for key, item in value.items():
            head = f"{indent}{json.dumps(str(key))}:"
            if isinstance(item, dict | list) and item:
                lines.append(head + "\n" + to_yaml(item, indent + "  "))
            else:
                lines.append(f"{head} {to_json(item)}\n")
        return "".join(lines)
    if isinstance(value, list) and value:
        lines = []
        for item in value:
            if isinstance(item, dict | list) and item:
                nested = to_yaml(item, indent + "  ")
                lines.append(f"{indent}- {nested.lstrip()}")
            else:
                lines.append(f"{indent}- {to_json(item)}\n")
        return "".join(lines)
    return f"{indent}{to_json(value)}\n"


def shorten(value: Any, limit: int = 160) -> str:
    """A printable, bounded form of a value for failure reports (escapes kept visible)."""
    if isinstance(value, bytes):
        value = "bytes:" + value.decode("latin-1")
    shown = to_json(value) if not isinstance(value, str) else json.dumps(value)
    if len(shown) > limit:
        return f"{shown[: limit // 2]}…({len(shown)} chars)…{shown[-limit // 4 :]}"
    return shown
