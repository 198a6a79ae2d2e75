"""Pebble statements (semantics.md#expression-statements): `{% for %}`, `{% if %}`/`{% elseif
%}`/`{% else %}`, `{% set %}`, Pebble's `loop` variable, errors with their position, and the bounds
every loop runs under."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tercel.engine import expressions
from tercel.engine.expressions import ExpressionError, render


@pytest.fixture(autouse=True, scope="module")
def _stop_jq_helper() -> Iterator[None]:
    yield
    expressions.shutdown()


CTX: dict[str, Any] = {
    "users": [{"name": "ada"}, {"name": "bob"}, {"name": "cy"}],
    "scores": {"ada": 3, "bob": 5},
    "none": None,
    "empty": [],
    "n": 4,
    "loop": "user data named loop",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{% for u in users %}{{ u.name }},{% endfor %}", "ada,bob,cy,"),
        ("{% for u in users %}{{ loop.index }}{% endfor %}", "012"),
        ("{% for u in users %}{{ loop.revindex }}{% endfor %}", "210"),
        (
            "{% for u in users %}{{ loop.first }}/{{ loop.last }} {% endfor %}",
            "true/false false/false false/true ",
        ),
        ("{% for u in users %}{{ loop.length }}{% endfor %}", "333"),
        ("{% for e in scores %}{{ e.key }}={{ e.value }};{% endfor %}", "ada=3;bob=5;"),
        ("{% for k, v in scores %}{{ k }}{{ v }}{% endfor %}", "ada3bob5"),
        ("{% for x in empty %}x{% else %}nothing{% endfor %}", "nothing"),
        ("{% for x in none %}x{% else %}nothing{% endfor %}", ""),  # Pebble: null renders nothing
        ("{% for x in [] %}{% for y in none %}{% else %}n{% endfor %}{% else %}e{% endfor %}", "e"),
        ("{% for x in [1] %}{% for y in [] %}{% else %}n{{ x }}{% endfor %}{% endfor %}", "n1"),
        (
            "{% for i in 1..3 %}{% for j in [1, 2] %}{{ loop.index }}{% endfor %}{% endfor %}",
            "010101",
        ),
        (
            "{% for i in range(1, 3) %}{{ i }}{% if not loop.last %}, {% endif %}{% endfor %}",
            "1, 2, 3",
        ),
        ("{{ loop }}", "user data named loop"),
        ("{% if n > 5 %}big{% elseif n > 3 %}mid{% else %}small{% endif %}", "mid"),
        ("{% if n > 5 %}big{% elseif n > 4 %}mid{% else %}small{% endif %}", "small"),
        ("{% if n == 4 %}four{% endif %}", "four"),
        ("{% if users contains {'name': 'bob'} %}yes{% endif %}", "yes"),
        ("{% set total = n * 2 %}{{ total }}", "8"),
        ("{% set names = users | map(attribute='name') | join('-') %}{{ names }}", "ada-bob-cy"),
        ("{%- for u in users -%}\n  {{ u.name }}\n{%- endfor -%}", "adabobcy"),
        ("a\n{% for u in [1] %}\n{{ u }}\n{% endfor %}\nb", "a\n\n1\n\nb"),
    ],
)
def test_statements_render_as_pebble(text: str, expected: str) -> None:
    assert render(text, CTX) == expected
    assert expressions.validate(text) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "x\n  {% for u in users %}",
            "Unclosed `{% for %}` block: `{% endfor %}` is missing "
            "(in `{% for %}` at line 2, column 3)",
        ),
        (
            "{% if true %}",
            "Unclosed `{% if %}` block: `{% endif %}` is missing "
            "(in `{% if %}` at line 1, column 1)",
        ),
        ("{% endif %}", "Unexpected `{% endif %}` without `{% if %}` (in `{% endif %}` at line 1"),
        (
            "{% for u in users %}\n{% endif %}",
            "Unexpected `{% endif %}`: `{% for %}` of line 1, "
            "column 1 is still open (in `{% endif %}` at line 2, column 1)",
        ),
        ("{% else %}", "`{% else %}` outside of a `{% if %}` or `{% for %}` block"),
        (
            "{% for u in users %}{% elseif true %}{% endfor %}",
            "`{% elseif %}` outside of a `{% if %}` block (in `{% elseif %}` at line 1, column 21)",
        ),
        ("{% if a %}{% else %}{% elseif b %}{% endif %}", "`{% elseif %}` after `{% else %}`"),
        ("{% for %}{% endfor %}", "Expected a variable name but found end of tag"),
        ("{% for u users %}{% endfor %}", "Expected `{% for item in items %}`"),
        ("{% for u in %}{% endfor %}", "`{% for %}` needs an expression"),
        ("{% if %}{% endif %}", "`{% if %}` needs an expression (in `{% if %}` at line 1"),
        ("{% if 1 + %}{% endif %}", "Unexpected end of expression (in `{% if %}` at line 1"),
        ("{% set x %}", "Expected `{% set name = value %}`"),
        ("{% set loop = 1 %}", "`loop` is Pebble's loop variable and cannot be assigned"),
        ("{% set _x = 1 %}", "Expected a variable name but found `_x`"),
        ("{% endfor extra %}", "Unexpected `extra` (in `{% endfor %}`"),
        ("{% if true %}x", "Unclosed `{% if %}` block"),
        ("{% if true %", "Unclosed `{%`"),
    ],
)
def test_bad_blocks_name_the_statement_and_its_position(text: str, message: str) -> None:
    problem = expressions.validate(text)
    assert problem is not None and message in problem, problem
    with pytest.raises(ExpressionError, match="in the expression"):
        render(text, CTX)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{% for x in n %}{% endfor %}", "`{% for %}` cannot iterate over a number"),
        ("{% for x in 'abc' %}{% endfor %}", "`{% for %}` cannot iterate over a string"),
        ("{% for k, v in users %}{% endfor %}", "`{% for key, value in … %}` needs a map"),
        ("{% for x in missing %}{% endfor %}", "Unable to find `missing`"),
        ("{% for u in users %}{{ loop.nope }}{% endfor %}", "Unable to find `nope`"),
        (
            "{% for u in users %}\n\n{{ u.age }}{% endfor %}",
            "Unable to find `age` used in the "
            "expression `{% for u in users %}\n\n{{ u.age }}{% endfor %}` at line 3",
        ),
    ],
)
def test_render_errors_inside_statements(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        render(text, CTX)
    assert message in str(caught.value), str(caught.value)


def _fails_within_the_limits(text: str, message: str, context: dict[str, Any]) -> None:
    started = time.monotonic()
    with pytest.raises(ExpressionError) as caught:
        render(text, context)
    assert time.monotonic() - started < 2.0
    assert message in str(caught.value), str(caught.value)


def test_nested_loops_over_a_million_items_stop_at_the_range_cap() -> None:
    many = list(range(1_000_000))
    _fails_within_the_limits(
        "{% for i in many %}{% for j in many %}{% endfor %}{% endfor %}",
        "Loops ran more than 10000 iterations in one render",
        {"many": many},
    )


def test_all_loops_of_a_render_share_the_iteration_cap() -> None:
    assert len(render("{% for i in range(1, 5000) %}x{% endfor %}", {})) == 5000
    twice = "{% for i in range(1, 5000) %}{% endfor %}{% for i in range(1, 5001) %}{% endfor %}"
    _fails_within_the_limits(twice, "Loops ran more than 10000 iterations", {})
    # a fresh render starts again from zero
    assert render("{% for i in range(1, 9999) %}{% endfor %}ok", {}) == "ok"


def test_loop_output_is_counted_as_it_grows() -> None:
    _fails_within_the_limits(
        "{% for i in range(1, 9000) %}" + "y" * 60_000 + "{% endfor %}",
        "Rendered text is larger than 1048576 characters",
        {},
    )


def test_slow_loop_bodies_stop_at_the_deadline() -> None:
    body = "{{ big | replace('a', 'b') | length }}"
    _fails_within_the_limits(
        "{% for i in range(1, 9999) %}" + body + "{% endfor %}",
        "time limit",
        {"big": "a" * 500_000},
    )
