"""The only source of identifiers.

Ids are Kestra-style base-62 strings of a 128-bit number. Ours is time-ordered: 48 bits of Unix
milliseconds, then 80 random bits, left-padded to exactly 22 characters, so ids sort by creation
millisecond and primary-key inserts are append-mostly.
"""

from __future__ import annotations

import secrets
import time

__all__ = ["ALPHABET", "ID_LENGTH", "new_id"]

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ID_LENGTH = 22


def encode(number: int) -> str:
    """Base-62 text of `number`, left-padded with `0` to 22 characters."""
    digits = ["0"] * ID_LENGTH
    position = ID_LENGTH
    while number:
        number, rest = divmod(number, 62)
        position -= 1
        digits[position] = ALPHABET[rest]
    return "".join(digits)


def new_id(now_ms: int | None = None) -> str:
    """A fresh time-ordered id; `now_ms` defaults to the wall clock in milliseconds."""
    millis = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    return encode(((millis & ((1 << 48) - 1)) << 80) | secrets.randbits(80))
