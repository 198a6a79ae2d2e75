"""Flows for the fuzz: valid templates that together use every flow field and every task type,
and a mutation that puts hostile values into a few of their fields (or their keys), then writes
the flow as block YAML, as JSON, or as damaged text."""

from __future__ import annotations

import copy
import random
from typing import Any

from tests.hostile import fuzz_values as fv

CORE = "io.kestra.plugin.core"
NAMESPACE = "fuzz.f"

INPUT_DEFS: list[dict[str, Any]] = [
    {"id": "s", "type": "STRING", "defaults": "text", "validator": "^[^#]*$"},
    {"id": "i", "type": "INT", "defaults": 1, "min": -5, "max": 10**6},
    {"id": "f", "type": "FLOAT", "defaults": 1.5, "max": 1e6},
    {"id": "b", "type": "BOOLEAN", "defaults": True},
    {
        "id": "d",
        "type": "DATETIME",
        "defaults": "2026-01-01T00:00:00Z",
        "after": "2000-01-01T00:00:00Z",
    },
    {"id": "u", "type": "DURATION", "defaults": "PT1S", "min": "PT0S"},
    {"id": "j", "type": "JSON", "defaults": {"a": [1, "x"]}, "required": False},
    {"id": "a", "type": "ARRAY", "itemType": "STRING", "defaults": ["x", "y"]},
]
INPUT_IDS = [definition["id"] for definition in INPUT_DEFS]
ECHO = "{{ inputs.s }} {{ inputs.j | json }} {{ vars.v }} {{ labels.team }}"
SMALL_RETRY = {"type": "constant", "interval": "PT0.01S", "maxAttempt": 2}


def _task(task_id: str, kind: str, **properties: Any) -> dict[str, Any]:
    return {"id": task_id, "type": kind, **properties}


def _runnables() -> list[dict[str, Any]]:
    return [
        _task(
            "ret",
            f"{CORE}.debug.Return",
            format=ECHO,
            description="returns",
            retry=dict(SMALL_RETRY),
            timeout="PT5S",
            runIf="{{ true }}",
            logLevel="INFO",
        ),
        _task("log", f"{CORE}.log.Log", message=["{{ outputs.ret.value }}", ECHO], level="WARN"),
        _task("echo", f"{CORE}.debug.Echo", format=ECHO, level="INFO", allowFailure=True),
        _task("vals", f"{CORE}.output.OutputValues", values={"k": ECHO, "n": "{{ inputs.i }}"}),
        _task("sleep", f"{CORE}.flow.Sleep", duration="PT0.01S", disabled=False),
        _task("fail", f"{CORE}.execution.Fail", condition="{{ false }}", errorMessage="boom"),
    ]


def _flowables() -> list[dict[str, Any]]:
    inner = [_task("in", f"{CORE}.debug.Return", format="{{ taskrun.value }} " + ECHO)]
    return [
        _task("each", f"{CORE}.flow.ForEach", values=["a", "{{ inputs.s }}"], tasks=inner),
        _task("if", f"{CORE}.flow.If", condition="{{ inputs.b }}", then=inner, **{"else": inner}),
        _task(
            "switch",
            f"{CORE}.flow.Switch",
            value="{{ inputs.s }}",
            cases={"text": inner},
            defaults=[_task("dflt", f"{CORE}.log.Log", message="default")],
        ),
        _task("par", f"{CORE}.flow.Parallel", concurrent=2, tasks=copy.deepcopy(inner)),
        _task("seq", f"{CORE}.flow.EachSequential", value='["x", "y"]', tasks=copy.deepcopy(inner)),
        _task(
            "allow", f"{CORE}.flow.AllowFailure", tasks=[_task("nope", f"{CORE}.execution.Fail")]
        ),
    ]


def _shell() -> list[dict[str, Any]]:
    return [
        _task(
            "sh",
            "io.kestra.plugin.scripts.shell.Commands",
            commands=[
                "printf '%s\\n' \"$FUZZ\"",
                'printf \'::{"outputs":{"o":"%s"}}::\\n\' "$FUZZ"',
            ],
            env={"FUZZ": "{{ inputs.s }}"},
            beforeCommands=["true"],
            interpreter=["/bin/sh", "-c"],
            failFast=True,
            warningOnStdErr=False,
            timeout="PT5S",
        )
    ]


def _pause_and_subflow() -> list[dict[str, Any]]:
    resume = [{"id": "r", "type": "STRING", "defaults": "no"}, {"id": "n", "type": "INT"}]
    return [
        _task("sub", f"{CORE}.flow.Subflow", namespace="fuzz.fix", flowId="probe",
              inputs={"x": ECHO}, labels={"from": "{{ inputs.s }}"}, wait=True),
        _task("wait", f"{CORE}.flow.Pause", delay="PT0.02S", timeout="PT1H"),
        _task("ask", f"{CORE}.flow.Pause", onResume=resume, timeout="PT1H"),
        _task("after", f"{CORE}.debug.Return", format="{{ outputs.ask.onResume.r }}"),
    ]  # fmt: skip


TASK_SETS = [_runnables, _flowables, _shell, _pause_and_subflow]


def template(rng: random.Random, index: int) -> dict[str, Any]:
    """A valid flow with every flow-level field and one set of task types; a namespace of its
    own, so that a flow the server cannot read back spoils no other case's reads."""
    tasks = rng.choice(TASK_SETS)()
    return {
        "id": f"f{index}",
        "namespace": f"{NAMESPACE}{index}",
        "description": "a fuzz flow",
        "labels": {"team": "fuzz", "kind": "template"},
        "inputs": copy.deepcopy(INPUT_DEFS),
        "variables": {"v": "{{ inputs.s }}", "n": 3, "deep": {"list": [1, "two"]}},
        "tasks": tasks,
        "errors": [_task("on-error", f"{CORE}.log.Log", message="failed: " + ECHO)],
        "finally": [_task("always", f"{CORE}.log.Log", message="done")],
        "outputs": [{"id": "out", "type": "STRING", "value": ECHO}],
        "retry": {"type": "constant", "interval": "PT0.01S", "maxAttempt": 1},
        "pluginDefaults": [{"type": f"{CORE}.log.Log", "values": {"level": "INFO"}}],
        "triggers": [{"id": "every", "type": f"{CORE}.trigger.Schedule", "cron": "*/5 * * * *"}],
    }


def leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The paths of every place in `value` a hostile value can go: each key's value, each item."""
    found: list[tuple[Any, ...]] = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += leaves(item, (*path, index))
    return found


def _replace(flow: dict[str, Any], path: tuple[Any, ...], new: Any, as_key: bool) -> None:
    parent: Any = flow
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if as_key and isinstance(parent, dict):  # the hostile value becomes a key
        parent[fv.to_json(new)[:80] if not isinstance(new, str) else new] = parent.pop(last)
    else:
        parent[last] = new


def mutate(rng: random.Random, flow: dict[str, Any]) -> list[str]:
    """Put hostile values into 1-3 fields of `flow`; what was done, as `path <- tag` lines."""
    done = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        path = rng.choice(leaves(flow))
        tag, value = fv.any_value(rng)
        if rng.random() < 0.1 and isinstance(value, str) and "expr" in tag:
            value = f"{{{{ {rng.choice(['inputs.s', 'vars.v', 'outputs'])} }}}} {value}"
        as_key = rng.random() < 0.08
        _replace(flow, path, value, as_key)
        shown = ".".join(str(step) for step in path)
        done.append(f"{'key of ' if as_key else ''}{shown} <- {tag} {fv.shorten(value, 60)}")
    return done


def _rendered(flow: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Paths of the template's expressions: the places rendered at run time."""
    found = []
    for path in leaves(flow):
        value: Any = flow
        for step in path:
            value = value[step]
        if isinstance(value, str) and "{{" in value:
            found.append(path)
    return found


def mutate_expressions(rng: random.Random, flow: dict[str, Any]) -> list[str]:
    """Put hostile expressions (or hostile text inside an expression) where the template
    renders, so that each render runs them."""
    done = []
    for path in rng.sample(_rendered(flow), rng.choice((1, 1, 2))):
        if rng.random() < 0.7:
            tag, value = rng.choice(fv.EXPRESSIONS)
        else:
            tag, text = fv.text(rng)
            value = "{{ " + fv.to_json(text) + " }}"
        _replace(flow, path, value, as_key=False)
        done.append(f"{'.'.join(str(step) for step in path)} <- {tag} {fv.shorten(value, 80)}")
    return done


def write(rng: random.Random, flow: dict[str, Any]) -> tuple[str, str]:
    """The flow as source text, and how it was written."""
    roll = rng.random()
    if roll < 0.6:
        return fv.to_yaml(flow), "yaml"
    if roll < 0.85:
        return fv.to_json(flow, ascii_only=rng.random() < 0.5), "json"
    text = fv.to_yaml(flow)
    cut = rng.randrange(len(text))
    if rng.random() < 0.5:
        return text[:cut], "truncated yaml"
    return text[:cut] + fv.text(rng)[1] + text[cut:], "yaml with hostile text inside"
