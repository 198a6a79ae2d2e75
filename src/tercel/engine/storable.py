"""What text can be stored: valid Unicode only (SQLite and JSON need UTF-8).

A Python string may hold UTF-16 surrogates (a YAML or JSON `\\udfff` escape, a command-line
argument with bytes that are not UTF-8). Tercel's rule, written in the README: a surrogate pair
written as two escapes is joined into its character, as Java would read it; a lone surrogate is
refused where text enters (flow source, inputs, labels) with an error naming the field, and a
value a task produces at run time with one fails that task run. Log lines keep their text with
each lone surrogate replaced by U+FFFD, as undecodable shell output is.

Integers follow the same rule: JSON values hold 64-bit signed integers (Kestra's `Long`; the
JSON codec stores no wider one), so an integer beyond that range is refused where it enters,
naming the field, rather than stored as a float that loses digits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from tercel.engine import model

__all__ = [
    "WIDE_INTEGER",
    "first_unstorable",
    "is_wide_integer",
    "joined",
    "label_problems",
    "lone_surrogate",
    "problem",
    "scrubbed",
    "storable",
]

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
WIDE_INTEGER = (
    "is an integer beyond 64 bits, which cannot be stored exactly "
    f"(integers must lie within {_LONG_MIN}..{_LONG_MAX})"
)


def is_wide_integer(value: object) -> bool:
    """`value` is an integer (not a bool) outside the 64-bit signed range."""
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and not _LONG_MIN <= value <= _LONG_MAX
    )


def joined(text: str) -> str:
    """`text` with every valid surrogate pair joined into its character (lone ones kept)."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    pairs = text.encode("utf-16-le", "surrogatepass")
    return pairs.decode("utf-16-le", "surrogatepass")


def lone_surrogate(text: str) -> str | None:
    """The first character of `text` that UTF-8 cannot encode, or None."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return text[error.start]
    return None


def problem(text: str) -> str | None:
    """Why `text` cannot be stored, or None when it can."""
    bad = lone_surrogate(text)
    if bad is None:
        return None
    return (
        f"contains a lone UTF-16 surrogate (\\u{ord(bad):04x}), which cannot be stored "
        "(text must be valid Unicode)"
    )


def first_unstorable(value: Any, path: str) -> tuple[str, str] | None:
    """(path, problem) of the first string, key included, or integer in `value` that cannot be
    stored. Every task result passes here: the common, clean case is one walk with no path built."""
    if storable(value):
        return None
    return _first(value, path)


def storable(value: Any) -> bool:
    """Whether every string in `value`, keys included, and every integer can be stored. Runs
    for every task result: exact types first (ASCII text, small integers, None), the general
    rules for the rest."""
    kind = type(value)
    if kind is str:
        return value.isascii() or lone_surrogate(value) is None
    if kind is dict:
        if _ascii_texts(value):
            return True
        return all(_plain(key) and _plain(item) for key, item in value.items())
    if kind is list or kind is tuple:
        return all(_plain(item) for item in value)
    return _general(value)


def _ascii_texts(value: dict[Any, Any]) -> bool:
    """True for a map of ASCII text to ASCII text (most task outputs and metric tags), checked
    in two C-level joins."""
    try:
        return "".join(value).isascii() and "".join(value.values()).isascii()
    except TypeError:  # a key or a value that is not text
        return False


def _plain(value: Any) -> bool:
    kind = type(value)
    if kind is str:
        return value.isascii() or lone_surrogate(value) is None
    if value is None or kind is float or kind is bool:
        return True
    if kind is int:
        return bool(_LONG_MIN <= value <= _LONG_MAX)
    return storable(value)


def _general(value: Any) -> bool:
    """`storable` for subclasses and other types."""
    if isinstance(value, str):
        return value.isascii() or lone_surrogate(value) is None
    if isinstance(value, dict):
        return all(storable(key) and storable(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return all(storable(item) for item in value)
    return not is_wide_integer(value)


def _first(value: Any, path: str) -> tuple[str, str] | None:
    if is_wide_integer(value):
        return (path, WIDE_INTEGER)
    if isinstance(value, str):
        found = problem(value)
        return None if found is None else (path, found)
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and (found := problem(key)) is not None:
                return (f"{path} key {scrubbed(key)!r}", found)
            if (hit := _first(item, f"{path}.{key}")) is not None:
                return hit
        return None
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if (hit := _first(item, f"{path}[{index}]")) is not None:
                return hit
    return None


def label_problems(labels: Sequence[model.Label]) -> list[str]:
    """One line per label key or value that cannot be stored, naming it."""
    found: list[str] = []
    for index, label in enumerate(labels):
        for part, text in (("key", label.key), ("value", label.value)):
            why = problem(text)
            if why is not None:
                found.append(f"labels[{index}].{part} {why}")
    return found


def scrubbed(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD (for log lines and error messages)."""
    if lone_surrogate(text) is None:
        return text
    return _SURROGATE.sub(REPLACEMENT, joined(text))
