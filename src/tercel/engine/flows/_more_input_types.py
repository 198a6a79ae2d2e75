"""The type rules of SELECT, MULTISELECT, ENUM, URI, EMAIL, YAML, SECRET, DATE and TIME inputs
(docs/semantics.md#more-input-types; Kestra: FlowInputOutput.parseType and the
`io.kestra.core.models.flows.input` classes). Private: `_input_types.parse` dispatches here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from tercel.engine import secretinputs
from tercel.engine.flows import validation
from tercel.engine.flows import yamlsource as ys

__all__ = ["EMAIL_RE", "TYPES", "URI_RE", "parse_more"]

#: Kestra's URIInput pattern (FlowInputOutput.URI_PATTERN)
URI_RE = re.compile(
    r"[a-z]+://(?:www\.)?[-a-zA-Z0-9@:%._+~#=]{1,256}\.[a-zA-Z0-9()]{1,6}\b"
    r"(?:[-a-zA-Z0-9()@:%_+.~#?&/=]*)"
)
#: Kestra's EmailInput pattern (the empty string passes, as in Kestra)
EMAIL_RE = re.compile(r"|[a-zA-Z0-9_!#$%&’*+/=?`{|}~^.-]+@[a-zA-Z0-9.-]+")

TYPES = ("SELECT", "MULTISELECT", "ENUM", "URI", "EMAIL", "YAML", "SECRET", "DATE", "TIME")
#: Java's LocalDate.parse and LocalTime.parse (ISO_LOCAL_DATE, ISO_LOCAL_TIME) formats
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME_RE = re.compile(r"[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?")


class _Refused(ValueError):
    """The value does not fit; `reason` is the middle part of the input message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _text(kind: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    raise _Refused(f"expected {kind}")


def _uri(value: Any) -> str:
    text = _text("URI", value)
    if not URI_RE.fullmatch(text):
        raise _Refused("expected URI")
    return text


def _email(value: Any) -> str:
    text = _text("EMAIL", value)
    if not EMAIL_RE.fullmatch(text):
        raise _Refused("it must be a valid email")
    return text


def _date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE_RE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _Refused("expected DATE")


def _time(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str) and _TIME_RE.fullmatch(value):
        whole, _, fraction = value.partition(".")
        try:  # Python keeps microseconds: nanoseconds beyond them are cut
            return time.fromisoformat(
                whole + (f".{fraction[:6].ljust(6, '0')}" if fraction else "")
            )
        except ValueError:
            pass
    raise _Refused("expected TIME")


def _secret(value: Any) -> dict[str, str]:
    if secretinputs.is_secret(value):  # a replay or restart passes the stored form back
        return dict(value)
    return secretinputs.wrap(_text("SECRET", value))


def _yaml(value: Any) -> Any:
    if not isinstance(value, str):
        return _plain(value, "YAML")
    issues = validation.Issues()  # the flow source's reader: 256 KiB, no anchors, no tags
    node = ys.parse(value, issues)
    if issues or node is None:
        found = issues.sorted()
        where = f" at line {found[0].line}" if found and found[0].line else ""
        raise _Refused(f"expected YAML ({found[0].message}{where})" if found else "expected YAML")
    return ys.to_data(node)


def _multiselect(value: Any) -> list[Any]:
    items: Any = value
    if isinstance(value, str):
        try:
            items = json.loads(value)
        except (ValueError, RecursionError):
            raise _Refused("expected MULTISELECT (a list)") from None
    if not isinstance(items, list | tuple):
        raise _Refused("expected MULTISELECT (a list)")
    return list(items)


def _plain(value: Any, kind: str) -> Any:
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (ValueError, TypeError, RecursionError):
        raise _Refused(f"expected {kind}") from None


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "SELECT": lambda value: _text("SELECT", value),
    "ENUM": lambda value: _text("ENUM", value),
    "URI": _uri,
    "EMAIL": _email,
    "SECRET": _secret,
    "YAML": _yaml,
    "MULTISELECT": _multiselect,
    "DATE": _date,
    "TIME": _time,
}


def parse_more(kind: str, value: Any) -> Any:
    """The native value of `value` for one of `TYPES`; ValueError with `.reason` when it does
    not fit. MULTISELECT elements are coerced by the caller (they follow `itemType`)."""
    return _PARSERS[kind](value)
