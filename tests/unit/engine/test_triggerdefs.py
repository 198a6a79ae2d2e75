"""Flow `triggers:` validation (semantics.md#triggers) and Kestra's cron reading."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta

import pytest

from tercel.engine import states
from tercel.engine.flows import crons, loader, triggerdefs
from tercel.engine.triggers import schedules

T = "io.kestra.plugin.core.trigger"
C = "io.kestra.plugin.core.condition"
HEAD = """\
id: f
namespace: t
tasks:
  - id: a
    type: io.kestra.plugin.core.log.Log
    message: hi
triggers:
"""


def load(triggers_yaml: str) -> tuple[triggerdefs.TriggerDef, ...]:
    return loader.load_flow(HEAD + textwrap.dedent(triggers_yaml)).triggers


def refuse(triggers_yaml: str) -> list[str]:
    with pytest.raises(loader.FlowValidationError) as caught:
        loader.load_flow(HEAD + textwrap.dedent(triggers_yaml))
    return caught.value.lines()


def at(year: int, month: int, day: int, h: int = 0, m: int = 0, s: int = 0) -> datetime:
    return datetime(year, month, day, h, m, s, tzinfo=UTC)


def test_schedule_with_every_property() -> None:
    (found,) = load(
        f"""\
        - id: nightly
          type: {T}.Schedule
          cron: "0 2 * * *"
          timezone: Europe/Paris
          inputs:
            n: 3
          lateMaximumDelay: PT1H
          recoverMissedSchedules: LAST
          disabled: true
        """
    )
    assert found == triggerdefs.ScheduleDef(
        "nightly",
        crons.Cron("0 2 * * *", False, "Europe/Paris"),
        disabled=True,
        inputs={"n": 3},
        late_maximum_delay=timedelta(hours=1),
        recover_missed_schedules="LAST",
        location=found.location,
    )
    assert found.location is not None and found.location.line == 8


def test_flow_trigger_conditions_and_webhook() -> None:
    flow_trigger, hook = load(
        f"""\
        - id: after
          type: {T}.Flow
          conditions:
            - type: {C}.ExecutionStatusCondition
              in: [SUCCESS, WARNING]
              notIn: [FAILED]
            - type: {C}.ExecutionFlowCondition
              namespace: a.b
              flowId: up
            - type: {C}.ExecutionNamespaceCondition
              namespace: a
              comparison: PREFIX
            - type: io.kestra.plugin.core.condition.ExecutionNamespace
              namespace: a.b
        - id: hook
          type: {T}.Webhook
          key: 0123456789abcdefXYZ
        """
    )
    assert isinstance(flow_trigger, triggerdefs.FlowTriggerDef)
    status, by_flow, prefix, equals = flow_trigger.conditions
    S = states.StateType
    assert (status.kind, status.states_in, status.states_not_in) == (
        "STATUS",
        (S.SUCCESS, S.WARNING),
        (S.FAILED,),
    )
    assert (by_flow.kind, by_flow.namespace, by_flow.flow_id) == ("FLOW", "a.b", "up")
    assert (prefix.kind, prefix.comparison) == ("NAMESPACE", "PREFIX")
    assert (equals.kind, equals.comparison, equals.namespace) == ("NAMESPACE", "EQUALS", "a.b")
    assert hook == triggerdefs.WebhookDef("hook", "0123456789abcdefXYZ", location=hook.location)


def test_bad_cron_is_refused_with_line_and_column() -> None:
    lines = refuse(
        f"""\
        - id: s
          type: {T}.Schedule
          cron: "61 * * * *"
        """
    )
    assert lines == ["10:9: triggers[0].cron: invalid cron `61 * * * *`"]


def test_six_fields_need_with_seconds_and_five_are_refused_with_it() -> None:
    six = refuse(f"- id: s\n  type: {T}.Schedule\n  cron: '*/1 * * * * *'\n")
    assert six == [
        "10:9: triggers[0].cron: invalid cron `*/1 * * * * *`: expected 5 fields, got 6"
        " (6 fields need `withSeconds: true`)"
    ]
    five = refuse(f"- id: s\n  type: {T}.Schedule\n  cron: '* * * * *'\n  withSeconds: true\n")
    assert five == [
        "10:9: triggers[0].cron: invalid cron `* * * * *`: expected 6 fields, got 5"
        " (seconds first, as in Kestra)"
    ]


def test_unknown_type_suggests_the_closest_and_kestra_types_are_named() -> None:
    typo = refuse(f"- id: s\n  type: {T}.Schedul\n  cron: '* * * * *'\n")
    assert typo == [
        f"9:9: triggers[0].type: unknown trigger type `{T}.Schedul` (Tercel runs Schedule, Flow"
        f" and Webhook triggers); did you mean `{T}.Schedule`?"
    ]
    short = refuse("- id: s\n  type: Webhok\n  key: k\n")
    assert short[0].endswith(f"did you mean `{T}.Webhook`?")
    kestra = refuse(f"- id: s\n  type: {T}.ScheduleOnDates\n")
    assert kestra == [
        f"9:9: triggers[0].type: trigger type `{T}.ScheduleOnDates` is a Kestra trigger Tercel"
        " does not run (Tercel runs Schedule, Flow and Webhook triggers)"
    ]
    plugin = refuse("- id: s\n  type: io.kestra.plugin.kafka.Trigger\n")
    assert "is a Kestra trigger Tercel does not run" in plugin[0]


def test_every_problem_at_once() -> None:
    lines = refuse(
        f"""\
        - id: s
          type: {T}.Schedule
          cron: "* * * * *"
          timezone: Mars/Olympus
          recoverMissedSchedules: SOME
          lateMaximumDelay: soon
          colour: red
        - id: s
          type: {T}.Webhook
        - id: f
          type: {T}.Flow
          conditions:
            - type: {C}.ExecutionStatusCondition
              in: [DONE]
            - type: {C}.Weekend
        """
    )
    assert lines == [
        "11:13: triggers[0].timezone: unknown time zone `Mars/Olympus` (expected an IANA name"
        " such as `Europe/Paris`)",
        "12:27: triggers[0].recoverMissedSchedules: expected one of ALL, LAST, NONE, got `SOME`",
        lines[2],
        "14:3: triggers[0].colour: unknown property `colour`",
        "15:3: triggers[1].key: is required",
        "15:7: triggers[1].id: duplicate trigger id `s` (first at line 8)",
        "21:12: triggers[2].conditions[0].in[0]: unknown state `DONE`",
        f"22:13: triggers[2].conditions[1].type: `{C}.Weekend` is a Kestra condition type that"
        " Tercel does not run (Tercel runs ExecutionStatusCondition, ExecutionFlowCondition,"
        " ExecutionNamespaceCondition)",
    ]
    assert lines[2].startswith("13:21: triggers[0].lateMaximumDelay: ")


def test_stored_revision_with_an_old_bad_trigger_still_loads_without_it() -> None:
    source = HEAD + f"- id: s\n  type: {T}.Schedule\n  cron: nope\n"
    flow = loader.load_flow(source, revision=3)
    assert flow.triggers == ()


# --------------------------------------------------------------------------- cron reading


def test_with_seconds_reads_the_seconds_first_as_kestra() -> None:
    every_30s = crons.Cron("*/30 * * * * *", with_seconds=True)
    assert every_30s.next_after(at(2024, 1, 1, 0, 0, 10)) == at(2024, 1, 1, 0, 0, 30)
    # seconds=5, minute=10: once an hour at :10:05 (seconds last would read minute 5, second 10)
    hourly = crons.Cron("5 10 * * * *", with_seconds=True)
    assert hourly.next_after(at(2024, 1, 1)) == at(2024, 1, 1, 0, 10, 5)
    assert hourly.next_after(at(2024, 1, 1, 0, 10, 5)) == at(2024, 1, 1, 1, 10, 5)


def test_dates_in_a_time_zone_and_around_them() -> None:
    paris = crons.Cron("0 9 * * *", timezone="Europe/Paris")
    # 09:00 in Paris is 08:00 UTC in winter and 07:00 UTC in summer (DST began 2024-03-31)
    assert paris.next_after(at(2024, 3, 30, 12)) == at(2024, 3, 31, 7)
    assert paris.previous_before(at(2024, 1, 10, 8)) == at(2024, 1, 9, 8)
    daily = crons.Cron("@daily")
    assert daily.next_after(at(2024, 1, 1)) == at(2024, 1, 2)
    sunday = crons.Cron("0 0 * * 7")  # 7 is Sunday, as 0
    assert sunday.next_after(at(2024, 1, 1)) == at(2024, 1, 7)
    every = crons.Cron("*/2 * * * * *", True)
    assert every.dates_between(at(2024, 1, 1, 0, 0, 2), at(2024, 1, 1, 0, 0, 7), 10) == [
        at(2024, 1, 1, 0, 0, 2),
        at(2024, 1, 1, 0, 0, 4),
        at(2024, 1, 1, 0, 0, 6),
    ]
    assert every.previous_before(at(2024, 1, 1, 0, 0, 2).replace(microsecond=5)) == at(
        2024, 1, 1, 0, 0, 2
    )


# --------------------------------------------------------------------------- Kestra's ScheduleTest


@pytest.mark.parametrize(
    ("cron", "with_seconds", "zone", "date", "previous", "next_"),
    [
        # success(): monthly, date ± one month
        ("0 0 1 * *", False, "UTC", at(2024, 3, 1), at(2024, 2, 1), at(2024, 4, 1)),
        # everyMinute(), everySecond()
        ("* * * * *", False, "UTC", at(2024, 3, 1, 5, 7), at(2024, 3, 1, 5, 6),
         at(2024, 3, 1, 5, 8)),
        ("* * * * * *", True, "UTC", at(2024, 3, 1, 5, 7, 9), at(2024, 3, 1, 5, 7, 8),
         at(2024, 3, 1, 5, 7, 10)),
        # timezone(): noon on the 1st in New York (EDT in July, EST in December)
        ("0 12 1 * *", False, "America/New_York", at(2024, 7, 1, 16), at(2024, 6, 1, 16),
         at(2024, 8, 1, 16)),
        ("0 12 1 * *", False, "America/New_York", at(2024, 12, 1, 17), at(2024, 11, 1, 16),
         at(2025, 1, 1, 17)),
    ],
)  # fmt: skip
def test_schedule_variables_like_kestra(
    cron: str,
    with_seconds: bool,
    zone: str,
    date: datetime,
    previous: datetime,
    next_: datetime,
) -> None:
    trigger = triggerdefs.ScheduleDef("s", crons.Cron(cron, with_seconds, zone))
    assert schedules.schedule_variables(trigger, date) == {
        "date": schedules.iso(date),
        "previous": schedules.iso(previous),
        "next": schedules.iso(next_),
    }
    assert schedules.iso(date).endswith("Z")
