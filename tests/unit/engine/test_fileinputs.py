"""FILE inputs and who may read which file: uploads, the namespace rule, scopes, `read()`
(docs/semantics.md#files)."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tercel.engine import faults, filereach, model, states
from tercel.engine import files as uris
from tercel.engine.flows import fileinputs, inputs, loader
from tercel.engine.run import creation
from tercel.storage.files import LocalFiles

FLOW = loader.load_flow(
    """id: f
namespace: company.team
inputs:
  - id: data
    type: FILE
  - id: note
    type: STRING
    required: false
tasks:
  - id: gate
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: proof
        type: FILE
  - id: done
    type: io.kestra.plugin.core.log.Log
    message: done
"""
)
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _upload(name: str, content: bytes = b"x", filename: str = "a.csv") -> fileinputs.Upload:
    return fileinputs.Upload(name, filename, io.BytesIO(content))


def test_uploads_for_what_is_not_a_file_input_or_twice_are_refused() -> None:
    found = fileinputs.upload_problems(
        FLOW.inputs, [_upload("note"), _upload("nope"), _upload("data"), _upload("data")]
    )
    assert [issue.message for issue in found] == [
        "Invalid file for `note`: the flow has a STRING input `note`, not a FILE input",
        "Invalid file for `nope`: the flow declares no input `nope`, not a FILE input",
        "Invalid file for `data`: given twice",
    ]


def test_store_then_drop(tmp_path: Path) -> None:
    storage = LocalFiles(str(tmp_path))
    stored = asyncio.run(fileinputs.store(storage, FLOW, "E1", [_upload("data", b"rows")]))
    assert stored == {"data": "kestra:///company/team/f/executions/E1/inputs/data/a.csv"}
    prefix = uris.execution_prefix("company.team", "f", "E1")
    assert list(storage.under(prefix)) == list(stored.values())
    refused = asyncio.run(fileinputs.store(storage, FLOW, "E2", [_upload("note")]))
    assert isinstance(refused, list) and len(refused) == 1
    asyncio.run(fileinputs.drop(storage, FLOW, "E1", any_stored=bool(stored)))
    assert list(storage.under(prefix)) == []


def test_a_storage_that_cannot_be_written_raises_files_trouble(tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("not a folder")
    with pytest.raises(faults.FilesTrouble, match="cannot store an input file"):
        asyncio.run(fileinputs.store(LocalFiles(str(blocked)), FLOW, "E1", [_upload("data")]))


@pytest.mark.parametrize(
    ("uri", "fits"),
    [
        ("kestra:///company/team/f/executions/E/inputs/data/a", True),
        ("kestra:///company/other/executions/E/tasks/t/r/a", True),  # parent namespace `company`
        ("kestra:///company/team/sub/f/executions/E/inputs/x/a", False),  # a child namespace
        ("kestra:///other/team/f/executions/E/inputs/x/a", False),
        ("kestra:///company/team/f/notexecutions/E/x/y", False),
        ("kestra:///company/team/f/executions/E", False),
    ],
)
def test_a_file_uri_must_belong_to_the_namespace_or_a_parent(uri: str, fits: bool) -> None:
    problems = fileinputs.namespace_problems(FLOW.inputs, {"data": uri}, "company.team")
    assert (problems == []) is fits
    resolved = inputs.resolve(FLOW.inputs, {"data": uri}, namespace="company.team")
    assert resolved.valid is fits


def test_a_namespace_file_given_as_a_file_input_says_how_to_use_it() -> None:
    """Its namespace is the flow's own, so "must belong to namespace `company.team`" alone
    read as a contradiction."""
    uri = "kestra:///company/team/_files/data.csv"
    [problem] = fileinputs.namespace_problems(FLOW.inputs, {"data": uri}, "company.team")
    assert problem.message.endswith(
        f"but received `{uri}` (a namespace file is no execution's file: read it in an"
        " expression with `read('path')`, or upload it as the input)"
    )


def test_a_value_that_is_not_a_uri_is_left_to_the_type_check() -> None:
    assert fileinputs.namespace_problems(FLOW.inputs, {"data": "/etc/passwd"}, "x") == []
    resolved = inputs.resolve(FLOW.inputs, {"data": "/etc/passwd"}, namespace="company.team")
    assert [issue.message for issue in resolved.issues] == [
        "Invalid input for `data`, expected FILE (a kestra:/// URI), but received `/etc/passwd`"
    ]


def _execution(values: dict[str, object] | None = None) -> model.Execution:
    return creation.new_execution(FLOW, values, [], NOW).ex


def test_a_resume_stores_the_files_of_the_waiting_pause(tmp_path: Path) -> None:
    storage = LocalFiles(str(tmp_path))
    ex = _execution()
    assert fileinputs.paused_inputs(FLOW, ex) == ()
    paused = states.State.new(states.StateType.PAUSED, NOW)
    ex.task_runs.append(model.TaskRun("R1", ex.id, ex.namespace, ex.flow_id, "gate", paused, 0))
    assert [d.id for d in fileinputs.paused_inputs(FLOW, ex)] == ["proof"]
    values = asyncio.run(fileinputs.for_resume(storage, FLOW, ex, {}, [_upload("proof")]))
    assert values == {"proof": uris.input_uri("company.team", "f", ex.id, "proof", "a.csv")}
    stolen = {"proof": "kestra:///other/f/executions/E/inputs/proof/a"}
    refused = asyncio.run(fileinputs.for_resume(storage, FLOW, ex, stolen, []))
    assert isinstance(refused, list) and "namespace `company.team`" in refused[0].message


def test_scopes_are_the_execution_its_subflow_parent_and_its_namespaces() -> None:
    ex = _execution()
    own = uris.execution_prefix("company.team", "f", ex.id)
    spaces = (("company", "team", "_files"), ("company", "_files"))
    assert filereach.scopes_of(ex) == (own, *spaces)
    ex.trigger = {
        "id": "call",
        "type": "io.kestra.plugin.core.flow.Subflow",
        "variables": {"executionId": "P1", "namespace": "company", "flowId": "parent"},
    }
    parent = ("company", "parent", "executions", "P1")
    assert filereach.scopes_of(ex) == (own, parent, *spaces)
    ex.trigger = {"id": "w", "type": "io.kestra.plugin.core.trigger.Webhook", "variables": {}}
    assert filereach.scopes_of(ex) == (own, *spaces)
    ex.trigger = {"id": "c", "type": "io.kestra.plugin.core.flow.Subflow", "variables": {}}
    assert filereach.scopes_of(ex) == (own, *spaces)


def test_only_file_inputs_grant_a_uri() -> None:
    uri = "kestra:///company/x/executions/E/tasks/t/r/a"
    assert filereach.file_inputs(FLOW.inputs, {"data": uri, "note": uri + "2"}) == {uri}
    assert filereach.file_inputs(FLOW.inputs, None) == frozenset()


def test_read_returns_text_under_its_cap(tmp_path: Path) -> None:
    storage = LocalFiles(str(tmp_path))
    ex = _execution()
    reader = filereach.Reader.of(storage, ex, FLOW.inputs)
    small = uris.task_uri("company.team", "f", ex.id, "t", "r", "small.txt")
    storage.put(small, io.BytesIO("héllo".encode()))
    assert reader(small) == "héllo"
    big = uris.task_uri("company.team", "f", ex.id, "t", "r", "big.txt")
    storage.put(big, io.BytesIO(b"x" * (filereach.READ_LIMIT + 1)))
    with pytest.raises(ValueError, match="is larger than 1048576 bytes"):
        reader(big)
    binary = uris.task_uri("company.team", "f", ex.id, "t", "r", "bin")
    storage.put(binary, io.BytesIO(b"\xff\xfe"))
    with pytest.raises(ValueError, match=r"is not UTF-8 text \(byte 0\)"):
        reader(binary)
    with pytest.raises(uris.FileRefused, match="not a file of this execution"):
        reader("kestra:///company/team/f/executions/OTHER/tasks/t/r/small.txt")


def test_delete_all_reports_a_folder_it_cannot_remove(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    storage = LocalFiles(str(tmp_path / "files"))
    storage.put(uris.task_uri("a", "f", "E1", "t", "r", "x"), io.BytesIO(b"x"))
    (tmp_path / "files/a/f/executions/E2").symlink_to(tmp_path)
    assert uris.delete_all(storage, [("a", "f", "E1"), ("a", "f", "E2")]) == 1
    assert "files of execution E2 not removed" in capsys.readouterr().err
