"""Expressions (semantics.md#expressions): public API, value rendering, undefined values, errors and
templates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from tercel.engine import expressions
from tercel.engine.expressions import ExpressionError, render

START = datetime(2024, 11, 13, 14, 38, 38, 355668, tzinfo=UTC)


@pytest.fixture(autouse=True, scope="module")
def _stop_jq_helper() -> Iterator[None]:
    yield
    expressions.shutdown()


@pytest.fixture
def ctx() -> dict[str, Any]:
    return {
        "flow": {"id": "hello", "namespace": "company.team", "revision": 1},
        "task": {"id": "t1", "type": "io.kestra.plugin.core.debug.Return"},
        "taskrun": {"id": "61TxwXQjkXfwTd4ANK6fhv", "startDate": START, "attemptsCount": 0},
        "execution": {"id": "exec", "startDate": START, "originalId": "exec"},
        "outputs": {
            "t": {"value": "from-t"},
            "ov": {"values": {"one": 1, "values": "key-not-method", "nested": {"inner": "x"}}},
            "leaf": {"b": {"2": {"value": "b-2"}}},
            "pick": {"beta": {"value": "picked"}},
            "each": {"a a": {"value": "spaced"}},
        },
        "inputs": {"n": 41, "ratio": 2.5, "flag": False, "maybe": None, "who": "Ada"},
        "labels": {"team": "data"},
    }


# -- public helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", False),
        ("{{ x }}", True),
        ("{% raw %}{% endraw %}", True),
        ("{# c #}", True),
        ("{ x }", False),
        ("{}", False),
    ],
)
def test_is_template(text: str, expected: bool) -> None:
    assert expressions.is_template(text) is expected


@pytest.mark.parametrize(
    ("rendered", "expected"),
    [
        ("false", False),
        ("0", False),
        ("-0", False),
        ("", False),
        ("true", True),
        ("False", True),
        (" false", True),
        ("0.0", True),
        ("1", True),
        ("no", True),
    ],
)
def test_truthy(rendered: str, expected: bool) -> None:
    assert expressions.truthy(rendered) is expected


def test_plain_strings_are_returned_unchanged(ctx: dict[str, Any]) -> None:
    text = "no template { here } %} #}"
    assert render(text, ctx) is text
    assert render("", ctx) == ""


def test_render_value_renders_keys_values_and_lists(ctx: dict[str, Any]) -> None:
    value = {"{{ flow.id }}": ["{{ task.id }}", 1, None, {"k": "{{ inputs.n }}"}], "n": 2.5}
    assert expressions.render_value(value, ctx) == {
        "hello": ["t1", 1, None, {"k": "41"}],
        "n": 2.5,
    }
    assert expressions.render_value(("{{ flow.id }}",), ctx) == ["hello"]
    assert expressions.render_value(7, ctx) == 7


def test_rendered_values_are_not_rendered_again(ctx: dict[str, Any]) -> None:
    ctx["vars"] = {"tpl": "{{ flow.id }}"}
    assert render("{{ vars.tpl }}", ctx) == "{{ flow.id }}"


def test_variables_lists_root_names() -> None:
    assert expressions.variables("{{ outputs.t.value }} {{ taskrun.id }}") == {
        "outputs",
        "taskrun",
    }
    assert expressions.variables("{{ a ?? b | upper }} {{ c[d.e] }}") == {"a", "b", "c", "d"}
    assert expressions.variables("plain") == frozenset()
    assert expressions.variables("{{ 1 + }}") == frozenset()
    assert expressions.variables("{{ now() }}") == frozenset()


def test_variables_of_context_functions() -> None:
    assert "__errorLogs" in expressions.variables("{{ errorLogs() }}")
    assert {"parents", "taskrun", "outputs"} <= expressions.variables(
        "{{ currentEachOutput(outputs.x) }}"
    )
    everything = expressions.variables("{{ render(vars.x) }}")
    assert {"flow", "outputs", "inputs", "trigger", "__errorLogs"} <= everything


# -- value rendering (semantics.md#expression-values) -------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("text", "text"),
        (42, "42"),
        (-7, "-7"),
        (2.5, "2.5"),
        (45.0, "45.0"),
        (1e22, "1.0E22"),
        (True, "true"),
        (False, "false"),
        (None, ""),
        ({"b": 1, "a": [1, 2]}, '{"b":1,"a":[1,2]}'),
        ([1, "a", None, True, 1.5], '[1,"a",null,true,1.5]'),
        ({"é": "ü"}, '{"é":"ü"}'),
        (START, "2024-11-13T14:38:38.355Z"),
        (datetime(2024, 1, 1, 1, tzinfo=timezone(timedelta(hours=1))), "2024-01-01T00:00:00.000Z"),
        ({"at": START}, '{"at":"2024-11-13T14:38:38.355Z"}'),
        (date(2024, 2, 3), "2024-02-03"),
    ],
)
def test_to_text(value: Any, expected: str) -> None:
    assert expressions.to_text(value) == expected
    assert render("{{ v }}", {"v": value}) == expected


def test_to_json_is_compact_and_keeps_order() -> None:
    assert expressions.to_json({"z": 1, "a": {"at": START}}) == (
        '{"z":1,"a":{"at":"2024-11-13T14:38:38.355Z"}}'
    )
    assert expressions.to_json("x") == '"x"'
    assert expressions.to_json(None) == "null"


def test_to_text_refuses_foreign_objects() -> None:
    with pytest.raises(ExpressionError, match="Cannot render a value of type object"):
        expressions.to_text(object())


def test_taskrun_renders_as_compact_json(ctx: dict[str, Any]) -> None:
    assert render("{{ taskrun }}", ctx) == (
        '{"id":"61TxwXQjkXfwTd4ANK6fhv","startDate":"2024-11-13T14:38:38.355Z","attemptsCount":0}'
    )
    assert render("{{ taskrun.startDate }}", ctx) == "2024-11-13T14:38:38.355Z"
    assert render("{{ taskrun.attemptsCount }}", ctx) == "0"


def test_trailing_newlines_and_text_are_kept(ctx: dict[str, Any]) -> None:
    assert render("a\n{{ flow.id }}\n\n", ctx) == "a\nhello\n\n"
    assert render("{{ flow.id | upper }}\n", ctx) == "HELLO\n"
    assert render("a\r\nb {{ flow.id | upper }}\r\n", ctx) == "a\r\nb HELLO\r\n"


def test_nothing_is_escaped(ctx: dict[str, Any]) -> None:
    ctx["html"] = "<b>&'\"</b>"
    assert render("{{ html }}", ctx) == "<b>&'\"</b>"
    assert render("{{ html | upper }}", ctx) == "<B>&'\"</B>"


# -- lookups --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ outputs.t.value }}", "from-t"),
        ("{{ outputs['t']['value'] }}", "from-t"),
        ("{{ outputs.ov.values.one }}", "1"),
        ("{{ outputs.ov.values.values }}", "key-not-method"),
        ("{{ outputs.ov.values.nested.inner }}", "x"),
        ("{{ outputs.leaf.b['2'].value }}", "b-2"),
        ("{{ outputs.leaf.b[2].value }}", "b-2"),
        ("{{ outputs.each['a a'].value }}", "spaced"),
        ("{{ outputs.pick[key].value }}", "picked"),
        ("{{ items[1] }}", "b"),
        ("{{ (outputs.t).value | upper }}", "FROM-T"),
    ],
)
def test_data_lookups(ctx: dict[str, Any], text: str, expected: str) -> None:
    ctx["key"] = "beta"
    ctx["items"] = ["a", "b"]
    assert render(text, ctx) == expected


def test_attribute_access_never_reaches_python_attributes(ctx: dict[str, Any]) -> None:
    ctx["d"] = {"k": 1}
    for text in (
        "{{ d.items }}",
        "{{ d['keys'] }}",
        "{{ 'abc'['upper'] }}",
        "{{ d['__class__'] }}",
    ):
        with pytest.raises(ExpressionError, match="Unable to find"):
            render(text, ctx)
    assert render("{{ d.items ?? 'none' }}", ctx) == "none"


# -- undefined values -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("{{ foo }}", "foo"),
        ("{{ inputs.invalid }}", "invalid"),
        ("{{ outputs.missing_task.value }}", "missing_task"),
        ("{{ outputs.t.nope.deeper }}", "nope"),
        ("{{ taskrun.value }}", "value"),
        ("{{ foo | upper }}", "foo"),
        ("{{ foo ~ 'x' }}", "foo"),
        ("{{ foo + 1 }}", "foo"),
        ("{{ foo == 1 }}", "foo"),
        ("{{ 1 < foo }}", "foo"),
        ("{{ foo ? 1 : 2 }}", "foo"),
        ("{{ not foo }}", "foo"),
        ("{{ foo and true }}", "foo"),
        ("{{ [1, foo] }}", "foo"),
        ("{{ 'x' | default(foo) }}", "foo"),
        ("{{ foo is null }}", "foo"),
        ("{{ foo is empty }}", "foo"),
        ("{{ foo contains 1 }}", "foo"),
        ("{{ [1] contains foo }}", "foo"),
        ("{{ outputs[foo] }}", "foo"),
        ("{{ flow.id.deeper }}", "deeper"),
        ("{{ inputs.maybe.x }}", "x"),
    ],
)
def test_undefined_messages(ctx: dict[str, Any], text: str, name: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        render(text, ctx)
    assert str(caught.value) == f"Unable to find `{name}` used in the expression `{text}` at line 1"
    assert caught.value.name == name


def test_missing_inputs_names_inputs(ctx: dict[str, Any]) -> None:
    del ctx["inputs"]
    with pytest.raises(ExpressionError, match="Unable to find `inputs` used in the expression"):
        render("{{ inputs.x }}", ctx)


def test_undefined_is_fine_where_it_is_tested(ctx: dict[str, Any]) -> None:
    assert render("{{ foo is defined }}", ctx) == "false"
    assert render("{{ foo.bar.baz is defined }}", ctx) == "false"
    assert render("{{ inputs.maybe is defined }}", ctx) == "false"
    assert render("{{ inputs.who is defined }}", ctx) == "true"
    assert render("{{ foo is not defined }}", ctx) == "true"
    assert render("{{ inputs.maybe is null }}", ctx) == "true"
    assert render("{{ inputs.who is null }}", ctx) == "false"
    assert render("{{ foo | default('d') }}", ctx) == "d"
    assert render("{{ false and foo }}", ctx) == "false"
    assert render("{{ true or foo }}", ctx) == "true"
    assert render("{{ true ? 'taken' : undefined_in_untaken_branch }}", ctx) == "taken"
    assert render("{{ false ? undefined_in_untaken_branch : 'taken' }}", ctx) == "taken"


def test_error_line_is_the_failing_expression(ctx: dict[str, Any]) -> None:
    text = "line 1 {{ flow.id }}\nline 2\n  {{- flow.id }} {{ nope | upper }}\n"
    with pytest.raises(ExpressionError) as caught:
        render(text, ctx)
    assert str(caught.value).endswith(f"`{text}` at line 3")
    assert caught.value.line == 3
    text = "{{ flow.id }}\n{# two\nlines #}\n{% raw %}\n{% endraw %}\n{{ nope }}"
    with pytest.raises(ExpressionError, match=r"at line 6$"):
        render(text, ctx)
    text = "{{\n  flow.id\n}}\n{{ 1 / 0 | abs }}"
    with pytest.raises(ExpressionError, match=r"at line 4$"):
        render(text, ctx)
    with pytest.raises(ExpressionError, match=r"at line 2$"):
        render("a\r\nb {{ nope }}", ctx)


def test_other_errors_follow_the_message_format(ctx: dict[str, Any]) -> None:
    text = "{{ 'a' < 1 }}"
    with pytest.raises(ExpressionError) as caught:
        render(text, ctx)
    assert str(caught.value) == (
        f"Cannot compare a string with a number using `<` in the expression `{text}` at line 1"
    )


# -- template structure ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a {{- ' b ' -}} c", "a b c"),
        ("a\n  {{- flow.id }}", "ahello"),
        ("{{ flow.id -}}\n  b", "hellob"),
        ("x {# comment #} y", "x  y"),
        ("x\n {#- c -#}\n y", "xy"),
        ("{% raw %}{{ not rendered }}{% endraw %}", "{{ not rendered }}"),
        ("{% verbatim %}{% for %}{% endverbatim %}", "{% for %}"),
        ("x  {%- raw -%}  {{ y }}  {%- endraw -%}  z", "x{{ y }}z"),
        ("{{ '}}' }}", "}}"),
        ("{{ '{{' }}{{ flow.id }}", "{{hello"),
        ("{ {{ flow.id | upper }}", "{ HELLO"),
        ("a {\n{{- flow.id | upper }}", "a {HELLO"),
        ("{{ {'a': {'b': 1}} }}", '{"a":{"b":1}}'),
    ],
)
def test_template_structure(ctx: dict[str, Any], text: str, expected: str) -> None:
    assert render(text, ctx) == expected


@pytest.mark.parametrize(
    "text",
    [
        "{% macro m() %}{% endmacro %}",
        "{% include 'other' %}",
        "{% import 'x' as y %}",
        "{% block b %}{% endblock %}",
        "{%- filter upper -%}x{% endfilter %}",
        "{% autoescape %}x{% endautoescape %}",
        "{% %}",
    ],
)
def test_statements_are_refused(ctx: dict[str, Any], text: str) -> None:
    problem = expressions.validate(text)
    assert problem is not None and "is not allowed" in problem
    with pytest.raises(ExpressionError, match="is not allowed"):
        render(text, ctx)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{ }}", "Empty expression"),
        ("{{ 1 + }}", "Unexpected end of expression"),
        ("{{ flow.id", "Unclosed `{{`"),
        ("{# open", "Unclosed comment"),
        ("{% raw %} never closed", "Unclosed `{% raw %}` block"),
        ("{{ 'open }}", "Unclosed string literal"),
        ("{{ (1 }}", "Unexpected `}` (`(` is open)"),
        ("{{ 1 ) }}", "Unexpected `)`"),
        ("{{ [1, 2 }}", "Unexpected `}` (`[` is open)"),
        ("{{ a._x }}", "Attribute `._x` is not allowed"),
        ("{{ ''.__class__ }}", "Attribute `.__class__` is not allowed"),
        ("{{ a.b() }}", "Method calls are not supported"),
        ("{{ a(1) }}", "Unknown function `a`"),
        ("{{ x | nope }}", "Unknown filter `nope`"),
        ("{{ x is nope }}", "Unknown test `nope`"),
        ("{{ x | upper(1) }}", "Invalid arguments for filter `upper`"),
        ("{{ x | date(bad=1) }}", "Invalid arguments for filter `date`"),
        ("{{ now(1, 2, 3, 4, 5) }}", "Invalid arguments for function `now`"),
        ("{{ x | join(separator=',', 1) }}", "Positional arguments must come before named"),
        ("{{ __errorLogs }}", "names starting with `__` are reserved"),
        ('{{ "a#{b}" }}', "String interpolation"),
        ("{{ 1 @ 2 }}", "Unexpected character `@`"),
        ("{{ x ? 1 }}", "Expected `:`"),
        ("{{ 'a' 'b' }}", "Unexpected `b`"),
        ("{{ items.1 }}", "Expected an attribute name after `.`"),
    ],
)
def test_syntax_errors(ctx: dict[str, Any], text: str, message: str) -> None:
    problem = expressions.validate(text)
    assert problem is not None and message in problem, problem
    assert problem.endswith("at line 1")
    with pytest.raises(ExpressionError, match="in the expression"):
        render(text, ctx)


def test_validate_accepts_good_templates() -> None:
    for text in (
        "plain",
        "{{ outputs.t.value }}",
        "{{ errorLogs() | map(attribute='message') | join(', ') }}",
        "{{ x ?? y ??? z }}",
        "{{ a['_x'] }}",
        "{# c #}{% raw %}{% for %}{% endraw %}",
        "{{ x is not defined }}",
        "{{ 1..3 }}",
    ):
        assert expressions.validate(text) is None, text


def test_validate_reports_the_line(ctx: dict[str, Any]) -> None:
    problem = expressions.validate("ok\n{{ x }}\n{% for %}")
    assert problem is not None and problem.endswith("at line 3")
