"""Expressions (semantics.md#expression-operators): Pebble operators, their precedence and
laziness."""

from __future__ import annotations

from typing import Any

import pytest

from tercel.engine.expressions import ExpressionError, render, validate

CTX: dict[str, Any] = {
    "flow": {"id": "expr-equals-contains"},
    "task": {"id": "t"},
    "inputs": {
        "n": 41,
        "flag": False,
        "maybe": None,
        "word": "kestrel",
        "colours": ["red", "green"],
    },
    "outputs": {"base": {"values": {"word": "kestrel", "colours": ["red", "green"]}}},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # arithmetic (Pebble: long division truncates, % keeps the dividend's sign)
        ("{{ 1 + 2 }}", "3"),
        ("{{ inputs.n + 1 }}", "42"),
        ("{{ 10 - 2 - 3 }}", "5"),
        ("{{ 2 * 3.5 }}", "7.0"),
        ("{{ 7 / 2 }}", "3"),
        ("{{ -7 / 2 }}", "-3"),
        ("{{ 7.0 / 2 }}", "3.5"),
        ("{{ 7 % 3 }}", "1"),
        ("{{ -7 % 3 }}", "-1"),
        ("{{ 7.5 % 2 }}", "1.5"),
        ("{{ 7 // 2 }}", "3"),
        ("{{ 2 ** 10 }}", "1024"),
        ("{{ -3 }}", "-3"),
        ("{{ +3 }}", "3"),
        ("{{ - inputs.n }}", "-41"),
        ("{{ 0.1 + 0.2 }}", "0.30000000000000004"),
        ("{{ 'ab' * 2 }}", "abab"),
        ("{{ 2 * 'ab' }}", "abab"),
        ("{{ [1] * 2 }}", "[1,1]"),
        ("{{ [1] + [2] }}", "[1,2]"),
        ("{{ 'a' + 'b' }}", "ab"),
        # comparisons
        ("{{ 1 == 1 }}", "true"),
        ("{{ 1 equals 1.0 }}", "true"),
        ("{{ flow.id equals 'expr-equals-contains' }}", "true"),
        ("{{ task.id equals 'something-else' }}", "false"),
        ("{{ 'a' != 'b' }}", "true"),
        ("{{ 2 > 1 }}", "true"),
        ("{{ 1 > 2 }}", "false"),
        ("{{ 2 >= 2 }}", "true"),
        ("{{ 1 < 2 }}", "true"),
        ("{{ 3 <= 2 }}", "false"),
        # logic (always booleans)
        ("{{ true and false }}", "false"),
        ("{{ true or false }}", "true"),
        ("{{ 'x' or false }}", "true"),
        ("{{ 'x' and 'y' }}", "true"),
        ("{{ not true }}", "false"),
        ("{{ not 0 }}", "true"),
        ("{{ not '' }}", "true"),
        ("{{ not [] }}", "true"),
        ("{{ not null }}", "true"),
        ("{{ 1 == 1 and 2 > 1 or false }}", "true"),
        ("{{ true and true and false }}", "false"),
        ("{{ false or false or true }}", "true"),
        # contains
        ("{{ 'hello world' contains 'lo w' }}", "true"),
        ("{{ inputs.word contains 'xyz' }}", "false"),
        ("{{ inputs.colours contains 'green' }}", "true"),
        ("{{ outputs.base.values contains 'word' }}", "true"),
        ("{{ outputs.base.values contains 'nope' }}", "false"),
        ("{{ [1, 2, 3] contains [1, 3] }}", "true"),
        ("{{ [1, 2, 3] contains [1, 4] }}", "false"),
        ("{{ null contains 'x' }}", "false"),
        ("{{ 'a1' contains 1 }}", "true"),
        # concatenation
        ("{{ 'a' ~ 'b' }}", "ab"),
        ("{{ 'n=' ~ inputs.n ~ ' ' ~ true ~ null }}", "n=41 true"),
        ("{{ [1, 2] ~ {'a': 1} }}", '[1,2]{"a":1}'),
        # ranges
        ("{{ 1..5 }}", "[1,2,3,4,5]"),
        ("{{ 5..1 }}", "[]"),
        ("{{ 'a'..'c' }}", '["a","b","c"]'),
        ("{{ 1..3 | join(',') }}", "1,2,3"),
        # ternary
        ("{{ inputs.flag ? 'on' : 'off' }}", "off"),
        ("{{ 1 > 2 ? 'bigger' : 'smaller' }}", "smaller"),
        ("{{ outputs.base.values.word == 'kestrel' ? 'match' : 'no match' }}", "match"),
        ("{{ true ? false ? 'a' : 'b' : 'c' }}", "b"),
        ("{{ false ? 'a' : true ? 'b' : 'c' }}", "b"),
        ("{{ [] ? 'full' : 'empty' }}", "empty"),
        ("{{ 'false' ? 'string is truthy' : 'no' }}", "string is truthy"),
        # coalescing
        ("{{ outputs.base.values.absent_key ?? 'fallback' }}", "fallback"),
        ("{{ outputs.no_such_task.value ?? 'deep-fallback' }}", "deep-fallback"),
        ("{{ outputs.base.values.word ?? 'unused' }}", "kestrel"),
        ("{{ inputs.maybe ?? 'none' }}", "none"),
        ("{{ inputs.maybe ??? 'none' }}", ""),
        ("{{ missing ??? 'undefined' }}", "undefined"),
        ("{{ a ?? b ?? 'third' }}", "third"),
        ("{{ a ?? inputs.n ?? 'third' }}", "41"),
        ("{{ inputs.flag ?? 'not used: false is a value' }}", "false"),
        ("{{ (a ?? 'x') ~ (b ?? 'y') }}", "xy"),
        # literals
        ("{{ 'single' ~ \"double\" }}", "singledouble"),
        ("{{ 'it\\'s' }}", "it's"),
        ('{{ "say \\"hi\\"" }}', 'say "hi"'),
        ("{{ 'back\\\\slash' }}", "back\\slash"),
        ("{{ 'no\\nescape' }}", "no\\nescape"),
        ("{{ 'é€😀' }}", "é€😀"),
        ("{{ TRUE }}{{ FALSE }}{{ NULL }}{{ none }}", "truefalse"),
        ("{{ [1, 'a', [true]] }}", '[1,"a",[true]]'),
        ("{{ {'k': 1, 2: 'two'} }}", '{"k":1,"2":"two"}'),
        ("{{ [] }}{{ {} }}", "[]{}"),
    ],
)
def test_operators(text: str, expected: str) -> None:
    assert render(text, CTX) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ 1 + 2 * 3 }}", "7"),
        ("{{ (1 + 2) * 3 }}", "9"),
        ("{{ 2 * 3 + 1 }}", "7"),
        ("{{ 'a' ~ 'b' | upper }}", "AB"),
        ("{{ missing ?? 'a' | upper }}", "A"),
        ("{{ 'x' ~ 1..3 }}", "x[1,2,3]"),
        ("{{ -1 | abs }}", "1"),
        ("{{ 1 + 2 == 3 }}", "true"),
        ("{{ 'a' ~ 'b' == 'ab' }}", "true"),
        ("{{ 1 == 1 ? 'y' : 'n' }}", "y"),
        ("{{ false and false or true }}", "true"),
        ("{{ true or true and false }}", "true"),
        ("{{ [1, 2] contains 1 == true }}", "true"),
        ("{{ 1 + 2 ~ 3 }}", "ERR"),
        ("{{ 'ab' | length * 2 }}", "4"),
        ("{{ 2 * 'ab' | length }}", "4"),
        ("{{ not false and false }}", "false"),
        ("{{ 2 ** 3 ** 2 }}", "64"),
    ],
)
def test_pebble_precedence(text: str, expected: str) -> None:
    if expected == "ERR":  # `~` binds tighter than `+`: 1 + (2 ~ 3) adds an int and a string
        with pytest.raises(ExpressionError, match="unsupported operand"):
            render(text, CTX)
        return
    assert render(text, CTX) == expected


def test_only_the_taken_branch_is_evaluated() -> None:
    assert render("{{ true ? 'taken' : 1 / 0 }}", CTX) == "taken"
    assert render("{{ false ? nope.x : 'taken' }}", CTX) == "taken"
    assert render("{{ 'present' ?? (1 / 0) }}", CTX) == "present"
    assert render("{{ null ??? (1 / 0) }}", CTX) == ""
    assert render("{{ false and 1 / 0 }}", CTX) == "false"
    assert render("{{ true or 1 / 0 }}", CTX) == "true"
    with pytest.raises(ExpressionError, match="/ by zero"):
        render("{{ missing ?? (1 / 0) }}", CTX)


def test_coalescing_evaluates_its_left_side_once() -> None:
    calls: list[int] = []

    def logs() -> list[str]:
        calls.append(1)
        return ["one"]

    assert render("{{ errorLogs() ?? 'none' }}", {"__errorLogs": logs}) == '["one"]'
    assert calls == [1]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{ 1 / 0 }}", "/ by zero"),
        ("{{ 1 % 0 }}", "/ by zero"),
        ("{{ 1.0 / 0 }}", "float division by zero"),
        ("{{ 'a' - 1 }}", "unsupported operand"),
        ("{{ 'a' < 1 }}", "Cannot compare a string with a number"),
        ("{{ 1 contains 1 }}", "Cannot use `contains` on a int"),
    ],
)
def test_operator_errors(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        render(text, CTX)


def test_deep_nesting_is_refused_at_validation() -> None:
    assert validate("{{ " + "(" * 20 + "1" + ")" * 20 + " }}") is None
    problem = validate("{{ " + "(" * 100 + "1" + ")" * 100 + " }}")
    assert problem is not None and "nested too deeply" in problem
    assert validate("{{ 'a'" + " ~ 'b'" * 100 + " }}") is None
    assert render("{{ 1" + " + 1" * 100 + " }}", {}) == "101"
