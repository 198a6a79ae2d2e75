from __future__ import annotations

from tests.api.conftest import Server


def test_health_and_roundtrip(api: Server) -> None:
    assert api.client.get(api.url + "/health").status_code == 200
    api.deploy("smoke.ns")
    execution_id = api.run("smoke.ns")
    found = api.data(
        "query($id: ID!) { execution(id: $id) { id state { current } taskRunList { taskId } } }",
        {"id": execution_id},
    )
    assert found["execution"]["state"]["current"] == "SUCCESS"
