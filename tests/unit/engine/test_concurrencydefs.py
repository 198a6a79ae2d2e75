"""A flow's `concurrency` (semantics.md#concurrency): Kestra's five flow-concurrency test flows
load, and every bad value is refused with its line and column."""

from __future__ import annotations

import textwrap

import pytest

from tercel.engine import model
from tercel.engine.flows import loader
from tercel.engine.types import ConcurrencyBehavior as B

SLEEP = "  - id: sleep\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT2S\n"
PAUSE = (
    "  - id: pause\n    type: io.kestra.plugin.core.flow.Pause\n    delay: PT1S\n"
    "    tasks:\n      - id: post-pause\n        type: io.kestra.plugin.core.log.Log\n"
    "        message: Post-pause\n"
)


def kestra_flow(flow_id: str, behavior: str, tasks: str) -> str:
    """core/src/test/resources/flows/valids/flow-concurrency-*.yml of Kestra."""
    return (
        f"id: {flow_id}\nnamespace: io.kestra.tests\n\nconcurrency:\n  behavior: {behavior}\n"
        f"  limit: 1\n\ntasks:\n{tasks}"
    )


@pytest.mark.parametrize(
    ("flow_id", "behavior", "tasks"),
    [
        ("flow-concurrency-cancel", "CANCEL", SLEEP),
        ("flow-concurrency-cancel-pause", "CANCEL", PAUSE),
        ("flow-concurrency-fail", "FAIL", SLEEP),
        ("flow-concurrency-queue", "QUEUE", SLEEP),
        ("flow-concurrency-queue-pause", "QUEUE", PAUSE),
    ],
)
def test_kestra_flows_load(flow_id: str, behavior: str, tasks: str) -> None:
    flow = loader.load_flow(kestra_flow(flow_id, behavior, tasks))
    assert flow.concurrency == model.Concurrency(1, B(behavior))


def test_behavior_defaults_to_queue_and_no_concurrency_is_none() -> None:
    head = "id: f\nnamespace: t\ntasks:\n" + SLEEP
    assert loader.load_flow(head).concurrency is None
    limited = loader.load_flow(head + "concurrency:\n  limit: 3\n")
    assert limited.concurrency == model.Concurrency(3, B.QUEUE)


def refuse(concurrency: str) -> list[str]:
    source = "id: f\nnamespace: t\ntasks:\n" + SLEEP + textwrap.dedent(concurrency)
    with pytest.raises(loader.FlowValidationError) as caught:
        loader.load_flow(source)
    return caught.value.lines()


@pytest.mark.parametrize(
    ("concurrency", "expected"),
    [
        ("concurrency:\n  limit: 0\n", ["8:10: concurrency.limit: must be >= 1"]),
        ("concurrency:\n  limit: -2\n", ["8:10: concurrency.limit: must be >= 1"]),
        ("concurrency:\n  limit: two\n", ["8:10: concurrency.limit: expected an integer"]),
        ("concurrency:\n  limit: 1.5\n", ["8:10: concurrency.limit: expected an integer"]),
        ("concurrency:\n  behavior: FAIL\n", ["8:3: concurrency.limit: is required (at least 1)"]),
        (
            "concurrency:\n  limit: 1\n  behavior: DROP\n",
            ["9:13: concurrency.behavior: unknown behavior `DROP`, expected QUEUE, CANCEL, FAIL"],
        ),
        (
            "concurrency:\n  limit: 1\n  behaviour: QUEUE\n",
            ["9:3: concurrency.behaviour: unknown property `behaviour`"],
        ),
        ("concurrency: 2\n", ["7:14: concurrency: expected a mapping"]),
        (
            "concurrency:\n  limit: 0\n  behavior: queue\n",
            [
                "8:10: concurrency.limit: must be >= 1",
                "9:13: concurrency.behavior: unknown behavior `queue`, expected QUEUE, "
                "CANCEL, FAIL",
            ],
        ),
    ],
)
def test_bad_values_are_refused_with_line_and_column(concurrency: str, expected: list[str]) -> None:
    assert refuse(concurrency) == expected
