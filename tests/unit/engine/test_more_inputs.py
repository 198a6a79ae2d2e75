"""SELECT, MULTISELECT, ENUM, URI, EMAIL, YAML and SECRET inputs (semantics.md#more-input-types;
Kestra: FlowInputOutput.parseType and the io.kestra.core.models.flows.input classes)."""

from __future__ import annotations

from datetime import date, time
from typing import Any

import pytest

from tercel.engine import model, secretinputs
from tercel.engine.flows import inputs


def _resolve(kind: str, value: Any, **options: Any) -> inputs.ResolvedInputs:
    return inputs.resolve([model.InputDef(id="x", type=kind, **options)], {"x": value})


def _ok(kind: str, value: Any, **options: Any) -> Any:
    resolved = _resolve(kind, value, **options)
    assert resolved.issues == [], resolved.issues
    return resolved.values["x"]


def _message(kind: str, value: Any, **options: Any) -> str:
    resolved = _resolve(kind, value, **options)
    assert [issue.input for issue in resolved.issues] == ["x"]
    return resolved.issues[0].message


AB = ("a", "b")


def test_select_and_enum_accept_a_listed_value_and_name_the_values_otherwise() -> None:
    assert _ok("SELECT", "a", values=AB) == "a"
    assert _ok("ENUM", "b", values=AB) == "b"
    expected = "Invalid input for `x`, it must match the values `[a, b]`, but received `c`"
    assert _message("SELECT", "c", values=AB) == expected
    assert _message("ENUM", "c", values=AB) == expected
    assert _ok("SELECT", "c", values=AB, allow_custom_value=True) == "c"
    assert _message("SELECT", 3, values=AB).endswith("expected SELECT, but received `3`")


def test_multiselect_takes_a_list_or_json_text_each_element_listed() -> None:
    assert _ok("MULTISELECT", ["a", "b"], values=AB) == ["a", "b"]
    assert _ok("MULTISELECT", '["b"]', values=AB) == ["b"]
    assert _message("MULTISELECT", ["a", "z"], values=AB) == (
        'Invalid input for `x`, it must match the values `[a, b]`, but received `["a","z"]`'
    )
    assert _ok("MULTISELECT", ["z"], values=AB, allow_custom_value=True) == ["z"]
    assert "expected MULTISELECT (a list)" in _message("MULTISELECT", "a", values=AB)
    assert _ok("MULTISELECT", ["1", 2], values=("1", "2"), item_type="INT") == [1, 2]


@pytest.mark.parametrize(
    "uri",
    ["https://kestra.io", "http://www.example.com/a/b?c=d&e=f#g", "ftp://files.example.com/k"],
)
def test_uri_accepts_kestras_pattern(uri: str) -> None:
    assert _ok("URI", uri) == uri


@pytest.mark.parametrize("bad", ["kestra.io", "not a uri", "https://localhost", "HTTP://a.com"])
def test_uri_refuses_what_kestra_refuses(bad: str) -> None:
    assert _message("URI", bad) == f"Invalid input for `x`, expected URI, but received `{bad}`"


def test_email_follows_kestras_pattern() -> None:
    assert _ok("EMAIL", "ann@example.com") == "ann@example.com"
    assert _ok("EMAIL", "") == ""  # Kestra's pattern lets the empty string through
    assert _message("EMAIL", "ann.example.com") == (
        "Invalid input for `x`, it must be a valid email, but received `ann.example.com`"
    )


def test_yaml_is_parsed_to_a_value_with_the_flow_readers_rules() -> None:
    assert _ok("YAML", "a: 1\nb: [x, yes]\n") == {"a": 1, "b": ["x", "yes"]}
    assert _ok("YAML", {"already": "data"}) == {"already": "data"}
    message = _message("YAML", "a: &x 1\nb: *x\n")
    assert message.startswith("Invalid input for `x`, expected YAML (")
    assert "anchor" in message
    assert "expected YAML" in _message("YAML", "a: [1\n")


def test_secret_is_stored_marked_shown_masked_and_revealed_to_expressions() -> None:
    stored = _ok("SECRET", "hunter2")
    assert secretinputs.is_secret(stored)
    assert secretinputs.masked({"x": stored, "y": 1}) == {"x": "******", "y": 1}
    definition = model.InputDef(id="x", type="SECRET")
    assert inputs.for_expressions([definition], {"x": stored}) == {"x": "hunter2"}
    # a replay passes the stored form back: it stays the same secret
    assert _ok("SECRET", stored) == stored


def test_a_secret_that_fails_its_validator_is_not_echoed() -> None:
    message = _message("SECRET", "hunter2", validator="[0-9]+")
    assert message == (
        "Invalid input for `x`, it must match the pattern `[0-9]+`, but received `******`"
    )
    assert "hunter2" not in _message("SECRET", 42)


def test_masked_text_replaces_the_longest_secret_first() -> None:
    texts = secretinputs.secret_texts({"a": secretinputs.wrap("ab"), "b": secretinputs.wrap("abc")})
    assert texts == ("abc", "ab")
    assert secretinputs.masked_text("x abc ab y", texts) == "x ****** ****** y"


def test_date_and_time_follow_javas_local_formats_and_their_bounds() -> None:
    assert _ok("DATE", "2024-02-29") == "2024-02-29"
    assert _ok("TIME", "10:15") == "10:15:00"
    assert _ok("TIME", "10:15:30.123456789") == "10:15:30.123456"
    assert _message("DATE", "2023-02-29").endswith("expected DATE, but received `2023-02-29`")
    assert _message("TIME", "25:00").endswith("expected TIME, but received `25:00`")
    after = date(2024, 1, 1)
    assert _message("DATE", "2023-12-31", after=after) == (
        "Invalid input for `x`, it must be after `2024-01-01`, but received `2023-12-31`"
    )
    assert _ok("DATE", "2024-01-01", after=after) == "2024-01-01"  # inclusive, as Kestra
    assert _message("TIME", "18:00", before=time(17, 0)).startswith(
        "Invalid input for `x`, it must be before `17:00:00`"
    )
