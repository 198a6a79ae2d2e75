"""Integers beyond 64 bits: kept exact when JSON text is decoded, then refused by name."""

from __future__ import annotations

from tercel.engine import storable
from tercel.storage import codec


def test_exact_loads_keeps_integers_beyond_64_bits_exact() -> None:
    assert codec.exact_loads(b'{"j": 18446744073709551616}') == {"j": 2**64}
    assert codec.exact_loads('[-9223372036854775809, 1.5, "12345678901234567890"]') == [
        -(2**63) - 1,
        1.5,
        "12345678901234567890",
    ]
    assert codec.exact_loads(b'{"small": 7}') == {"small": 7}


def test_first_unstorable_names_an_integer_beyond_64_bits() -> None:
    found = storable.first_unstorable({"a": [1, 2**63]}, "j")
    assert found == ("j.a[1]", storable.WIDE_INTEGER)
    assert storable.first_unstorable([2**63 - 1, -(2**63), True, 1e300], "j") is None
