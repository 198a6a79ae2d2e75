"""`execution(id)` with every field selected is the contract's execution document."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Server
from tests.api.documents import EXECUTION_QUERY

from tercel.engine import model
from tercel.engine.run import document
from tercel.storage import reader, sqlite


def _stored(db_path: str, execution_id: str) -> model.Execution:
    conn = sqlite.connect(db_path, readonly=True)
    try:
        return reader.load_executions(conn, [execution_id]).executions[0]
    finally:
        conn.close()


def test_execution_equals_document(api: Server) -> None:
    api.deploy("doc.equal")
    execution_id = api.run("doc.equal", labels=[{"key": "who", "value": "test"}])
    found: dict[str, Any] = api.data(EXECUTION_QUERY, {"id": execution_id})["execution"]
    services = api.app.state.services
    expected = document.execution_document(_stored(services.settings.db_path, execution_id))
    assert found == expected
    assert found["state"]["current"] == "SUCCESS"
    assert [run["taskId"] for run in found["taskRunList"]] == ["first", "ret"]
    metrics = found["taskRunList"][1]["attempts"][0]["metrics"]
    assert [m["type"] for m in metrics] == ["COUNTER", "TIMER"]
    assert found["taskRunList"][1]["outputs"] == {"value": "world"}


def test_unknown_execution_is_null(api: Server) -> None:
    assert api.data(EXECUTION_QUERY, {"id": "nope"}) == {"execution": None}
