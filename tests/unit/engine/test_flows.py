"""Flow loading and validation (semantics.md#validation)."""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tercel.engine import expressions, model
from tercel.engine.flows import crons, loader, triggerdefs

FIXTURES = Path(__file__).parents[2] / "fixtures" / "flows"
CORE = "io.kestra.plugin.core"
RETURN = f"{CORE}.debug.Return"
FAIL = f"{CORE}.execution.Fail"
LOG = f"{CORE}.log.Log"


def load(text: str, **kwargs: Any) -> model.Flow:
    return loader.load_flow(textwrap.dedent(text), **kwargs)


def refuse(text: str) -> list[str]:
    """The `line:column: path: message` lines of a refused flow."""
    with pytest.raises(loader.FlowValidationError) as caught:
        loader.load_flow(textwrap.dedent(text))
    return caught.value.lines()


def flow_with(tasks_yaml: str, head: str = "") -> str:
    """A flow around an indented task list (and optional top-level lines)."""
    return f"id: f\nnamespace: t\n{textwrap.dedent(head)}tasks:\n{textwrap.dedent(tasks_yaml)}"


def one_task(flow: model.Flow) -> model.TaskDef:
    return flow.tasks[0]


# --------------------------------------------------------------------------- fixtures


@pytest.mark.parametrize("path", sorted((FIXTURES / "valid").glob("*.yaml")), ids=lambda p: p.name)
def test_valid_fixtures_load(path: Path) -> None:
    source = path.read_text()
    flow = loader.load_flow(source, file=path.name)
    assert flow.source == source
    assert flow.tasks


@pytest.mark.parametrize(
    "path", sorted((FIXTURES / "invalid").glob("*.yaml")), ids=lambda p: p.name
)
def test_invalid_fixtures_list_every_issue(path: Path) -> None:
    source = path.read_text()
    expected = [
        line.removeprefix("# expect: ")
        for line in source.splitlines()
        if line.startswith("# expect: ")
    ]
    assert expected, "an invalid fixture lists its issues in `# expect:` lines"
    with pytest.raises(loader.FlowValidationError) as caught:
        loader.load_flow(source, file=path.name)
    assert caught.value.lines() == [f"{path.name}:{line}" for line in expected]


def test_every_task_type_is_loaded() -> None:
    flow = loader.load_flow((FIXTURES / "valid" / "all-task-types.yaml").read_text())
    by_id = {task.id: task for task in flow.all_tasks()}
    assert {task.type.rsplit(".", 1)[1] for task in by_id.values()} >= {
        "Return", "Log", "Echo", "Fail", "Sleep", "OutputValues", "Commands", "Sequential",
        "Parallel", "ForEach", "EachSequential", "EachParallel", "If", "Switch", "Pause",
        "AllowFailure", "Subflow",
    }  # fmt: skip
    assert flow.revision == 3
    assert flow.labels == (
        model.Label("team", "data"),
        model.Label("version", "1.10"),
        model.Label("enabled", "true"),
    )
    assert flow.variables == {
        "greeting": "hello {{ inputs.who }}",
        "nested": {"a": 1, "b": ["x", "y"]},
    }
    assert by_id["ret"].properties == {"format": "1.10"}
    assert by_id["ret"].kind is model.TaskKind.RUNNABLE
    assert by_id["ret"].location == model.Location(51, 5)
    assert by_id["log_many"].properties == {"message": ["first", "007"], "level": "INFO"}
    assert by_id["fail_never"].properties == {"condition": "{{ false }}", "errorMessage": "never"}
    assert by_id["fail_never"].allow_failure is True
    assert by_id["nap"].properties == {"duration": "PT0.25s"}
    assert by_id["nap"].timeout == "PT5S"
    shell = by_id["shell"]
    # kept, so that the task warns at run time that it ignores them
    assert shell.properties["containerImage"] == "ubuntu" and "taskRunner" in shell.properties
    assert shell.properties["interpreter"] == ["/bin/sh", "-c"]
    assert shell.retry == model.RetryPolicy(
        "constant", max_attempt=3, interval=timedelta(seconds=1)
    )
    seq = by_id["seq"]
    assert seq.kind is model.TaskKind.FLOWABLE
    assert [t.id for t in seq.branch("tasks")] == ["seq_child"]
    assert [t.id for t in seq.branch("errors")] == ["seq_error"]
    assert [t.id for t in seq.branch("finally")] == ["seq_finally"]
    assert by_id["par"].properties == {"concurrent": 2}
    assert by_id["each"].properties == {"values": ["a", 1, {"k": "v"}], "concurrencyLimit": 0}
    assert by_id["each_seq"].properties == {"value": '["x", "y"]'}
    assert [t.id for t in by_id["branch"].branch("else")] == ["else_child"]
    route = by_id["route"]
    assert list(route.cases) == ["1.10", "true"]
    assert [t.id for t in route.branch("defaults")] == ["case_default"]
    pause = by_id["pause"]
    assert pause.properties["timeout"] == "PT1H" and pause.timeout is None
    assert pause.properties["onResume"] == (model.InputDef("approved", "BOOLEAN", defaults=True),)
    sub = by_id["child"]
    assert sub.kind is model.TaskKind.SUBFLOW
    assert sub.properties["wait"] is False and sub.properties["revision"] == 2
    assert by_id["flow_finally"].run_if == "true"
    assert by_id["flow_finally"].log_level is model.LogLevel.INFO
    assert [t.id for t in flow.errors] == ["flow_error"]
    assert [t.id for t in flow.finally_] == ["flow_finally"]
    assert flow.outputs == (
        model.OutputDef("final", "STRING", "{{ outputs.ret.value }}", "the value"),
    )
    assert flow.retry == model.RetryPolicy(
        "exponential",
        max_duration=timedelta(minutes=1),
        interval=timedelta(seconds=1),
        max_interval=timedelta(seconds=10),
        delay_factor=3.0,
        warning_on_retry=True,
        behavior="CREATE_NEW_EXECUTION",
    )
    assert flow.triggers == (
        triggerdefs.ScheduleDef(
            "daily", crons.Cron("0 0 * * *"), location=flow.triggers[0].location
        ),
    )


def test_input_definitions() -> None:
    flow = loader.load_flow((FIXTURES / "valid" / "all-task-types.yaml").read_text())
    inputs = {item.id: item for item in flow.inputs}
    assert inputs["who"] == model.InputDef(
        "who", "STRING", defaults="1.10", description="the name", display_name="Who",
        validator="^[0-9.]+$",
    )  # fmt: skip
    assert inputs["count"] == model.InputDef("count", "INT", required=False, min=1, max=10)
    assert inputs["ratio"].min == 0.5
    assert inputs["flag"].type == "BOOLEAN" and inputs["flag"].defaults is False
    assert inputs["when"].after == datetime(2024, 1, 1, tzinfo=UTC)
    assert inputs["when"].before == datetime(2030, 1, 1, tzinfo=UTC)
    assert inputs["when"].after.tzinfo is UTC
    assert inputs["wait"].min == timedelta(seconds=1) and inputs["wait"].max == timedelta(hours=1)
    assert inputs["payload"].defaults == {"a": [1, 2]}
    assert inputs["items"].item_type == "INT" and inputs["items"].defaults == [1, 2, 3]
    assert "nested.key" in inputs


# --------------------------------------------------------------------------- scalars


def test_string_properties_receive_the_source_text() -> None:
    flow = load(
        flow_with(
            """\
            - {id: a, type: io.kestra.plugin.core.debug.Return, format: 1.10}
            - {id: b, type: io.kestra.plugin.core.debug.Return, format: 007}
            - {id: c, type: io.kestra.plugin.core.debug.Return, format: true}
            - {id: d, type: io.kestra.plugin.core.debug.Return, format: yes}
            - {id: e, type: io.kestra.plugin.core.debug.Return, format: 0x1F}
            - {id: f, type: io.kestra.plugin.core.debug.Return, format: 2024-01-01}
            - {id: g, type: io.kestra.plugin.core.debug.Return, format: "quoted"}
            """
        )
    )
    assert [task.properties["format"] for task in flow.tasks] == [
        "1.10", "007", "true", "yes", "0x1F", "2024-01-01", "quoted",
    ]  # fmt: skip


def test_yaml_1_2_booleans_only() -> None:
    lines = refuse(
        flow_with(
            """\
            - {id: a, type: io.kestra.plugin.core.debug.Return, disabled: yes}
            - {id: b, type: io.kestra.plugin.core.debug.Return, disabled: on}
            - {id: c, type: io.kestra.plugin.core.debug.Return, disabled: True}
            """
        )
    )
    assert lines == [
        "4:63: tasks[0].disabled: expected a boolean (true or false)",
        "5:63: tasks[1].disabled: expected a boolean (true or false)",
    ]


def test_map_values_keep_plain_data() -> None:
    flow = load(
        flow_with(
            """\
            - id: ov
              type: io.kestra.plugin.core.output.OutputValues
              values: {a: 1.10, b: yes, c: null, d: [1, "2", ~], e: 0o17, f: .inf, "1": x}
            """
        )
    )
    assert one_task(flow).properties["values"] == {
        "a": 1.1, "b": "yes", "c": None, "d": [1, "2", None], "e": 15, "f": float("inf"), "1": "x",
    }  # fmt: skip


def test_run_if_accepts_scalars_as_text() -> None:
    flow = load(
        flow_with(
            """\
            - {id: a, type: io.kestra.plugin.core.debug.Return, runIf: false}
            - {id: b, type: io.kestra.plugin.core.debug.Return, runIf: 0}
            - {id: c, type: io.kestra.plugin.core.debug.Return, runIf: "{{ inputs.x }}"}
            """
        )
    )
    assert [task.run_if for task in flow.tasks] == ["false", "0", "{{ inputs.x }}"]


def test_durations_parse_case_insensitively_or_stay_templates() -> None:
    flow = load(
        flow_with(
            """\
            - {id: a, type: io.kestra.plugin.core.flow.Sleep, duration: pt0.25S}
            - {id: b, type: io.kestra.plugin.core.flow.Sleep, duration: "{{ inputs.d }}"}
            - {id: c, type: io.kestra.plugin.core.debug.Return, timeout: "{{ inputs.t }}"}
            """
        )
    )
    assert [t.properties.get("duration") for t in flow.tasks] == ["pt0.25S", "{{ inputs.d }}", None]
    assert flow.tasks[2].timeout == "{{ inputs.t }}"


def test_int_refuses_bools_floats_and_strings() -> None:
    lines = refuse(
        flow_with(
            """\
            - {id: a, type: io.kestra.plugin.core.flow.Parallel, concurrent: true, tasks: [{id: x, type: io.kestra.plugin.core.debug.Return}]}
            - {id: b, type: io.kestra.plugin.core.flow.Parallel, concurrent: 1.0, tasks: [{id: y, type: io.kestra.plugin.core.debug.Return}]}
            - {id: c, type: io.kestra.plugin.core.flow.Parallel, concurrent: "2", tasks: [{id: z, type: io.kestra.plugin.core.debug.Return}]}
            """  # noqa: E501
        )
    )
    assert [line.split(": ", 1)[1] for line in lines] == [
        "tasks[0].concurrent: expected an integer",
        "tasks[1].concurrent: expected an integer",
        "tasks[2].concurrent: expected an integer",
    ]


# --------------------------------------------------------------------------- flow level


def test_revision_precedence() -> None:
    source = flow_with("- {id: a, type: io.kestra.plugin.core.debug.Return}\n", "revision: 4\n")
    assert loader.load_flow(source).revision == 4
    assert loader.load_flow(source, revision=9).revision == 9
    assert load(flow_with("- {id: a, type: io.kestra.plugin.core.debug.Return}\n")).revision == 1


def test_labels_as_list_and_defaults() -> None:
    flow = load(
        flow_with(
            "- {id: a, type: io.kestra.plugin.core.debug.Return}\n",
            "labels:\n  - {key: env, value: prod}\n  - {key: n, value: 1.50}\n",
        )
    )
    assert flow.labels == (model.Label("env", "prod"), model.Label("n", "1.50"))
    assert flow.disabled is False and flow.inputs == () and flow.variables == {}


def test_flow_id_and_namespace_lengths() -> None:
    long_id, long_ns = "a" * 101, "b" * 151
    lines = refuse(f"id: {long_id}\nnamespace: {long_ns}\ntasks: [{{id: a, type: {RETURN}}}]\n")
    assert lines == [
        "1:5: id: must be at most 100 characters long",
        "2:12: namespace: must be at most 150 characters long",
    ]
    assert load(f"id: {'a' * 100}\nnamespace: {'b' * 150}\ntasks: [{{id: a, type: {RETURN}}}]")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("namespace: t\ntasks: [{id: a, type: x.Y}]\n", "1:1: id: is required"),
        ("id: f\nnamespace: t\n", "1:1: tasks: is required"),
        ("id: f\nnamespace: t\ntasks: []\n", "3:8: tasks: must not be empty"),
        ("id: f\nnamespace: t\ntasks: {a: 1}\n", "3:8: tasks: expected a list of tasks"),
    ],
)
def test_flow_level_refusals(source: str, expected: str) -> None:
    assert expected in refuse(source)


def test_unknown_task_type_is_named() -> None:
    lines = refuse(flow_with("- id: a\n  type: io.nope.Missing\n  whatever: 1\n"))
    assert lines == ["5:9: tasks[0].type: unknown task type `io.nope.Missing`"]


def test_task_ids_are_unique_across_every_branch() -> None:
    lines = refuse(
        flow_with(
            """\
            - id: top
              type: io.kestra.plugin.core.flow.Switch
              value: x
              cases:
                x:
                  - {id: dup, type: io.kestra.plugin.core.debug.Return}
              defaults:
                - id: deep
                  type: io.kestra.plugin.core.flow.Sequential
                  tasks:
                    - {id: dup, type: io.kestra.plugin.core.debug.Return}
            """,
            "errors:\n  - {id: top, type: io.kestra.plugin.core.debug.Return}\n",
        )
    )
    assert lines == [
        "6:7: tasks[0].id: duplicate task id `top` (first at line 4)",
        "16:16: tasks[0].defaults[0].tasks[0].id: duplicate task id `dup` (first at line 11)",
    ]


def test_legacy_aliases_resolve_and_keep_the_written_type() -> None:
    flow = loader.load_flow((FIXTURES / "valid" / "legacy-aliases.yaml").read_text())
    by_id = {task.id: task for task in flow.all_tasks()}
    assert by_id["ret"].type == RETURN
    assert by_id["ret"].written_type == "io.kestra.core.tasks.debugs.Return"
    assert by_id["sub"].type == f"{CORE}.flow.Subflow"
    assert by_id["sub"].kind is model.TaskKind.SUBFLOW
    assert by_id["each"].type == f"{CORE}.flow.EachSequential"
    assert by_id["fail"].properties["errorMessage"] == "Task failure"


def test_fail_message_alias_and_default() -> None:
    flow = load(flow_with(f"- {{id: a, type: {FAIL}, message: boom}}\n- {{id: b, type: {FAIL}}}\n"))
    assert [t.properties["errorMessage"] for t in flow.tasks] == ["boom", "Task failure"]


def test_null_property_counts_as_absent() -> None:
    flow = load(flow_with(f"- id: a\n  type: {FAIL}\n  message:\n  description:\n"))
    assert one_task(flow).properties == {"errorMessage": "Task failure"}
    assert one_task(flow).description is None


# --------------------------------------------------------------------------- plugin defaults


def test_plugin_defaults_fill_merge_and_force() -> None:
    flow = loader.load_flow((FIXTURES / "valid" / "plugin-defaults.yaml").read_text())
    by_id = {task.id: task for task in flow.tasks}
    assert by_id["log"].properties["level"] == "ERROR"  # package prefix
    assert by_id["loud"].properties["level"] == "DEBUG"  # the task's own value wins
    assert by_id["shell"].properties["env"] == {"B": "own", "A": "1"}  # deep merge
    assert by_id["shell"].retry is not None and by_id["shell"].retry.max_attempt == 2
    assert by_id["fail"].properties["errorMessage"] == "forced message"  # forced, alias aware
    assert by_id["ret"].properties["format"] == "from defaults"  # taskDefaults


def test_forced_defaults_merge_maps_with_default_winning() -> None:
    flow = load(
        flow_with(
            "- {id: s, type: io.kestra.plugin.scripts.shell.Commands, commands: [x],"
            " env: {A: own, C: own}}\n",
            "pluginDefaults:\n"
            "  - type: io.kestra.plugin.scripts\n"
            "    forced: true\n"
            "    values: {env: {A: forced, B: b}}\n",
        )
    )
    assert one_task(flow).properties["env"] == {"A": "forced", "C": "own", "B": "b"}


def test_defaults_for_exact_type_refuse_unknown_keys_and_prefix_ones_do_not() -> None:
    lines = refuse(
        flow_with(
            f"- {{id: a, type: {LOG}, message: m}}\n",
            "pluginDefaults:\n"
            f"  - {{type: {LOG}, values: {{colour: red, id: x}}}}\n"
            "  - {type: io.kestra, values: {colour: red}}\n"
            "  - {type: io.kestra, value: {}}\n",
        )
    )
    assert lines == [
        f"4:52: pluginDefaults[0].values.colour: unknown property `colour` for type `{LOG}`",
        "4:65: pluginDefaults[0].values.id: `id` cannot have a default",
        "6:5: pluginDefaults[2].values: is required",
        "6:23: pluginDefaults[2].value: unknown property `value`",
    ]


def test_defaults_name_a_kestra_property_tercel_does_not_run_and_suggest_for_a_typo() -> None:
    lines = refuse(
        flow_with(
            f"- {{id: a, type: {LOG}, message: m}}\n",
            "pluginDefaults:\n"
            f"  - {{type: {LOG}, values: {{workerGroup: {{key: x}}, levle: WARN}}}}\n",
        )
    )
    assert lines == [
        f"4:52: pluginDefaults[0].values.workerGroup: `workerGroup` is a property of Kestra's"
        f" `{LOG}` that Tercel does not run",
        f"4:75: pluginDefaults[0].values.levle: unknown property `levle` for type `{LOG}`;"
        " did you mean `level`?",
    ]


def test_default_values_are_checked_where_they_are_written() -> None:
    lines = refuse(
        flow_with(
            f"- {{id: a, type: {LOG}, message: m}}\n- {{id: b, type: {LOG}, message: m}}\n",
            "pluginDefaults:\n"
            "  - type: io.kestra.plugin.core.log\n"
            "    values:\n"
            "      level: LOUD\n",
        )
    )
    assert lines == [
        "6:14: pluginDefaults[0].values.level: expected one of TRACE, DEBUG, INFO, WARN, ERROR, "
        "got `LOUD`"
    ]


def test_defaults_may_supply_required_properties() -> None:
    flow = load(
        flow_with(
            f"- {{id: a, type: {LOG}}}\n",
            f"pluginDefaults:\n  - {{type: {LOG}, values: {{message: from default}}}}\n",
        )
    )
    assert one_task(flow).properties["message"] == "from default"


# --------------------------------------------------------------------------- retry


def test_retry_attempts_alias_and_defaults() -> None:
    flow = load(
        flow_with(
            f"- id: a\n  type: {FAIL}\n"
            "  retry: {type: constant, interval: PT0.1S, maxAttempts: 2}\n"
        )
    )
    assert one_task(flow).retry == model.RetryPolicy(
        "constant", max_attempt=2, interval=timedelta(milliseconds=100)
    )


def test_retry_max_duration_alone_is_a_bound() -> None:
    flow = load(
        flow_with(
            "- {id: a, type: io.kestra.plugin.core.debug.Return}\n",
            "retry: {type: random, minInterval: PT1S, maxInterval: PT2S, maxDuration: PT1M}\n",
        )
    )
    assert flow.retry is not None and flow.retry.max_duration == timedelta(minutes=1)


def test_retry_max_attempt_error_matches_the_documented_line() -> None:
    source = flow_with(
        """\
        - id: a
          type: io.kestra.plugin.core.debug.Return
        - id: b
          type: io.kestra.plugin.core.debug.Return
        - id: c
          type: io.kestra.plugin.core.execution.Fail
          retry:
            type: constant
            interval: PT1S
            maxAttempt: 0
        """
    )
    with pytest.raises(loader.FlowValidationError) as caught:
        loader.load_flow(source, file="flow.yaml")
    assert caught.value.lines() == ["flow.yaml:13:17: tasks[2].retry.maxAttempt: must be >= 1"]
    assert caught.value.issues == [
        loader.Issue("tasks[2].retry.maxAttempt", "must be >= 1", 13, 17)
    ]
    assert str(caught.value) == "tasks[2].retry.maxAttempt: must be >= 1 (line 13, column 17)"


# --------------------------------------------------------------------------- issues


def test_issue_and_error_formatting() -> None:
    issue = loader.Issue("tasks[2].retry.maxAttempt", "must be >= 1", 12, 7)
    assert str(issue) == "tasks[2].retry.maxAttempt: must be >= 1 (line 12, column 7)"
    assert str(loader.Issue("", "the flow source is larger than 256 KiB")) == (
        "the flow source is larger than 256 KiB"
    )
    error = loader.FlowValidationError([issue, loader.Issue("id", "is required")], "flow.yaml")
    assert error.lines() == [
        "flow.yaml:12:7: tasks[2].retry.maxAttempt: must be >= 1",
        "flow.yaml: id: is required",
    ]
    assert loader.FlowValidationError([issue]).lines() == [
        "12:7: tasks[2].retry.maxAttempt: must be >= 1"
    ]
    assert str(error) == (
        "tasks[2].retry.maxAttempt: must be >= 1 (line 12, column 7); id: is required"
    )
    assert error.file == "flow.yaml"


def test_templates_are_validated_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_validate(text: str) -> str | None:
        return "statements are not allowed" if "{%" in text else None

    monkeypatch.setattr(expressions, "validate", fake_validate)
    bad = "'{% for x in y %}{% endfor %}'"
    lines = refuse(
        f"""\
        id: f
        namespace: t
        variables: {{v: {bad}}}
        tasks:
          - {{id: a, type: {RETURN}, format: {bad}, runIf: {bad}, timeout: {bad}}}
          - {{id: b, type: {LOG}, message: [ok, {bad}]}}
          - {{id: c, type: {CORE}.output.OutputValues, values: {{{bad}: [{bad}]}}}}
          - id: d
            type: {CORE}.flow.ForEach
            values: [{bad}]
            tasks: [{{id: e, type: {RETURN}}}]
        outputs:
          - {{id: o, type: JSON, value: {{k: {bad}}}}}
        """
    )
    assert [line.split(": ", 1)[1] for line in lines] == [
        "variables.v: statements are not allowed",
        "tasks[0].format: statements are not allowed",
        "tasks[0].runIf: statements are not allowed",
        "tasks[0].timeout: statements are not allowed",
        "tasks[1].message[1]: statements are not allowed",
        'tasks[2].values["{% for x in y %}{% endfor %}"]: statements are not allowed',
        'tasks[2].values["{% for x in y %}{% endfor %}"][0]: statements are not allowed',
        "tasks[3].values[0]: statements are not allowed",
        "outputs[0].value.k: statements are not allowed",
    ]


# --------------------------------------------------------------------------- YAML safety


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("- a\n- b\n", "1:1: the flow must be a YAML mapping"),
        ("just text\n", "1:1: the flow must be a YAML mapping"),
        ("", "the flow must be a YAML mapping, got an empty document"),
        ("# only a comment\n", "the flow must be a YAML mapping, got an empty document"),
        ("id: a\n---\nid: b\n", "2:1: expected a single YAML document, found another one"),
        ("id: [a, b\nnamespace: t\n", "2:10: invalid YAML: while parsing a flow sequence "
                                      "expected ',' or ']', but got ':'"),
        ("id: a: b\n", "1:6: invalid YAML: mapping values are not allowed here"),
        ("id: a\n\tnamespace: t\n", None),
        ("id: \x07\n", "1:5: invalid YAML: special characters are not allowed"),
        ("? [a]\n: b\nid: c\n", "1:3: mapping keys must be scalars"),
    ],
)  # fmt: skip
def test_yaml_syntax_and_shape(source: str, expected: str | None) -> None:
    lines = refuse(source)
    if expected is not None:
        assert expected in lines


def test_alias_bomb_is_refused_quickly() -> None:
    layers = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    layers += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    source = "id: f\nnamespace: t\nvariables:\n" + "\n".join(f"  {layer}" for layer in layers)
    source += "\ntasks: [{id: a, type: io.kestra.plugin.core.debug.Return}]\n"
    started = time.monotonic()
    lines = refuse(source)
    assert time.monotonic() - started < 2
    assert "4:7: variables.a0: YAML anchors are not allowed" in lines
    assert "5:12: variables.a1[0]: YAML aliases are not allowed" in lines


def test_deep_nesting_is_refused() -> None:
    value = "[" * 40 + "]" * 40
    lines = refuse(f"id: f\nnamespace: t\nvariables: {{v: {value}}}\ntasks: []\n")
    assert len(lines) == 1 and lines[0].endswith("nesting deeper than 32 levels")
    assert lines[0].startswith("3:46: variables.v" + "[0]" * 30)
    ok = "[" * 30 + "]" * 30
    assert load(flow_with("- {id: a, type: io.kestra.plugin.core.debug.Return}\n",
                          f"variables: {{v: {ok}}}\n"))  # fmt: skip


@pytest.mark.timing
def test_deep_nesting_of_huge_input_stays_fast() -> None:
    started = time.monotonic()
    assert refuse("[" * 200_000)[0].endswith("nesting deeper than 32 levels")
    assert refuse("a:\n" + "".join(" " * i + "- \n" for i in range(1, 3000)))
    assert time.monotonic() - started < 5


def test_sources_over_256_kib_are_refused() -> None:
    filler = "# " + "x" * 1000 + "\n"
    source = flow_with("- {id: a, type: io.kestra.plugin.core.debug.Return}\n") + filler * 310
    assert len(source.encode()) > 300 * 1024
    assert refuse(source) == ["the flow source is larger than 256 KiB"]


def test_large_but_allowed_source_loads() -> None:
    tasks = "".join(f"- {{id: t{i}, type: {RETURN}, format: 'v{i}'}}\n" for i in range(3000))
    source = flow_with(tasks)
    assert 200 * 1024 < len(source.encode()) <= 256 * 1024
    assert len(loader.load_flow(source).tasks) == 3000


def test_custom_tags_are_refused_not_constructed() -> None:
    lines = refuse(
        flow_with(
            "- {id: a, type: io.kestra.plugin.core.debug.Return}\n",
            "variables:\n  x: !!python/object/apply:os.system [touch /tmp/tercel-pwned]\n"
            "  y: !!set {a, b}\n  z: !<tag:example.com:x> 1\n",
        )
    )
    assert lines == [
        "4:6: variables.x: tag `!!python/object/apply:os.system` is not allowed",
        "5:6: variables.y: tag `!!set` is not allowed",
        "6:6: variables.z: tag `tag:example.com:x` is not allowed",
    ]
    assert not Path("/tmp/tercel-pwned").exists()


def test_core_tags_are_accepted() -> None:
    flow = load(
        flow_with(
            "- {id: a, type: io.kestra.plugin.core.debug.Return, format: !!str 12}\n",
            "variables: !!map {a: !!int '12', b: !!float 1, c: !!bool true, d: !!null ~, e: ! 5}\n",
        )
    )
    assert flow.variables == {"a": 12, "b": 1.0, "c": True, "d": None, "e": "5"}
    assert one_task(flow).properties["format"] == "12"


def test_duplicate_keys_at_any_depth() -> None:
    lines = refuse("id: f\nnamespace: t\nid: g\nvariables: {a: {b: 1, b: 2}}\ntasks: []\n")
    assert lines[:2] == [
        "3:1: id: duplicate key `id` (first at line 1)",
        "4:23: variables.a.b: duplicate key `b` (first at line 4)",
    ]


_HEAD = "id: f\nnamespace: t\n"
_TASK = f"tasks: [{{id: a, type: {RETURN}}}]\n"
_SCHEDULE = f"{CORE}.trigger.Schedule"
_RETRY = "{type: constant, interval: [1], maxAttempt: 2}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (f"id: [a]\nnamespace: t\n{_TASK}", "1:5: id: expected a string"),
        (f"{_HEAD}tasks: [{{id: [a], type: {RETURN}}}]\n", "3:14: tasks[0].id: expected a string"),
        (f"{_HEAD}tasks: [{{id: a}}]\n", "3:9: tasks[0].type: is required"),
        (f"{_HEAD}tasks: [{{id: a, type: [x]}}]\n", "3:23: tasks[0].type: expected a string"),
        (f"{_HEAD}inputs: 5\n{_TASK}", "3:9: inputs: expected a list of inputs"),
        (f"{_HEAD}inputs: [5]\n{_TASK}", "3:10: inputs[0]: expected a mapping"),
        (f"{_HEAD}inputs: [{{id: x}}]\n{_TASK}", "3:10: inputs[0].type: is required"),
        (f"{_HEAD}outputs: 5\n{_TASK}", "3:10: outputs: expected a list of outputs"),
        (f"{_HEAD}outputs: [5]\n{_TASK}", "3:11: outputs[0]: expected a mapping"),
        (f"{_HEAD}{_TASK}triggers: [{{id: t, type: [x]}}]\n",
         "4:26: triggers[0].type: expected a string"),
        (f"{_HEAD}{_TASK}triggers: [{{id: t, type: {_SCHEDULE}, cron: [x]}}]\n",
         "4:72: triggers[0].cron: expected a string"),
        (f"{_HEAD}tasks: [{{id: a, type: {RETURN}, timeout: [1]}}]\n",
         "3:68: tasks[0].timeout: expected a string"),
        (f"{_HEAD}tasks: [{{id: a, type: {RETURN}, retry: {_RETRY}}}]\n",
         "3:93: tasks[0].retry.interval: expected a string"),
    ],
)  # fmt: skip
def test_a_value_of_the_wrong_shape_is_refused_at_its_place(source: str, expected: str) -> None:
    """A list or a number where a string, a list or a mapping belongs: one issue, at its line,
    column and path (the fuzz tests below reach these too, but they run untraced: these keep
    the refusals measured by the coverage gate)."""
    assert refuse(source) == [expected]


# --------------------------------------------------------------------------- fuzzing


def _yaml_texts() -> st.SearchStrategy[str]:
    scalars = st.one_of(
        st.sampled_from(["id", "type", "tasks", "retry", "inputs", "PT1S", "{{ x }}", "- ", ": ",
                         "&a", "*a", "!!str", "!x", "[", "]", "{", "}", "'", '"', "|", ">",
                         "\n", "  ", "\t", "#", "---", "?", RETURN, "maxAttempt", "0", "-1"]),
        st.text(max_size=8),
    )  # fmt: skip
    return st.lists(scalars, max_size=40).map("".join)


_VALID_BASE = (FIXTURES / "valid" / "all-task-types.yaml").read_text()


def _mutations() -> st.SearchStrategy[str]:
    lines = _VALID_BASE.splitlines()
    return st.tuples(
        st.integers(0, len(lines) - 1), st.sampled_from(["", "  x: 1", "- a", "- id: q", ":", "  "])
    ).map(lambda pair: "\n".join([*lines[: pair[0]], pair[1], *lines[pair[0] + 1 :]]))


def _structured() -> st.SearchStrategy[Any]:
    leaves = st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5),
        st.sampled_from(["constant", "random", "exponential", "PT1S", RETURN, FAIL, "STRING"]),
    )  # fmt: skip
    keys = st.sampled_from(
        ["id", "type", "tasks", "retry", "inputs", "outputs", "values", "maxAttempt", "interval",
         "format", "then", "cases", "itemType"]
    )  # fmt: skip
    return st.recursive(
        leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=4)
    )


def _assert_loads_or_refuses(source: str) -> None:
    try:
        loader.load_flow(source)
    except loader.FlowValidationError as error:
        assert error.issues and all(isinstance(line, str) for line in error.lines())


@pytest.mark.untraced
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_yaml_texts())
def test_fuzz_random_text_never_crashes(source: str) -> None:
    _assert_loads_or_refuses(source)


@pytest.mark.untraced
@settings(max_examples=150, deadline=None)
@given(_mutations())
def test_fuzz_mutated_flow_never_crashes(source: str) -> None:
    _assert_loads_or_refuses(source)


@pytest.mark.untraced
@settings(max_examples=300, deadline=None)
@given(_structured())
def test_fuzz_random_structures_never_crash(document: Any) -> None:
    wrapped = {"id": "f", "namespace": "t", "tasks": [document]}
    for candidate in (document, wrapped):
        _assert_loads_or_refuses(json.dumps(candidate))  # JSON is YAML 1.2


def _walk(flow: model.Flow) -> Iterator[model.TaskDef]:
    yield from flow.all_tasks()


def test_all_tasks_walks_cases_and_branches() -> None:
    flow = loader.load_flow((FIXTURES / "valid" / "kestra-style.yaml").read_text())
    assert [task.id for task in _walk(flow)] == [
        "1", "2_each", "2-1_switch", "2-1_switch-letter-a", "2-1-1_switch-number-1", "retried",
    ]  # fmt: skip
    assert flow.tasks[2].retry == model.RetryPolicy(
        "random",
        max_attempt=3,
        min_interval=timedelta(milliseconds=10),
        max_interval=timedelta(milliseconds=50),
    )


def test_out_of_range_values_are_issues_not_crashes() -> None:
    lines = refuse(
        flow_with(
            "- {id: s, type: io.kestra.plugin.core.flow.Sleep, duration: P99999999999999D}\n",
            "inputs:\n"
            "  - {id: d, type: DATETIME, after: '0001-01-01T00:00:00+01:00'}\n"
            "  - {id: n, type: INT, max: 1" + "0" * 5000 + "}\n",
        )
    )
    assert [line.split(": ", 1)[1] for line in lines] == [
        "inputs[0].after: expected an ISO-8601 date-time with `Z` or an offset, "
        "got `0001-01-01T00:00:00+01:00`",
        "inputs[1].max: expected an integer",
        "tasks[0].duration: duration `P99999999999999D` is too long",
    ]


def test_statements_are_refused_by_the_expression_validator() -> None:
    lines = refuse(
        flow_with(
            "- id: a\n"
            "  type: io.kestra.plugin.core.debug.Return\n"
            "  format: '{% macro x() %}{{ x }}{% endmacro %}'\n"
            "- {id: b, type: io.kestra.plugin.core.debug.Return, format: '{{ a._secret }}'}\n"
        )
    )
    assert [line.split(": ", 2)[1] for line in lines] == ["tasks[0].format", "tasks[1].format"]
    assert lines[0].startswith("6:11: ")
