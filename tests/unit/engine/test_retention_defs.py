"""PurgeExecutions and PurgeLogs properties checked when the flow loads
(docs/semantics.md#retention): every bad property is an issue with its line and column."""

from __future__ import annotations

import textwrap

import pytest

from tercel.engine.flows import loader
from tercel.engine.tasks import retention

HEAD = """\
id: purge
namespace: company.retention
tasks:
"""


def load_task(task_yaml: str) -> dict[str, object]:
    flow = loader.load_flow(HEAD + textwrap.dedent(task_yaml))
    return dict(flow.tasks[0].properties)


def refuse(task_yaml: str) -> list[str]:
    with pytest.raises(loader.FlowValidationError) as caught:
        loader.load_flow(HEAD + textwrap.dedent(task_yaml))
    return caught.value.lines()


def test_purge_executions_with_every_property_and_kestra_defaults() -> None:
    found = load_task(
        """\
        - id: purge
          type: io.kestra.plugin.core.execution.PurgeExecutions
          namespace: company
          flowId: "{{ flow.id }}"
          startDate: 2026-01-01T00:00:00Z
          endDate: "{{ now() | dateAdd(-1, 'MONTHS') }}"
          states: [KILLED, FAILED, WARNING, SUCCESS]
          purgeLog: false
        """
    )
    assert found == {
        "namespace": "company",
        "flowId": "{{ flow.id }}",
        "startDate": "2026-01-01T00:00:00Z",
        "endDate": "{{ now() | dateAdd(-1, 'MONTHS') }}",
        "states": ["KILLED", "FAILED", "WARNING", "SUCCESS"],
        "purgeExecution": True,
        "purgeLog": False,
        "purgeMetric": True,
        "purgeStorage": True,
    }


def test_kestra_legacy_purge_alias() -> None:
    found = load_task(
        """\
        - id: purge
          type: io.kestra.core.tasks.storages.Purge
          endDate: 2026-02-01
        """
    )
    assert found["endDate"] == "2026-02-01"


def test_bad_properties_are_named_with_line_and_column() -> None:
    lines = refuse(
        """\
        - id: purge
          type: io.kestra.plugin.core.execution.PurgeExecutions
          endDate: yesterday
          states: [SUCCESS, RUNNING]
          purgeLog: maybe
        - id: logs
          type: io.kestra.plugin.core.log.PurgeLogs
          logLevels: [INFO, LOUD]
          startDate: "{{ now( }}"
        """
    )
    assert lines == [
        "6:12: tasks[0].endDate: `yesterday` is not an ISO date (2026-01-31T00:00:00Z, say)",
        "7:21: tasks[0].states[1]: expected one of SUCCESS, WARNING, FAILED, KILLED, CANCELLED, "
        "RETRIED, SKIPPED, RESUBMITTED: `RUNNING` is not one of ended states (only ended "
        "executions are purged)",
        "8:13: tasks[0].purgeLog: expected a boolean (true or false)",
        "9:3: tasks[1].endDate: is required",
        "11:21: tasks[1].logLevels[1]: expected one of TRACE, DEBUG, INFO, WARN, ERROR: `LOUD` is "
        "not one of log levels",
        "12:14: tasks[1].startDate: Unexpected `}` (`(` is open) in the expression `{{ now( }}` "
        "at line 1",
    ]


def test_end_date_is_required_and_lists_not_empty() -> None:
    assert refuse(
        """\
        - id: purge
          type: io.kestra.plugin.core.log.PurgeLogs
          logLevels: []
        """
    ) == [
        "4:3: tasks[0].endDate: is required",
        "6:14: tasks[0].logLevels: must not be empty (leave it out to match them all)",
    ]


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2026-01-31", "2026-01-31T00:00:00+00:00"),
        ("2026-01-31T10:00:00Z", "2026-01-31T10:00:00+00:00"),
        ("2026-01-31T10:00:00.123+01:00", "2026-01-31T10:00:00.123000+01:00"),
        ("2026-01-31T10:00:00+01:00[Europe/Paris]", "2026-01-31T10:00:00+01:00"),
    ],
)
def test_dates_read_as_kestra_zoned_date_times(text: str, iso: str) -> None:
    assert retention.parse_date(text).isoformat() == iso


def test_a_date_that_does_not_parse_says_so() -> None:
    with pytest.raises(ValueError, match="`31/01/2026` is not an ISO date"):
        retention.parse_date("31/01/2026")
