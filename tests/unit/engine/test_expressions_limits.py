"""Every operator, filter and function sizes its work before doing it
(semantics.md#expression-limits, #12 item 4).

Each template here used to run far longer than the render deadline inside one uninterruptible
operation (or to allocate gigabytes) before any cap could see it; now each one is refused in a
few milliseconds with a message that names the cap. `SLOWEST` is how long a refusal may take.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tercel.engine.expressions import ExpressionError, guard, render, validate

#: a refusal must come long before the 1 s deadline: it is decided by sizes, not by the clock
SLOWEST = 0.5
MB = "a" * 1_000_000
CONTEXT: dict[str, Any] = {
    "mb": MB,
    "mb2": MB + "b",
    "items": ("a," * 300_000).split(","),
    "lists": [[1, 2, 3]] * 10,
    "half": ["a"] * 140_000,
}
_HALF = "half, "  # a list that renders to ~700 KB
_ITEMS = "items, "
_PAIRS = ", ".join(f"'{i}': '{i}{i}'" for i in range(40))

HOSTILE: dict[str, tuple[str, str]] = {
    # name: (template, words of the error)
    "string formatting width": ("{{ '%.999999999f' % 1.0 }}", "`%` is numeric modulo only"),
    "string formatting": ("{{ '%s-%s' % [1, 2] }}", "`%` is numeric modulo only"),
    "hex number of 4 Mbit": (
        "{{ ('0x' ~ ('f' * 1000000)) | number }}",
        "Number is larger than 65536 bits",
    ),
    "hash number of 4 Mbit": ("{{ ('#' ~ ('f' * 1000000)) | number }}", "larger than 65536 bits"),
    "huge integer division": (
        "{{ (('0x' ~ ('f' * 400000)) | number) // (('0x' ~ ('f' * 200000)) | number) }}",
        "larger than 65536 bits",
    ),
    "join of 200 lists of 700 KB": ("{{ [" + _HALF * 200 + "half] | join(',') }}", "larger than"),
    "flatten of 350 lists of 300,000 items": (
        "{{ ([" + _ITEMS * 350 + "items] | flatten) | length }}",
        "more than 1048576 elements",
    ),
    "replace over repeated strings": (
        "{{ ([mb, mb, mb, mb, mb, mb, mb, mb] | replace({'a': 'b'})) | length }}",
        "Cannot use `replace`",
    ),
    "replace growing many small strings": (
        "{{ ((('x,' * 200000) | split(',')) | replace({'x': mb})) | length }}",
        "larger than 1048576",
    ),
    "list equality of large strings": (
        "{{ [mb, mb2, mb, mb2, mb, mb2] == [mb2, mb, mb2, mb, mb2, mb] }}",
        "Cannot compare with `==`",
    ),
    "list ordering of large strings": ("{{ [mb, mb2, mb] < [mb, mb2, mb2] }}", "Cannot compare"),
    "list contains list": ("{{ items contains items }}", "Cannot use `contains`"),
    "sort of large strings": ("{{ ([mb, mb2, mb, mb2] | sort) | length }}", "Cannot sort"),
    "max of large strings": ("{{ max([mb, mb2, mb, mb2]) | length }}", "Cannot compute `max`"),
    "title of an 8 MB context string": ("{{ big | title }}", "larger than 1048576"),
    "date pattern of 1 MB": ("{{ now(format=('-' * 1000000)) }}", "longer than 256"),
    "time zone of 1 MB": ("{{ now(timeZone=('+' * 1000000)) }}", "longer than 64"),
    "backtracking date pattern": (
        "{{ (('1' * 40) ~ 'x') | date(existingFormat='yuyuyuyuyuyuyuyuyuyuyuyuyu') }}",
        "more than 3 variable-width fields",
    ),
    "replace with many pairs over a long list": (
        "{{ (items | replace({" + _PAIRS + "})) | length }}",
        "Cannot use `replace`",
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_operation_is_refused_before_the_work(name: str) -> None:
    text, words = HOSTILE[name]
    assert validate(text) is None  # these are valid templates: the refusal is at render
    context = {**CONTEXT, "big": MB * 8}
    started = time.monotonic()
    with pytest.raises(ExpressionError) as caught:
        render(text, context)
    took = time.monotonic() - started
    assert words in str(caught.value), str(caught.value)[:300]
    assert took < SLOWEST, f"{name}: refused after {took:.2f}s"


@pytest.mark.timing
@pytest.mark.parametrize(
    "text",
    [
        "{{ a + 1 }}" * 400,
        "{{ 1" + " | abs" * 600 + " }}",
        "{{ [" + "1," * 600 + "1] }}",
        "{{ " + " and ".join(["a"] * 600) + " }}",
        "x{{ a }}" * 600,
    ],
)
def test_template_tokens_are_capped_before_compiling(text: str) -> None:
    started = time.monotonic()
    problem = validate(text)
    assert problem is not None and "Template has more than 1000 tokens" in problem, problem
    assert time.monotonic() - started < 0.05


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ 7 % 3 }}", "1"),
        ("{{ -7 % 3 }}", "-1"),
        ("{{ 7.5 % 2 }}", "1.5"),
        ("{{ 7 // 2 }}", "3"),
        ("{{ [1, 2] == [1, 2] }}", "true"),
        ("{{ 'a' equals 'a' }}", "true"),
        ("{{ 2 >= 1 and 1 != 2 }}", "true"),
        ("{{ [3, 1, 2] | sort }}", "[1,2,3]"),
        ("{{ max([3, 1, 2]) }}", "3"),
        ("{{ [1, 2, 3] contains [3, 1] }}", "true"),
        ("{{ ['a', 'b'] | join('-') }}", "a-b"),
        ("{{ [[1], [2, 3]] | flatten }}", "[1,2,3]"),
        ("{{ '0x1F' | number }}", "31"),
        ("{{ ['ab', 'cb'] | replace({'b': 'x'}) }}", '["ax","cx"]'),
        ("{{ lists | length }}", "10"),
        ("{{ '2024-01-02' | date('yyyyMMdd') }}", "20240102"),
        ("{{ '20240102' | date('yyyy', existingFormat='yyyyMMdd') }}", "2024"),
        ("{{ now(timeZone='America/Argentina/ComodRivadavia') | length > 0 }}", "true"),
    ],
)
def test_ordinary_operations_still_work(text: str, expected: str) -> None:
    assert render(text, CONTEXT) == expected


def test_renders_in_one_event_loop_turn_share_the_turn_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An engine pass renders a ForEach's iterations back to back on the event loop: together
    they may take `TURN_SECONDS`, then the rest fail at once until the loop gets control."""
    monkeypatch.setattr(guard, "DEADLINE_SECONDS", 0.3)
    monkeypatch.setattr(guard, "TURN_SECONDS", 0.4)
    slow = "{{ render(vars.inner) }}" * 100  # 10,000 passes over 1 MB: into the deadline
    context = {"big": MB, "vars": {"inner": "{{ (big | upper) | length }}" * 100}}

    async def one_pass() -> list[str]:
        outcomes = []
        for _ in range(4):
            try:
                render(slow, context)
                outcomes.append("ok")
            except ExpressionError as error:
                outcomes.append(str(error).split(" in the expression")[0])
        await asyncio.sleep(0)  # the loop gets control: a fresh turn
        outcomes.append(render("{{ 1 + 1 }}", {}))
        return outcomes

    started = time.monotonic()
    outcomes = asyncio.run(one_pass())
    assert time.monotonic() - started < 0.8  # not 4 x 0.3 s
    assert outcomes[0] == "Rendering took longer than the 0.3 s time limit", outcomes
    stopped = "Rendering stopped: the renders of one engine pass may take 0.4 s in total"
    assert outcomes[1:4] == [stopped] * 3, outcomes
    assert outcomes[4] == "2"
