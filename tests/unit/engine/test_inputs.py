"""Execution inputs and flow outputs: types, defaults, constraints (semantics.md#inputs,
semantics.md#flow-outputs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tercel.engine import model
from tercel.engine.flows import inputs


def _one(
    kind: str, value: Any, *, from_text: bool = False, **options: Any
) -> inputs.ResolvedInputs:
    return inputs.resolve(
        [model.InputDef(id="x", type=kind, **options)], {"x": value}, from_text=from_text
    )


def _ok(kind: str, value: Any, **options: Any) -> Any:
    resolved = _one(kind, value, **options)
    assert resolved.issues == [], resolved.issues
    return resolved.values["x"]


def _message(kind: str, value: Any, **options: Any) -> str:
    resolved = _one(kind, value, **options)
    assert [issue.input for issue in resolved.issues] == ["x"]
    assert resolved.values == {"x": None}
    return resolved.issues[0].message


@pytest.mark.parametrize(
    ("kind", "given", "stored"),
    [
        ("STRING", "hello", "hello"),
        ("STRING", "", ""),
        ("STRING", 12, "12"),
        ("STRING", 2.5, "2.5"),
        ("STRING", True, "true"),
        ("STRING", False, "false"),
        ("INT", 42, 42),
        ("INT", "42", 42),
        ("INT", "-7", -7),
        ("INT", "+7", 7),
        ("INT", "007", 7),
        ("FLOAT", 2.5, 2.5),
        ("FLOAT", 3, 3.0),
        ("FLOAT", "3", 3.0),
        ("FLOAT", "-1.5e3", -1500.0),
        ("FLOAT", ".5", 0.5),
        ("BOOLEAN", True, True),
        ("BOOLEAN", "true", True),
        ("BOOLEAN", "FALSE", False),
        ("BOOLEAN", "True", True),
        ("BOOL", "false", False),
        ("DATETIME", "2024-11-13T14:38:38Z", "2024-11-13T14:38:38.000000Z"),
        ("DATETIME", "2024-11-13T14:38:38.355668Z", "2024-11-13T14:38:38.355668Z"),
        ("DATETIME", "2024-11-13T14:38:38.123456789Z", "2024-11-13T14:38:38.123456Z"),
        ("DATETIME", "2024-11-13T16:38:38.5+02:00", "2024-11-13T14:38:38.500000Z"),
        ("DATETIME", "2024-11-13T09:08-05:30", "2024-11-13T14:38:00.000000Z"),
        ("DATETIME", "2024-11-13T14:38:38+0100", "2024-11-13T13:38:38.000000Z"),
        ("DATETIME", "2024-11-13t14:38:38z", "2024-11-13T14:38:38.000000Z"),
        ("DURATION", "PT1M30S", "PT1M30S"),
        ("DURATION", "PT90S", "PT1M30S"),
        ("DURATION", "P2D", "PT48H"),
        ("DURATION", "pt0.5s", "PT0.5S"),
        ("DURATION", "PT0S", "PT0S"),
        ("JSON", '{"a": [1, 2]}', {"a": [1, 2]}),
        ("JSON", '"text"', "text"),
        ("JSON", "3", 3),
        ("JSON", {"a": [1, None]}, {"a": [1, None]}),
        ("JSON", [1, "b"], [1, "b"]),
        ("JSON", 2.5, 2.5),
        ("JSON", False, False),
    ],
)
def test_accepted_values_are_stored_in_their_json_form(kind: str, given: Any, stored: Any) -> None:
    assert _ok(kind, given) == stored
    assert type(_ok(kind, given)) is type(stored)


@pytest.mark.parametrize(
    ("kind", "given", "shown"),
    [
        ("STRING", {"a": 1}, '{"a":1}'),
        ("STRING", [1, 2], "[1,2]"),
        ("INT", "abc", "abc"),
        ("INT", "1.5", "1.5"),
        ("INT", 1.5, "1.5"),
        ("INT", 2.0, "2.0"),
        ("INT", True, "true"),
        ("INT", " 1", " 1"),
        ("INT", "1_000", "1_000"),
        ("INT", "١٢", "١٢"),
        ("INT", "", ""),
        ("FLOAT", "abc", "abc"),
        ("FLOAT", "nan", "nan"),
        ("FLOAT", "inf", "inf"),
        ("FLOAT", "1e999", "1e999"),
        ("FLOAT", "1_0", "1_0"),
        ("FLOAT", False, "false"),
        ("FLOAT", [1], "[1]"),
        ("BOOLEAN", "yes", "yes"),
        ("BOOLEAN", "", ""),
        ("BOOLEAN", 1, "1"),
        ("BOOLEAN", "true ", "true "),
        ("BOOL", "no", "no"),
        ("DATETIME", "2024-11-13T14:38:38", "2024-11-13T14:38:38"),
        ("DATETIME", "2024-11-13", "2024-11-13"),
        ("DATETIME", "2024-13-13T14:38:38Z", "2024-13-13T14:38:38Z"),
        ("DATETIME", "yesterday", "yesterday"),
        ("DATETIME", 1700000000, "1700000000"),
        ("DURATION", "1 minute", "1 minute"),
        ("DURATION", "P1Y", "P1Y"),
        ("DURATION", "-PT1S", "-PT1S"),
        ("DURATION", 60, "60"),
        ("DURATION", "P999999999999D", "P999999999999D"),
        ("INT", "9" * 5000, "9" * 5000),
        ("DATETIME", "٢٠٢٤-11-13T14:38:38Z", "٢٠٢٤-11-13T14:38:38Z"),
        ("DATETIME", "2024-11-13T14:38:38+24:00", "2024-11-13T14:38:38+24:00"),
        ("DATETIME", "0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00+01:00"),
        ("JSON", "{bad", "{bad"),
        ("JSON", "NaN", "NaN"),
        ("ARRAY", "not json", "not json"),
        ("ARRAY", '{"a": 1}', '{"a": 1}'),
        ("ARRAY", {"a": 1}, '{"a":1}'),
        ("ARRAY", 3, "3"),
    ],
)
def test_refused_values_name_the_expected_type(kind: str, given: Any, shown: str) -> None:
    options = {"item_type": "STRING"} if kind == "ARRAY" else {}
    expected = kind if kind != "BOOL" else "BOOLEAN"
    assert _message(kind, given, **options) == (
        f"Invalid input for `x`, expected {expected}, but received `{shown}`"
    )


def test_aware_datetime_objects_and_timedeltas_are_accepted() -> None:
    aware = datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert _ok("DATETIME", aware) == "2024-01-02T03:04:05.000006Z"
    assert _ok("DURATION", timedelta(minutes=2)) == "PT2M"
    naive = _message("DATETIME", datetime(2024, 1, 2))
    assert naive == "Invalid input for `x`, expected DATETIME, but received `2024-01-02T00:00:00`"


def test_string_validator_must_match_in_full() -> None:
    assert _ok("STRING", "abc-12", validator=r"[a-z]+-\d+") == "abc-12"
    assert _message("STRING", "abc-12x", validator=r"[a-z]+-\d+") == (
        r"Invalid input for `x`, it must match the pattern `[a-z]+-\d+`, but received `abc-12x`"
    )
    assert _message("STRING", 12, validator="[a-z]+") == (
        "Invalid input for `x`, it must match the pattern `[a-z]+`, but received `12`"
    )


@pytest.mark.parametrize(
    ("kind", "low", "high", "inside", "below", "above"),
    [
        ("INT", 1, 10, ["1", 10, 5], 0, "11"),
        ("FLOAT", 0.5, 2, [0.5, "2", 1], 0.25, 2.5),
        ("DURATION", "PT1M", "PT1H", ["PT60S", "PT1H", "PT30M"], "PT59S", "PT61M"),
    ],
)
def test_min_and_max_are_inclusive(
    kind: str, low: Any, high: Any, inside: list[Any], below: Any, above: Any
) -> None:
    for value in inside:
        _ok(kind, value, min=low, max=high)
    from_shown = below if isinstance(below, str) else str(below)
    above_shown = above if isinstance(above, str) else str(above)
    low_shown = low if isinstance(low, str) else str(low)
    high_shown = high if isinstance(high, str) else str(high)
    assert _message(kind, below, min=low, max=high) == (
        f"Invalid input for `x`, it must be more than `{low_shown}`, but received `{from_shown}`"
    )
    assert _message(kind, above, min=low, max=high) == (
        f"Invalid input for `x`, it must be less than `{high_shown}`, but received `{above_shown}`"
    )


def test_datetime_after_and_before() -> None:
    after = datetime(2024, 1, 1, tzinfo=UTC)
    before = datetime(2024, 12, 31, tzinfo=UTC)
    window = {"after": after, "before": before}
    assert _ok("DATETIME", "2024-01-01T00:00:00Z", **window) == "2024-01-01T00:00:00.000000Z"
    assert _ok("DATETIME", "2024-06-01T00:00:00+02:00", **window) == "2024-05-31T22:00:00.000000Z"
    assert _message("DATETIME", "2023-12-31T23:59:59Z", **window) == (
        "Invalid input for `x`, it must be after `2024-01-01T00:00:00.000000Z`, "
        "but received `2023-12-31T23:59:59Z`"
    )
    assert _message("DATETIME", "2025-01-01T00:00:00+01:00", **window) == (
        "Invalid input for `x`, it must be before `2024-12-31T00:00:00.000000Z`, "
        "but received `2025-01-01T00:00:00+01:00`"
    )


def test_arrays_coerce_their_elements_by_item_type() -> None:
    assert _ok("ARRAY", ["1", 2], item_type="INT") == [1, 2]
    assert _ok("ARRAY", '["1", 2]', item_type="INT") == [1, 2]
    assert _ok("ARRAY", [], item_type="INT") == []
    assert _ok("ARRAY", ("a", 1), item_type="STRING") == ["a", "1"]
    assert _ok("ARRAY", ["2024-01-01T00:00:00+01:00"], item_type="DATETIME") == [
        "2023-12-31T23:00:00.000000Z"
    ]
    assert _ok("ARRAY", ["PT60S"], item_type="DURATION") == ["PT1M"]
    # JSON elements are values, not text: the string "a" stays a string.
    assert _ok("ARRAY", ["a", {"b": 1}], item_type="JSON") == ["a", {"b": 1}]
    assert _message("ARRAY", [1, "two"], item_type="INT") == (
        "Invalid input for `x`, expected INT, but received `two`"
    )


def test_from_text_values_parse_like_the_cli_gives_them() -> None:
    defs = [
        model.InputDef(id="s", type="STRING"),
        model.InputDef(id="n", type="INT"),
        model.InputDef(id="f", type="FLOAT"),
        model.InputDef(id="b", type="BOOLEAN"),
        model.InputDef(id="j", type="JSON"),
        model.InputDef(id="a", type="ARRAY", item_type="FLOAT"),
        model.InputDef(id="t", type="STRING"),
    ]
    given = {"s": "42", "n": "42", "f": "4.5", "b": "TRUE", "j": '{"k":[true]}', "a": "[1,2]"}
    resolved = inputs.resolve(defs, {**given, "t": "{not json}"}, from_text=True)
    assert resolved.issues == []
    assert resolved.values == {
        "s": "42",
        "n": 42,
        "f": 4.5,
        "b": True,
        "j": {"k": [True]},
        "a": [1.0, 2.0],
        "t": "{not json}",
    }


def test_defaults_fill_missing_and_null_values_and_are_coerced() -> None:
    defs = [
        model.InputDef(id="n", type="INT", defaults="5"),
        model.InputDef(id="d", type="DURATION", defaults="PT120S"),
        model.InputDef(id="s", type="STRING", defaults=1),
        model.InputDef(id="given", type="INT", defaults=1),
    ]
    resolved = inputs.resolve(defs, {"d": None, "given": 9})
    assert resolved.issues == []
    assert resolved.values == {"n": 5, "d": "PT2M", "s": "1", "given": 9}


def test_invalid_defaults_are_reported_like_given_values() -> None:
    defs = [model.InputDef(id="n", type="INT", defaults="five", min=1)]
    resolved = inputs.resolve(defs, {})
    assert [issue.message for issue in resolved.issues] == [
        "Invalid input for `n`, expected INT, but received `five`"
    ]


def test_required_inputs_without_value_are_missing_and_optional_ones_are_null() -> None:
    defs = [
        model.InputDef(id="req", type="STRING"),
        model.InputDef(id="opt", type="INT", required=False),
        model.InputDef(id="nul", type="JSON"),
    ]
    resolved = inputs.resolve(defs, {"nul": None})
    assert list(resolved.values) == ["req", "opt", "nul"]
    assert resolved.values == {"req": None, "opt": None, "nul": None}
    assert [(issue.input, issue.message) for issue in resolved.issues] == [
        ("req", "Invalid input for `req`, missing required input, but received `null`"),
        ("nul", "Invalid input for `nul`, missing required input, but received `null`"),
    ]
    assert not resolved.valid


def test_all_issues_are_collected_in_declaration_order() -> None:
    defs = [
        model.InputDef(id="a", type="INT", max=3),
        model.InputDef(id="ok", type="STRING"),
        model.InputDef(id="b", type="BOOLEAN"),
        model.InputDef(id="c", type="DATETIME"),
        model.InputDef(id="d", type="STRING"),
    ]
    given = {"d": None, "c": "2024-01-01", "b": "yes", "a": 4, "ok": "fine", "extra": 1}
    resolved = inputs.resolve(defs, given)
    assert list(resolved.values) == ["a", "ok", "b", "c", "d"]
    assert resolved.values["ok"] == "fine"
    assert [issue.message for issue in resolved.issues] == [
        "Invalid input for `a`, it must be less than `3`, but received `4`",
        "Invalid input for `b`, expected BOOLEAN, but received `yes`",
        "Invalid input for `c`, expected DATETIME, but received `2024-01-01`",
        "Invalid input for `d`, missing required input, but received `null`",
    ]
    assert resolved.undeclared == ["extra"]


def test_undeclared_names_are_listed_in_given_order_and_ignored() -> None:
    defs = [model.InputDef(id="a", type="STRING")]
    resolved = inputs.resolve(defs, {"z": 1, "a": "x", "b": None})
    assert resolved.values == {"a": "x"}
    assert resolved.undeclared == ["z", "b"]
    assert resolved.valid


def test_received_values_are_shown_as_given() -> None:
    assert _message("INT", {"k": "é", "n": [1, 2.5, None]}) == (
        'Invalid input for `x`, expected INT, but received `{"k":"é","n":[1,2.5,null]}`'
    )


def test_for_expressions_types_datetimes_and_nests_dotted_ids() -> None:
    defs = [
        model.InputDef(id="when", type="DATETIME"),
        model.InputDef(id="a.b", type="INT"),
        model.InputDef(id="a.c.d", type="STRING"),
        model.InputDef(id="list", type="ARRAY", item_type="DATETIME"),
        model.InputDef(id="j", type="JSON"),
        model.InputDef(id="dur", type="DURATION"),
    ]
    given = {
        "when": "2024-11-13T15:38:38.355668+01:00",
        "a.b": "1",
        "a.c.d": "x",
        "list": ["2024-01-01T00:00:00Z"],
        "j": {"when": "2024-01-01T00:00:00Z"},
        "dur": "PT90S",
    }
    resolved = inputs.resolve(defs, given)
    variables = inputs.for_expressions(defs, resolved.values)
    assert variables == {
        "when": datetime(2024, 11, 13, 14, 38, 38, 355668, tzinfo=UTC),
        "a": {"b": 1, "c": {"d": "x"}},
        "list": [datetime(2024, 1, 1, tzinfo=UTC)],
        "j": {"when": "2024-01-01T00:00:00Z"},
        "dur": "PT1M30S",
    }
    assert variables["when"].tzinfo is UTC


def test_for_expressions_merges_maps_without_touching_stored_values() -> None:
    defs = [
        model.InputDef(id="cfg", type="JSON"),
        model.InputDef(id="cfg.extra", type="INT"),
        model.InputDef(id="n", type="INT"),
        model.InputDef(id="n.sub", type="INT"),
    ]
    values = inputs.resolve(defs, {"cfg": {"k": 1}, "cfg.extra": 2, "n": 3, "n.sub": 4}).values
    variables = inputs.for_expressions(defs, values)
    assert variables == {"cfg": {"k": 1, "extra": 2}, "n": 3, "n.sub": 4}
    assert values["cfg"] == {"k": 1}
    early = inputs.for_expressions(defs[1::-1], {"cfg.extra": 2, "cfg": {"k": 1}})
    assert early == {"cfg": {"k": 1, "extra": 2}}


def test_for_expressions_keeps_undeclared_and_null_values() -> None:
    defs = [model.InputDef(id="when", type="DATETIME", required=False)]
    assert inputs.for_expressions(defs, {"when": None, "old.x": 1}) == {
        "when": None,
        "old": {"x": 1},
    }


@pytest.mark.parametrize(
    ("kind", "rendered", "stored"),
    [
        ("STRING", '{"value":"flow-outputs"}', '{"value":"flow-outputs"}'),
        ("INT", "5", 5),
        ("FLOAT", "2.5", 2.5),
        ("BOOLEAN", "true", True),
        ("DATETIME", "2024-11-13T14:38:38.355Z", "2024-11-13T14:38:38.355000Z"),
        ("DURATION", "PT60S", "PT1M"),
        ("JSON", '{"a":1}', {"a": 1}),
        ("JSON", {"a": "1"}, {"a": "1"}),
        ("ARRAY", '[1,"b"]', [1, "b"]),
    ],
)
def test_outputs_use_the_input_rules(kind: str, rendered: Any, stored: Any) -> None:
    assert inputs.coerce_output(kind, rendered) == stored


def test_output_that_does_not_fit_raises_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"^expected INT, but received `abc`$"):
        inputs.coerce_output("INT", "abc")
    with pytest.raises(
        ValueError, match=r"^Invalid output for `o`, expected BOOLEAN, but received `yes`$"
    ):
        inputs.coerce_output("BOOLEAN", "yes", output_id="o")
    with pytest.raises(ValueError, match=r"^expected FILE \(a kestra:/// URI\), but received `x`$"):
        inputs.coerce_output("FILE", "x")
    assert inputs.coerce_output("ARRAY", ["1"], item_type="INT") == [1]


def test_type_names_are_case_insensitive() -> None:
    assert _ok("int", "3") == 3
    assert _ok("array", "[1]", item_type="string") == ["1"]


def test_invalid_bound_in_a_definition_raises() -> None:
    with pytest.raises(ValueError, match="input `x` has an invalid `min`"):
        _one("INT", 3, min="low")
