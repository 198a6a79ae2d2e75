"""Query cost after fragment expansion (semantics.md#api-limits, #12 item 5), against a real server.

Documents within the depth, token and alias limits whose validation used to hold the event loop
for seconds (a fragment fan-out: 14 s at 21 levels) are refused before validation, with a clear
`GRAPHQL_VALIDATION_FAILED` error, and every document answers within `SLOWEST` seconds.
"""

from __future__ import annotations

import time

import pytest
from tests.crash.server import TercelServer
from tests.hostile.test_hostile_input import assert_serving

#: the longest any of these documents may take, HTTP round trip included (the loop-hold target
#: is 100 ms; the margin absorbs a loaded machine)
SLOWEST = 0.5


def fan_out(levels: int, leaf: str = "__typename") -> str:
    """F0 spreads F1 twice, F1 spreads F2 twice, …: 2^levels leaves in ~10 tokens a level."""
    parts = ["query { ...F0 }"]
    parts += [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    parts.append(f"fragment F{levels} on Query {{ {leaf} }}")
    return "\n".join(parts)


def two_way_fan_out(levels: int) -> str:
    """A and B both spread the next A and B: the overlap rule compares distinct fragments."""
    parts = ["query { ...A0 ...B0 }"]
    for i in range(levels):
        parts.append(f"fragment A{i} on Query {{ ...A{i + 1} ...B{i + 1} }}")
        parts.append(f"fragment B{i} on Query {{ ...A{i + 1} ...B{i + 1} }}")
    parts += [f"fragment {name}{levels} on Query {{ __typename }}" for name in "AB"]
    return "\n".join(parts)


REFUSED: dict[str, tuple[str, str]] = {
    # name: (document, words of the error)
    "fan-out of 21 levels": (fan_out(21), "once its fragments are expanded"),
    "fan-out of 30 levels": (fan_out(30), "once its fragments are expanded"),
    "two-way fan-out of 15 levels": (two_way_fan_out(15), "once its fragments are expanded"),
    "fan-out of 12 levels over 2 fields": (
        fan_out(12, "flows { id }"),
        "once its fragments are expanded",
    ),
    "1,900 times __typename": ("{ " + "__typename " * 1900 + "}", "`__typename` 1900 times"),
    "300 times flows": (
        "{ " + "flows { id namespace revision } " * 300 + "}",
        "`flows` 300 times",
    ),
    "150 fragments selecting flows": (
        "query { "
        + " ".join(f"...G{i}" for i in range(150))
        + " }\n"
        + "\n".join(f"fragment G{i} on Query {{ flows {{ id }} }}" for i in range(150)),
        "`flows` 150 times",
    ),
}


@pytest.mark.timing
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_costly_documents_are_refused_before_validation(server: TercelServer, name: str) -> None:
    document, words = REFUSED[name]
    began = time.monotonic()
    response = server.post({"query": document}, timeout=60)
    took = time.monotonic() - began
    assert response.status_code == 200, response.text[:300]
    errors = response.json()["errors"]
    assert words in errors[0]["message"], errors
    assert errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", errors
    assert took < SLOWEST, f"{name}: answered after {took:.2f}s"
    assert_serving(server)


ACCEPTED = {
    "fan-out of 8 levels with flows": fan_out(5, "flows { id namespace }"),
    "100 times flows": "{ " + "flows { id namespace revision } " * 60 + "}",
    "fragments on nested lists, 15 aliases": "{ "
    + " ".join(f"a{i}: executions(first: 100) {{ edges {{ node {{ ...E }} }} }}" for i in range(15))
    + " }\nfragment E on Execution { id state { current histories { date } } "
    "taskRunList { id state { current } attempts { state { current } } } }",
}


@pytest.mark.timing
@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_documents_under_the_caps_run_quickly(server: TercelServer, name: str) -> None:
    began = time.monotonic()
    response = server.post({"query": ACCEPTED[name]}, timeout=60)
    took = time.monotonic() - began
    assert response.status_code == 200, response.text[:300]
    assert "errors" not in response.json(), response.json()["errors"]
    assert took < SLOWEST, f"{name}: answered after {took:.2f}s"
