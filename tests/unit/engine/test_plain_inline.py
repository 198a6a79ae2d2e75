"""Which inline tasks render nothing (`FlowFacts.plain_inline`): decided once per flow, they run
on the loop without the slice's held context (runtime/offloop.py). A template anywhere a render
reads (a string, a map key, a list or tuple item, at any depth) keeps a task out."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from tercel.engine import expressions
from tercel.engine.flows import loader
from tercel.engine.run import flowfacts


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", False),
        ("{{ x }}", True),
        ("{# note #}", True),
        ("{% raw %}a{% endraw %}", True),
        ({"plain": ["a", ("b", 1)], "n": None}, False),
        ({"{{ key }}": 1}, True),
        ({"k": [1, ("a", "{{ deep }}")]}, True),
        ([{"k": {"k": "{{ x }}"}}], True),
        (7, False),
    ],
)
def test_holds_template_reads_what_a_render_reads(value: Any, expected: bool) -> None:
    assert expressions.holds_template(value) is expected


def test_only_inline_tasks_without_a_template_are_plain() -> None:
    source = """
    id: facts
    namespace: t.unit
    tasks:
      - id: plain_return
        type: io.kestra.plugin.core.debug.Return
        format: step 1
      - id: templated_return
        type: io.kestra.plugin.core.debug.Return
        format: "{{ execution.id }}"
      - id: plain_log
        type: io.kestra.plugin.core.log.Log
        message: [a, b]
      - id: listed_log
        type: io.kestra.plugin.core.log.Log
        message: [a, "{{ 1 }}"]
      - id: keyed_values
        type: io.kestra.plugin.core.output.OutputValues
        values:
          "{{ 'k' }}": v
      - id: fail_on_condition
        type: io.kestra.plugin.core.execution.Fail
        condition: "{{ false }}"
      - id: sleep
        type: io.kestra.plugin.core.flow.Sleep
        duration: PT0S
      - id: group
        type: io.kestra.plugin.core.flow.Sequential
        tasks:
          - id: nested_plain
            type: io.kestra.plugin.core.debug.Return
            format: nested
    """
    flow = loader.load_flow(textwrap.dedent(source), revision=1)
    assert flowfacts.facts(flow).plain_inline == {"plain_return", "plain_log", "nested_plain"}
