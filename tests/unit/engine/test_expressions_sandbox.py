"""Expressions (semantics.md#expression-limits): sandbox, caps, hostile templates, the jq helper and
performance."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tercel.engine import expressions
from tercel.engine.expressions import ExpressionError, guard, jqrun, render, renderer, validate


@pytest.fixture(autouse=True, scope="module")
def _stop_jq_helper() -> Iterator[None]:
    yield
    expressions.shutdown()


def fails_fast(text: str, message: str, context: dict[str, Any] | None = None) -> None:
    started = time.monotonic()
    with pytest.raises(ExpressionError) as caught:
        render(text, context or {})
    assert time.monotonic() - started < 2.0
    assert message in str(caught.value), str(caught.value)


def test_environment_is_locked_down() -> None:
    env = renderer.ENV
    assert env.globals == {}
    assert env.loader is None
    assert env.autoescape is False
    assert "attr" not in env.filters and "format" not in env.filters
    assert "callable" not in env.tests and "sameas" not in env.tests
    assert set(env.filters) >= {"jq", "date", "toJson", "json", "default", "map"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{ 'a' * 100000000 }}", "String is larger than"),
        ("{{ 100000000 * 'a' }}", "String is larger than"),
        ("{{ ['a'] * 100000000 }}", "List has more than"),
        ("{{ [big, big] * 1000 }}", "Repeated list would be larger than"),
        ("{{ [1] * 1000000 }}", "Repeated list would be larger than"),
        ("{{ 2 ** 100000000 }}", "Exponent 100000000 is larger than 64"),
        ("{{ 2 ** 65 }}", "Exponent 65 is larger than 64"),
        ("{{ (2 ** 64) ** 64 ** 64 }}", "Integer result is larger than"),
        ("{{ 99999999 ** 64 ** 64 }}", "Integer result is larger than"),
        ("{{ 2.0 ** 64 ** 64 }}", "Numeric result is too large"),
        ("{{ 1..100000 }}", "Range of 100000 elements is larger than 10000"),
        ("{{ range(0, 100000) }}", "Range of 100001 elements is larger than 10000"),
        ("{{ range(0, 10 ** 18, 1) }}", "larger than 10000"),
        ("{{ big ~ big }}", "String is larger than"),
        ("{{ big + big }}", "String is larger than"),
        ("{{ [big, big] | join }}", "String is larger than"),
        ("{{ [big, big] }}", "Value is larger than"),
        ("{{ [big, big] | toJson }}", "Value is larger than"),
        ("{{ big | replace('a', 'aa') }}", "String is larger than"),
        ("{{ 'a' | indent(2000000) }}", "String is larger than"),
        ("{{ big }}{{ big }}", "Rendered text is larger than"),
        ("{{ big | upper }}{{ big | upper }}", "Rendered text is larger than"),
        ("{{ ''.__class__ }}", "Attribute `.__class__` is not allowed"),
        ("{{ x.__class__.__mro__ }}", "is not allowed"),
        ("{{ x['__class__'] }}", "Unable to find `__class__`"),
        ("{{ cycler }}", "Unable to find `cycler`"),
        ("{{ lipsum() }}", "Unknown function `lipsum`"),
        ("{{ x | attr('y') }}", "Unknown filter `attr`"),
        ("{% for i in range(1, 10 ** 9) %}{% endfor %}", "larger than 10000"),
        ("{% macro m() %}{% endmacro %}", "Statement `{% macro %}` at line 1, column 1 is not"),
    ],
)
def test_hostile_expressions_fail_fast(text: str, message: str) -> None:
    fails_fast(text, message, {"big": "a" * 600_000, "x": "s"})


def test_template_size_cap() -> None:
    text = "{{ x }}" + " " * guard.MAX_TEMPLATE
    problem = validate(text)
    assert problem is not None and problem.startswith("Template is larger than 65536 bytes")
    with pytest.raises(ExpressionError, match="Template is larger than"):
        render(text, {"x": 1})
    assert validate("é" * 30_000 + "{{ x }}") is None  # 60 KB of UTF-8
    assert validate(" " * 100_000) is None  # not a template: never rendered


def test_output_cap_in_plain_paths() -> None:
    big = "b" * (guard.MAX_OUTPUT // 2 + 1)
    with pytest.raises(ExpressionError, match="Rendered text is larger than"):
        render("{{ big }}{{ big }}", {"big": big})
    with pytest.raises(ExpressionError, match="Value is larger than"):
        render("{{ data }}", {"data": [big, big]})


def test_deadline_stops_long_renders() -> None:
    inner = ("{{ big" + " | upper | lower" * 5 + " | length }}") * 20
    text = "{{ render(vars.inner) }}" * 100  # 20,000 passes over 1 MB: seconds without it
    assert validate(text) is None and validate(inner) is None  # compile outside the timing
    context = {"big": "a" * 1_000_000, "vars": {"inner": inner}}
    started = time.monotonic()
    with pytest.raises(ExpressionError, match="Rendering took longer than the 1 s time limit"):
        render(text, context)
    assert time.monotonic() - started < 2.0


def test_deadline_is_per_render(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guard, "DEADLINE_SECONDS", 0.05)
    text = "{{ (big | upper) | length }}" * 100
    with pytest.raises(ExpressionError, match="time limit"):
        render(text, {"big": "a" * 1_000_000})
    assert render("{{ 'still' | upper }}", {}) == "STILL"  # a fresh budget


def test_nested_renders_are_bounded() -> None:
    context = {"vars": {"loop": "{{ render(vars.loop) }}"}}
    fails_fast("{{ render(vars.loop) }}", "Too many nested renders", context)


# -- jq ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "program",
    [
        "env",
        "$ENV.HOME",
        "env.PATH",
        "input",
        "[inputs]",
        'import "a" as a; .',
        'include "a"; .',
        "input_filename",
        "debug",
        '"x" | stderr',
        "halt",
        'halt_error("x")',
        "$__loc__",
        '"\\(env)"',
        '"\\("(" + ")")\\(halt)"',
        ". as $x | $ENV",
        "input_line_number",
    ],
)
def test_jq_refuses_builtins_that_escape(program: str) -> None:
    with pytest.raises(ExpressionError, match="is not allowed in the expression"):
        render("{{ data | jq(p) }}", {"data": {"a": 1}, "p": program})


@pytest.mark.parametrize(
    ("program", "expected"),
    [
        (".env", "[null]"),
        ('.input + "env"', '["xenv"]'),
        ('"input \\(.input)"', '["input x"]'),
        ('.["env"]', "[null]"),
        ("[.[] | ascii_upcase]", '[["X"]]'),
    ],
)
def test_jq_allows_look_alike_fields_and_strings(program: str, expected: str) -> None:
    assert render("{{ data | jq(p) }}", {"data": {"input": "x"}, "p": program}) == expected


def test_jq_program_size_and_comments() -> None:
    with pytest.raises(ExpressionError, match="jq program is larger than 4096 bytes"):
        render("{{ 1 | jq(p) }}", {"p": "." + " " * 5000})
    with pytest.raises(ExpressionError, match="Comments are not allowed"):
        render("{{ 1 | jq(p) }}", {"p": ". # comment \\\n | env"})
    assert render("{{ 1 | jq(p) }}", {"p": '"# not a comment"'}) == '["# not a comment"]'


@pytest.mark.parametrize(
    "program",
    [
        "last(range(1e12))",
        "null | until(false; .)",
        "def f: f; f",
        "[limit(1e9; repeat(1))] | length",
    ],
)
def test_jq_is_stopped_at_the_deadline(program: str) -> None:
    render("{{ 1 | jq('.') }}", {})  # helper already running: time is the program's only
    started = time.monotonic()
    with pytest.raises(ExpressionError, match="jq did not finish within the time limit"):
        render("{{ 1 | jq(p) }}", {"p": program})
    assert time.monotonic() - started < 2.0
    assert render("{{ {'a': 2} | jq('.a') }}", {}) == "[2]"  # a fresh helper took over


@pytest.mark.parametrize(
    "program",
    # just over the 1 MiB cap, small enough to stay far within the 1 s deadline on a loaded
    # machine (300,000 numbers hit the deadline first at load ~10): one large string (counted
    # value by value) and one array of 150,000 numbers (about 1.09 MB once written)
    ['"a" * 1100000', "[range(150000)]"],
    ids=["one-string", "one-array"],
)
def test_jq_output_is_capped(program: str) -> None:
    with pytest.raises(ExpressionError, match="jq output is larger than"):
        render("{{ 1 | jq(p) }}", {"p": program})


def test_jq_inputs() -> None:
    assert render("{{ s | jq('.a') }}", {"s": '{"a": [1]}'}) == "[[1]]"
    assert (
        render("{{ d | jq('.at') }}", {"d": {"at": _instant()}}) == '["2024-01-02T03:04:05.006Z"]'
    )
    assert render("{{ d | jq('.') | first | length }}", {"d": {"é": "ü"}}) == "1"
    assert render("{{ 'é' | toJson | jq('.') | first }}", {}) == "é"


def test_jq_helper_recovers_after_shutdown_and_crash() -> None:
    assert render("{{ 1 | jq('. + 1') }}", {}) == "[2]"
    jqrun.shutdown()
    assert render("{{ 1 | jq('. + 2') }}", {}) == "[3]"
    worker = jqrun._worker
    assert worker is not None
    worker.process.kill()
    worker.process.wait()
    assert render("{{ 1 | jq('. + 3') }}", {}) == "[4]"  # a dead helper is replaced
    assert jqrun._worker is not worker


def test_jq_is_thread_safe() -> None:
    results: list[str] = []
    failures: list[BaseException] = []

    def work(number: int) -> None:
        try:
            results.append(render("{{ n | jq('. * 2') | first }}", {"n": number}))
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert sorted(results, key=int) == [str(n * 2) for n in range(8)]


def _instant() -> Any:
    from datetime import UTC, datetime

    return datetime(2024, 1, 2, 3, 4, 5, 6789, tzinfo=UTC)


# -- caching and performance ----------------------------------------------------------------


def test_compiled_templates_are_cached() -> None:
    info = renderer.compile_template.cache_info()
    assert info.maxsize == 1024
    render("{{ cached | upper }}", {"cached": "x"})
    before = renderer.compile_template.cache_info().hits
    render("{{ cached | upper }}", {"cached": "y"})
    assert renderer.compile_template.cache_info().hits == before + 1


def test_the_context_is_not_copied() -> None:
    class Counting(dict[str, Any]):
        copies = 0

        def copy(self) -> Counting:  # pragma: no cover - must not be called
            Counting.copies += 1
            return Counting(self)

    context = Counting(taskrun={"value": "v"})
    assert render("{{ taskrun.value | upper }}", context) == "V"
    assert Counting.copies == 0


def _per_call(action: Callable[[], object], count: int = 2000) -> float:
    started = time.perf_counter()
    for _ in range(count):
        action()
    return (time.perf_counter() - started) / count


@pytest.mark.timing
def test_rendering_a_path_costs_microseconds() -> None:
    context = {"taskrun": {"value": "v"}, "flow": {"id": "f", "namespace": "n"}}
    render("{{ taskrun.value }}", context)
    assert _per_call(lambda: render("{{ taskrun.value }}", context)) < 50e-6
    assert _per_call(lambda: render("{{ flow.namespace }}/{{ flow.id }}", context)) < 50e-6
    assert _per_call(lambda: render("{{ taskrun.value | upper }}", context)) < 200e-6
