"""Expressions (semantics.md#expression-functions): filters, tests and functions."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tercel.engine import expressions
from tercel.engine.expressions import ExpressionError, render

CTX: dict[str, Any] = {
    "outputs": {
        "src": {
            "values": {
                "items": [{"name": "a", "n": 1}, {"name": "b", "n": 2}],
                "obj": {"x": 1, "y": "z"},
            }
        },
        "json": {"value": '{"k": [1, 2]}'},
        "pick": {"x": {"b": {"b": {"value": "nested-each"}}}},
    },
    "inputs": {"text": "  Hello World  ", "csv": "a,b,,", "maybe": None, "list": [3, 1, 2]},
    "parents": [{"taskrun": {"value": "b"}}, {"outputs": {"o": 1}}, {"taskrun": {"value": "x"}}],
    "taskrun": {"id": "tr", "value": "b"},
    "flow": {"id": "f"},
    "vars": {
        "tpl": "{{ flow.id }}",
        "twice": "{{ vars.tpl }}",
        "loop": "{{ render(vars.loop) }}",
        "grow": "x{{ vars.grow }}",
    },
}


@pytest.fixture(autouse=True, scope="module")
def _stop_jq_helper() -> Iterator[None]:
    yield
    expressions.shutdown()


def ok(text: str, ctx: dict[str, Any] | None = None) -> str:
    return render(text, CTX if ctx is None else ctx)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # jq returns the list of all results
        ("{{ outputs.src.values | jq('.items[1].name') }}", '["b"]'),
        ("{{ outputs.src.values | jq('.items[0].n') | first }}", "1"),
        ("{{ outputs.src.values | jq('.items[].name') }}", '["a","b"]'),
        ("{{ outputs.src.values | jq('.nope') }}", "[null]"),
        ("{{ outputs.src.values | jq('.items[] | select(.n > 5)') }}", "[]"),
        ("{{ outputs.json.value | jq('.k | add') }}", "[3]"),
        ("{{ inputs.maybe | jq('.') }}", ""),
        ("{{ 'ok' | jq('.', ) ?? 'x' }}", "ERR"),
        ("{{ outputs.src.values | jq('.env') }}", "[null]"),
        ('{{ outputs.src.values | jq(\'"input" + "\\\\(.obj.y)"\') | first }}', "inputz"),
        # first, last, length
        ("{{ [1, 2, 3] | first }}", "1"),
        ("{{ [1, 2, 3] | last }}", "3"),
        ("{{ 'abc' | first }}{{ 'abc' | last }}", "ac"),
        ("{{ [] | first }}", ""),
        ("{{ null | first }}", ""),
        (
            "{{ 'abc' | length }}{{ [1] | length }}{{ {'a': 1} | length }}{{ null | length }}",
            "3110",
        ),
        # join, keys, values
        ("{{ [1, 'a', null, true] | join('-') }}", "1-a--true"),
        ("{{ [1, 2] | join }}", "12"),
        ("{{ [1, 2] | join(separator=', ') }}", "1, 2"),
        ("{{ outputs.src.values.obj | keys }}", '["x","y"]'),
        ("{{ outputs.src.values.obj | values }}", '[1,"z"]'),
        # strings
        ("{{ 'MiXed' | upper }}{{ 'MiXed' | lower }}", "MIXEDmixed"),
        ("[{{ inputs.text | trim }}]", "[Hello World]"),
        ("{{ '  hello world' | capitalize }}", "  Hello world"),
        ("{{ 'hELLO wORLD' | capitalize }}", "HELLO wORLD"),
        ("{{ 'hello big  world' | title }}", "Hello Big  World"),
        ("{{ inputs.csv | split(',') }}", '["a","b"]'),
        ("{{ inputs.csv | split(',', -1) }}", '["a","b","",""]'),
        ("{{ inputs.csv | split(',', 2) }}", '["a","b,,"]'),
        ("{{ 'a.b.c' | split('\\\\.') }}", '["a","b","c"]'),
        ("{{ 'abc' | split(',') }}", '["abc"]'),
        ("{{ 'aXbX' | replace('X', 'y') }}", "ayby"),
        ("{{ 'aXbY' | replace({'X': '1', 'Y': '2'}) }}", "a1b2"),
        ("{{ {'k': 'aX', 'l': ['X']} | replace({'X': '_'}) }}", '{"k":"a_","l":["_"]}'),
        ("{{ 'abc' | replace('', '-') }}", "-a-b-c-"),
        ("{{ 'foo' | startsWith('f') }}{{ 'foo' | endsWith('f') }}", "truefalse"),
        ("{{ 'a.b.c' | substringBefore('.') }}", "a"),
        ("{{ 'a.b.c' | substringBeforeLast('.') }}", "a.b"),
        ("{{ 'a.b.c' | substringAfter('.') }}", "b.c"),
        ("{{ 'a.b.c' | substringAfterLast('.') }}", "c"),
        ("{{ 'abc' | substringBefore('z') }}", "abc"),
        ("{{ 'abc' | substringAfter('z') }}", ""),
        ("{{ 'abc' | substringAfterLast('c') }}", ""),
        ("{{ 'abc' | substringBefore('') }}", ""),
        ("{{ 'abc' | substringAfter('') }}", "abc"),
        ("{{ 'héllo' | base64encode }}", "aMOpbGxv"),
        ("{{ 'aMOpbGxv' | base64decode }}", "héllo"),
        ("{{ 'a b&c=d/é~*' | urlencode }}", "a+b%26c%3Dd%2F%C3%A9%7E*"),
        ("{{ 'a+b%26c' | urldecode }}", "a b&c"),
        (
            "{{ 'abc' | sha256 }}",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        ("{{ 'abc' | md5 }}", "900150983cd24fb0d6963f7d28e17f72"),
        ("{{ ' Héllo  Wörld_x--y ' | slugify }}", "hello-world-x-y"),
        ("{{ 'a\nb' | indent(2) }}", "a\n  b"),
        ("{{ 'a\nb' | nindent(2) }}", "\n  a\n  b"),
        ("{{ 'a\r\nb' | indent(1, '>') }}", "a\r\n>b"),
        ("{{ '' | nindent(2) }}", ""),
        # collections
        ("{{ inputs.list | sort }}{{ inputs.list | rsort }}", "[1,2,3][3,2,1]"),
        ("{{ [1, 2, 3] | reverse }}{{ 'abc' | reverse }}", "[3,2,1]cba"),
        ("{{ 'abcdef' | slice(1, 3) }}{{ [1, 2, 3] | slice(1) }}", "bc[2,3]"),
        ("{{ outputs.src.values.items | map(attribute='name') }}", '["a","b"]'),
        ("{{ outputs.src.values.items | map('n') }}", "[1,2]"),
        ("{{ [{'a': {'b': 1}}, {}] | map(attribute='a.b', default=0) }}", "[1,0]"),
        ("{{ [[1, 2], [3], 4] | flatten }}", "[1,2,3,4]"),
        ("{{ [1, 2, 3, 4, 5] | chunk(2) }}", "[[1,2],[3,4],[5]]"),
        # conversions
        ("{{ '12' | number + 1 }}", "13"),
        ("{{ '1.5' | number }}", "1.5"),
        ("{{ '0x1F' | number }}{{ '12L' | number }}{{ '2f' | number }}", "31122.0"),
        ("{{ '12' | number('FLOAT') }}{{ '12' | number(type='INT') }}", "12.012"),
        ("{{ 5 | number }}", "5"),
        ("{{ -5 | abs }}{{ 2.5 | abs }}", "52.5"),
        ("{{ outputs.src.values.obj | toJson }}", '{"x":1,"y":"z"}'),
        ("{{ 'x' | json }}{{ null | toJson }}", '"x"null'),
        # default
        ("{{ '' | default('d') }}", "d"),
        ("{{ '   ' | default('d') }}", "d"),
        ("{{ [] | default('d') }}", "d"),
        ("{{ null | default('d') }}", "d"),
        ("{{ nope.deeper | default('d') }}", "d"),
        ("{{ 0 | default('d') }}", "0"),
        ("{{ false | default('d') }}", "false"),
        ("{{ 'v' | default('d') }}", "v"),
    ],
)
def test_filters(text: str, expected: str) -> None:
    if expected == "ERR":
        with pytest.raises(ExpressionError):
            ok(text)
        return
    assert ok(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ '{\"a\": 1}' is json }}", "true"),
        ("{{ '[1, 2]' is json }}{{ '3' is json }}{{ 'null' is json }}", "truetruetrue"),
        ("{{ 'plain words' is json }}{{ 1 is json }}", "falsefalse"),
        (
            "{{ [] is empty }}{{ '' is empty }}{{ ' ' is empty }}{{ null is empty }}",
            "truetruetruetrue",
        ),
        ("{{ [0] is empty }}{{ 0 is empty }}", "falsefalse"),
        ("{{ 2 is even }}{{ 3 is even }}{{ 3 is odd }}{{ 2.0 is odd }}", "truefalsetruefalse"),
        ("{{ [1] is iterable }}{{ 'abc' is iterable }}{{ {} is iterable }}", "truefalsefalse"),
        ("{{ {} is map }}{{ [] is map }}", "truefalse"),
        ("{{ null is null }}{{ 0 is null }}", "truefalse"),
        ("{{ 1 is defined }}{{ null is defined }}{{ nope is defined }}", "truefalsefalse"),
        ("{{ 2 is not even }}{{ nope is not defined }}", "falsetrue"),
    ],
)
def test_tests(text: str, expected: str) -> None:
    assert ok(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ fromJson('[1, 2]') | last }}", "2"),
        ('{{ json(\'{"a": {"b": 3}}\').a.b }}', "3"),
        ("{{ fromJson(outputs.json.value).k }}", "[1,2]"),
        ("{{ fromJson(null) }}", ""),
        ("{{ max(1, 5, 3) }}{{ min(4, 2, 9) }}{{ max([1, 7]) }}{{ min('b', 'a') }}", "527a"),
        ("{{ max() }}", ""),
        ("{{ range(0, 10, 3) }}", "[0,3,6,9]"),
        ("{{ range(3, 1, -1) }}", "[3,2,1]"),
        ("{{ range('a', 'c') }}", '["a","b","c"]'),
        ("{{ range(start=1, end=2) }}", "[1,2]"),
        ("{{ render(vars.tpl) }}", "f"),
        ("{{ render(vars.twice) }}", "f"),
        ("{{ render(vars.twice, recursive=false) }}", "{{ flow.id }}"),
        ("{{ render(vars.twice, false) }}", "{{ flow.id }}"),
        ("{{ render('plain') }}", "plain"),
        ("{{ render(3) }}", "3"),
        ("{{ render({'k': vars.tpl}) }}", '{"k":"f"}'),
        ("{{ currentEachOutput(outputs.pick).value }}", "nested-each"),
        ("{{ errorLogs() }}", "[]"),
    ],
)
def test_functions(text: str, expected: str) -> None:
    assert ok(text) == expected


def test_now_is_the_current_instant() -> None:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z", ok("{{ now() }}"))
    assert re.fullmatch(r"\d{4}", ok("{{ now(format='yyyy', timeZone='Europe/Paris') }}"))


def test_id_and_uuid() -> None:
    assert len(ok("{{ id() }}")) == 22
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", ok("{{ uuid() }}")
    )
    assert ok("{{ uuid() }}") != ok("{{ uuid() }}")


def test_error_logs_come_from_the_engine() -> None:
    logs = [
        {"taskId": "a", "message": "boom"},
        {"taskId": "b", "message": "bang"},
    ]
    ctx = {**CTX, "__errorLogs": lambda: logs}
    text = "{{ errorLogs() | map(attribute='message') | join(', ') }}"
    assert render(text, ctx) == "boom, bang"
    assert render("{{ errorLogs()[0].taskId }}", ctx) == "a"


def test_current_each_output_needs_every_level() -> None:
    ctx = {**CTX, "taskrun": {"id": "t", "value": "zzz"}}
    with pytest.raises(ExpressionError, match="Unable to find `zzz`"):
        render("{{ currentEachOutput(outputs.pick) }}", ctx)
    with pytest.raises(ExpressionError, match="expects a map"):
        render("{{ currentEachOutput('x') }}", ctx)


def test_render_is_bounded() -> None:
    with pytest.raises(ExpressionError, match="Too many nested renders"):
        ok("{{ render(vars.loop) }}")
    with pytest.raises(ExpressionError, match="Too many rendering attempts"):
        ok("{{ render(vars.grow) }}")
    with pytest.raises(
        ExpressionError,
        match=re.escape("Unable to find `nope` used in the expression `{{ nope }}`"),
    ):
        render("{{ render(vars.x) }}", {"vars": {"x": "{{ nope }}"}})


def test_secret_reads_base64_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    value = "s3cr3t-é"
    monkeypatch.setenv("SECRET_MY_PASSWORD", base64.b64encode(value.encode()).decode())
    assert render("{{ secret('MY_PASSWORD') }}", {}) == value
    assert render("{{ secret('my_password') | length }}", {}) == str(len(value))
    assert value in expressions.secret_values()
    with pytest.raises(ExpressionError, match="Cannot find secret for key 'NOPE'"):
        render("{{ secret('NOPE') }}", {})
    monkeypatch.setenv("SECRET_BROKEN", "%%%")
    with pytest.raises(ExpressionError, match="not valid base64"):
        render("{{ secret('BROKEN') }}", {})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{ {'a': 1} | first }}", "The `first` filter expects a list or a string"),
        ("{{ 'x' | join }}", "The `join` filter expects a list"),
        ("{{ [1] | keys }}", "The `keys` filter expects a map"),
        ("{{ 'x' | abs }}", "The `abs` filter expects a number"),
        ("{{ 'abc' | slice(2, 1) }}", "toIndex must be greater than fromIndex"),
        ("{{ 'abc' | slice(0, 9) }}", "toIndex must be smaller than input size: 3"),
        ("{{ [1, 'a'] | sort }}", "Cannot sort this list"),
        ("{{ [{}] | map(attribute='x') }}", "Unable to find `x`"),
        ("{{ 'x' | map(attribute='x') }}", "The `map` filter expects a list"),
        ("{{ 'abc' | number }}", "`abc` is not a valid number"),
        ("{{ [1] | number }}", "can only be applied to a string"),
        ("{{ 'x' | flatten }}", "can only be applied to lists"),
        ("{{ [1] | chunk(0) }}", "positive size"),
        ("{{ 'a' | indent(-1) }}", "positive integer"),
        ("{{ '%%' | base64decode }}", "Invalid base64 input"),
        ("{{ 'x' | replace('x') }}", "expects a map or two strings"),
        ("{{ 'x' | replace({'x': 'y'}, true) }}", "Regular expressions are not supported"),
        ("{{ 'a' | split('') }}", "non-empty delimiter"),
        ("{{ 1 | jq(2) }}", "expects a string expression"),
        ("{{ 'not json' | jq('.') }}", "Unable to parse jq input as JSON"),
        ("{{ 1 | jq('.a') }}", "jq `.a` failed: Cannot index number"),
        ("{{ 1 | jq('.[') }}", "syntax error"),
        ("{{ fromJson('{bad') }}", "Invalid JSON"),
        ("{{ fromJson(1) }}", "expects a string"),
        ("{{ range(1, 2, 0) }}", "must be different than 0"),
        ("{{ range('ab', 'c') }}", "Arguments of range function"),
        ("{{ max(1, 'a') }}", "Cannot compare"),
        ("{{ render('x', recursive='yes') }}", "expects a boolean"),
        ("{{ 3 is even(1) }}", "Invalid arguments for test `even`"),
        ("{{ 'x' is even }}", "The `even` test expects a number"),
    ],
)
def test_filter_errors(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        ok(text)
    assert message in str(caught.value)
    assert str(caught.value).endswith(f"in the expression `{text}` at line 1")
