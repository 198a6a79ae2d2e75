"""Keyset pagination: sort keys, opaque cursors and the `after` predicate
(docs/semantics.md#queries).

A cursor is base64url (unpadded) of the compact JSON array `[field, direction, value, id]`;
`value` is the row's sort value (a list for composite keys). Rows are ordered by the sort key
then by id, in one direction; null sort values come last in both directions.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, or_, tuple_

__all__ = [
    "CursorError",
    "Order",
    "decode_cursor",
    "encode_cursor",
    "seq_cursor",
    "seq_from_cursor",
]


class CursorError(ValueError):
    """A malformed cursor, or one made under another order."""


@dataclass(frozen=True, slots=True)
class Order:
    """A resolved order: its public name, direction and SQL sort expressions."""

    field: str  #: the public field name (START_DATE, CREATION, ...)
    descending: bool
    #: the sort key, most significant first; only a single-expression key may be nullable
    keys: tuple[ColumnElement[Any], ...]
    id_column: ColumnElement[Any]
    nullable: bool = False

    @property
    def direction(self) -> str:
        return "DESC" if self.descending else "ASC"

    def order_by(self) -> list[ColumnElement[Any]]:
        def way(column: ColumnElement[Any]) -> ColumnElement[Any]:
            return column.desc() if self.descending else column.asc()

        nulls_last = [self.keys[0].is_(None).asc()] if self.nullable else []
        return [*nulls_last, *(way(k) for k in self.keys), way(self.id_column)]

    def after(self, value: Any, row_id: str) -> ColumnElement[bool]:
        """Rows strictly after the row with sort value `value` and id `row_id`."""
        if self.nullable:
            column = self.keys[0]
            if value is None:
                return and_(column.is_(None), self._beyond(self.id_column, row_id))
            return or_(
                column.is_(None),
                and_(
                    column.is_not(None),
                    self._beyond(tuple_(column, self.id_column), (value, row_id)),
                ),
            )
        values = value if isinstance(value, list) else [value]
        if len(values) != len(self.keys):
            raise CursorError("invalid cursor: wrong sort value")
        return self._beyond(tuple_(*self.keys, self.id_column), (*values, row_id))

    def _beyond(self, left: ColumnElement[Any], right: Any) -> ColumnElement[bool]:
        target = tuple_(*right) if isinstance(right, tuple) else right
        return left < target if self.descending else left > target

    def cursor(self, value: Any, row_id: str) -> str:
        return encode_cursor(self.field, self.direction, value, row_id)

    def decode(self, text: str) -> tuple[Any, str]:
        field, direction, value, row_id = decode_cursor(text)
        if field != self.field or direction != self.direction:
            made, wanted = f"{field} {direction}", f"{self.field} {self.direction}"
            raise CursorError(f"cursor was made for orderBy {made}, not {wanted}")
        return value, row_id


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise CursorError(f"invalid cursor `{text}`") from None


def encode_cursor(field: str, direction: str, value: Any, row_id: str) -> str:
    return _b64(orjson.dumps([field, direction, value, row_id]))


def decode_cursor(text: str) -> tuple[str, str, Any, str]:
    try:
        decoded = orjson.loads(_unb64(text))
    except orjson.JSONDecodeError:
        raise CursorError(f"invalid cursor `{text}`") from None
    if not (
        isinstance(decoded, list)
        and len(decoded) == 4
        and isinstance(decoded[0], str)
        and decoded[1] in ("ASC", "DESC")
        and isinstance(decoded[3], str)
        and _plain(decoded[2])
    ):
        raise CursorError(f"invalid cursor `{text}`")
    return decoded[0], decoded[1], decoded[2], decoded[3]


#: SQLite integers are signed 64-bit: a cursor holding a larger one cannot be compared
_INT_RANGE = range(-(2**63), 2**63)


def _plain(value: Any) -> bool:
    if isinstance(value, list):
        return all(_plain(item) for item in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value in _INT_RANGE
    return value is None or isinstance(value, float | str)


def seq_cursor(prefix: str, seq: int) -> str:
    """`base64url(prefix + ":" + seq)`, unpadded: the cursor of a state change or a log."""
    return _b64(f"{prefix}:{seq}".encode())


def seq_from_cursor(prefix: str, text: str) -> int:
    """The sequence number of a `seq_cursor` of this kind; raises CursorError otherwise."""
    try:
        kind, _, number = _unb64(text).decode().partition(":")
    except UnicodeDecodeError:
        raise CursorError(f"invalid cursor `{text}`") from None
    if kind != prefix or not (number.isascii() and number.isdigit()):
        raise CursorError(f"invalid cursor `{text}`: expected a `{prefix}` cursor")
    if len(number) > 19 or int(number) not in _INT_RANGE:
        raise CursorError(f"invalid cursor `{text}`: its position is out of range")
    return int(number)


def sort_value(values: Sequence[Any]) -> Any:
    """The JSON form of a row's sort key: a scalar for one key, a list for composite keys."""
    return values[0] if len(values) == 1 else list(values)
