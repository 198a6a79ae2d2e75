"""Polling twins of the subscriptions (stateChanges, logs) and the dashboard statistics."""

from __future__ import annotations

import base64
import time
from typing import Any

from tests.api.conftest import Server, error_codes

CHANGES = """query($id: ID, $after: String, $first: Int, $f: StateChangeFilter) {
  stateChanges(executionId: $id, after: $after, first: $first, filter: $f) {
    edges { cursor node { cursor sequence entity executionId taskRunId attemptNumber state
                          previous date taskId value } }
    pageInfo { hasNextPage endCursor } } }"""

LOGS = """query($id: ID!, $after: String, $first: Int, $min: LogLevel) {
  logs(executionId: $id, after: $after, first: $first, minLevel: $min) {
    edges { cursor node { sequence executionId taskId level message timestamp } }
    pageInfo { hasNextPage endCursor } } }"""


def _decode(cursor: str) -> str:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()


def _changes(api: Server, **variables: Any) -> dict[str, Any]:
    found: dict[str, Any] = api.data(CHANGES, variables)["stateChanges"]
    return found


def test_state_changes(api: Server) -> None:
    api.deploy("streams.sc")
    execution_id = api.run("streams.sc")
    everything = _changes(api, id=execution_id)["edges"]
    nodes = [edge["node"] for edge in everything]
    assert nodes[0]["entity"] == "EXECUTION"
    assert nodes[0]["state"] == "CREATED" and nodes[0]["previous"] is None
    assert nodes[-1]["entity"] == "EXECUTION" and nodes[-1]["state"] == "SUCCESS"
    sequences = [n["sequence"] for n in nodes]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
    for edge in everything:
        assert "=" not in edge["cursor"]
        assert (
            _decode(edge["cursor"])
            == f"sc:{edge['node']['sequence']}"
            == _decode(edge["node"]["cursor"])
        )
    attempts = [n for n in nodes if n["entity"] == "ATTEMPT"]
    assert attempts and all(n["attemptNumber"] == 1 and n["taskRunId"] for n in attempts)
    # resume from a middle cursor yields exactly the rest; pages of 2 walk everything once
    middle = everything[3]["cursor"]
    assert _changes(api, id=execution_id, after=middle)["edges"] == everything[4:]
    walked, after = [], None
    while True:
        page = _changes(api, id=execution_id, first=2, after=after)
        walked += page["edges"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert walked == everything
    only = _changes(api, id=execution_id, f={"entities": ["EXECUTION"], "states": ["SUCCESS"]})
    assert [e["node"]["state"] for e in only["edges"]] == ["SUCCESS"]
    by_ns = _changes(api, f={"namespace": "streams.sc", "entities": ["EXECUTION"]})["edges"]
    assert {e["node"]["executionId"] for e in by_ns} == {execution_id}
    assert _changes(api, after="HEAD")["edges"] == []


def test_bad_stream_cursors(api: Server) -> None:
    log_cursor = base64.urlsafe_b64encode(b"lg:1").rstrip(b"=").decode()
    for cursor in ("garbage", log_cursor):
        body = api.gql(CHANGES, {"after": cursor})
        assert error_codes(body) == ["BAD_USER_INPUT"]
    body = api.gql(CHANGES, {"first": 101})
    assert error_codes(body) == ["BAD_USER_INPUT"]


def test_logs(api: Server) -> None:
    api.deploy("streams.logs")
    execution_id = api.run("streams.logs")
    page = api.data(LOGS, {"id": execution_id})["logs"]
    messages = [
        (e["node"]["taskId"], e["node"]["level"], e["node"]["message"]) for e in page["edges"]
    ]
    assert ("first", "INFO", "hello") in messages
    for edge in page["edges"]:
        assert _decode(edge["cursor"]) == f"lg:{edge['node']['sequence']}"
    infos = api.data(LOGS, {"id": execution_id, "min": "INFO"})["logs"]["edges"]
    assert all(e["node"]["level"] in ("INFO", "WARN", "ERROR") for e in infos)
    assert len(infos) < len(page["edges"])  # the Return task logs at DEBUG
    rest = api.data(LOGS, {"id": execution_id, "after": page["edges"][0]["cursor"]})["logs"]
    assert rest["edges"] == page["edges"][1:]
    first = api.data(LOGS, {"id": execution_id, "first": 1})["logs"]
    assert first["pageInfo"]["hasNextPage"] is True and len(first["edges"]) == 1


def test_execution_stats(api: Server) -> None:
    api.deploy("streams.stats")
    for _ in range(4):
        api.run("streams.stats")
    query = """query($f: ExecutionFilter) { executionStats(filter: $f, bucket: "PT1H") {
      buckets { start total counts { state count } } ended p50 p90 p99 max } }"""
    stats = api.data(query, {"f": {"namespace": "streams.stats"}})["executionStats"]
    assert sum(b["total"] for b in stats["buckets"]) == 4
    assert stats["ended"] == 4
    assert all(b["start"].endswith(":00:00.000000Z") for b in stats["buckets"])
    assert {c["state"] for b in stats["buckets"] for c in b["counts"]} == {"SUCCESS"}
    assert stats["p50"].startswith("PT") and stats["max"].startswith("PT")
    body = api.gql('{ executionStats(bucket: "PT0.5S") { ended } }')
    assert error_codes(body) == ["BAD_USER_INPUT"]


PAUSING = """id: waits
namespace: streams.paused
tasks:
  - id: hold
    type: io.kestra.plugin.core.flow.Pause
"""


def test_execution_stats_do_not_count_a_paused_execution_as_ended(api: Server) -> None:
    """A PAUSED execution has an `endDate` (Kestra's rule), but it has not ended: the time it
    ran until its pause is not a duration of the flow (the dashboard showed a paused approval
    as "1 ended, p50 58ms")."""
    api.deploy("streams.paused", source=PAUSING)
    paused = api.create("streams.paused", "waits")
    deadline = time.monotonic() + 30
    while api.data("query($id: ID!) { execution(id: $id) { state { current } } }",
                   {"id": paused})["execution"]["state"]["current"] != "PAUSED":  # fmt: skip
        assert time.monotonic() < deadline, "never paused"
        time.sleep(0.02)
    query = """{ executionStats(filter: {namespace: "streams.paused"}, bucket: "PT1H") {
      buckets { total } ended p50 max } }"""
    stats = api.data(query)["executionStats"]
    assert sum(b["total"] for b in stats["buckets"]) == 1  # counted by state, as PAUSED
    assert stats["ended"] == 0 and stats["p50"] is None and stats["max"] is None, stats
