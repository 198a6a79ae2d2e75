"""`read()` as Kestra's ReadFileFunctionTest has it (readNamespaceFile,
readUnknownNamespaceFile, readInternalStorageFile, readInternalStorageURI,
readUnauthorizedInternalStorageFile), then what Tercel adds: the whole parent chain, parent
namespaces (docs/semantics.md#files), over real files."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tercel import ids
from tercel.engine import expressions, filereach, model, namespacefiles, states
from tercel.engine import files as uris
from tercel.storage.files import LocalFiles

SUBFLOW = "io.kestra.plugin.core.flow.Subflow"


def _execution(
    namespace: str,
    flow_id: str,
    execution_id: str | None = None,
    trigger: dict[str, Any] | None = None,
    chain: list[list[str]] | None = None,
) -> model.Execution:
    now = states.State.new(states.StateType.RUNNING, datetime(2026, 1, 1, tzinfo=UTC))
    variables = {} if chain is None else {filereach.ANCESTORS: chain}
    return model.Execution(
        id=execution_id or ids.new_id(),
        namespace=namespace,
        flow_id=flow_id,
        flow_revision=1,
        state=now,
        trigger=trigger,
        variables=variables,
    )


def _render(storage: LocalFiles, ex: model.Execution, text: str, **extra: Any) -> Any:
    context = {
        "flow": {"id": ex.flow_id, "namespace": ex.namespace},
        "execution": {"id": ex.id},
        "__readFile": filereach.Reader.of(storage, ex, ()),
        **extra,
    }
    return expressions.render(text, context)


def _task_file(storage: LocalFiles, namespace: str, flow_id: str, execution_id: str) -> str:
    uri = uris.task_uri(namespace, flow_id, execution_id, "task", ids.new_id(), "123456.ion")
    storage.put(uri, io.BytesIO(b"Hello from a task output"))
    return uri


def _execution_trigger(namespace: str, flow_id: str, execution_id: str) -> dict[str, Any]:
    variables = {"flowId": flow_id, "namespace": namespace, "executionId": execution_id}
    return {"id": "call", "type": SUBFLOW, "variables": variables}


@pytest.fixture
def storage(tmp_path: Path) -> LocalFiles:
    return LocalFiles(str(tmp_path / "files"))


def test_read_namespace_file(storage: LocalFiles) -> None:
    namespace = "io.kestra.tests"
    storage.put(
        namespacefiles.file_uri(namespace, "file.txt"),
        io.BytesIO(b"Hello from {{ flow.namespace }}"),
    )
    ex = _execution(namespace, "flow")
    assert _render(storage, ex, "{{ render(read('file.txt')) }}") == "Hello from " + namespace


def test_read_unknown_namespace_file(storage: LocalFiles) -> None:
    ex = _execution("io.kestra.tests", "flow")
    with pytest.raises(expressions.ExpressionError, match="does not exist"):
        _render(storage, ex, "{{ read('unknown.txt') }}")


@pytest.mark.parametrize("form", ["{{ read('URI') }}", "{{ read(file) }}"])
def test_read_internal_storage_file_and_uri(storage: LocalFiles, form: str) -> None:
    execution_id = ids.new_id()
    uri = _task_file(storage, "my.namespace", "flow", execution_id)
    text = form.replace("URI", uri)
    own = _execution("my.namespace", "flow", execution_id)
    assert _render(storage, own, text, file=uri) == "Hello from a task output"
    child = _execution(
        "my.namespace", "subflow", trigger=_execution_trigger("my.namespace", "flow", execution_id)
    )
    assert _render(storage, child, text, file=uri) == "Hello from a task output"


def test_read_unauthorized_internal_storage_file(storage: LocalFiles) -> None:
    uri = _task_file(storage, "my.namespace", "flow", ids.new_id())
    strangers = [
        _execution("notme", "notme", "notme"),
        _execution("notme", "notme", "notme", _execution_trigger("notme", "notme", "notme")),
        _execution(
            "notme", "notme", "notme", {"id": "s", "type": SUBFLOW, "variables": {"date": "d"}}
        ),
    ]
    for ex in strangers:
        with pytest.raises(expressions.ExpressionError, match="is not a file of this execution"):
            _render(storage, ex, "{{ read('" + uri + "') }}")


def test_read_reaches_every_execution_up_the_parent_chain(storage: LocalFiles) -> None:
    grandparent = _task_file(storage, "company", "top", "G1")
    parent = _task_file(storage, "company.team", "middle", "P1")
    elsewhere = _task_file(storage, "company", "top", "G2")
    chain = [["company.team", "middle", "P1"], ["company", "top", "G1"]]
    child = _execution("company.team.a", "leaf", trigger=_execution_trigger(*chain[0]), chain=chain)
    for uri in (grandparent, parent):
        assert _render(storage, child, "{{ read('" + uri + "') }}") == "Hello from a task output"
    with pytest.raises(expressions.ExpressionError, match="is not a file of this execution"):
        _render(storage, child, "{{ read('" + elsewhere + "') }}")


def test_a_child_records_its_parents_chain() -> None:
    grandparent = _execution("company", "top", "G1")
    parent = _execution(
        "company.team",
        "middle",
        "P1",
        _execution_trigger("company", "top", "G1"),
        filereach.ancestors_for_child(grandparent),
    )
    assert filereach.ancestors_for_child(parent) == [
        ["company.team", "middle", "P1"],
        ["company", "top", "G1"],
    ]


def test_namespace_files_of_the_namespace_and_its_parents_only(storage: LocalFiles) -> None:
    for namespace in ("company", "company.team", "company.team.a", "company.other"):
        storage.put(
            namespacefiles.file_uri(namespace, "/conf/name.txt"), io.BytesIO(namespace.encode())
        )
    ex = _execution("company.team", "flow")
    assert _render(storage, ex, "{{ read('conf/name.txt') }}") == "company.team"
    assert _render(storage, ex, "{{ read('/conf/name.txt') }}") == "company.team"
    parent = "{{ read('conf/name.txt', namespace='company') }}"
    assert _render(storage, ex, parent) == "company"
    assert _render(storage, ex, "{{ read('kestra:///company/_files/conf/name.txt') }}") == "company"
    for namespace in ("company.other", "company.team.a", "comp"):
        with pytest.raises(expressions.ExpressionError, match="nor a parent of it"):
            _render(storage, ex, "{{ read('conf/name.txt', namespace='" + namespace + "') }}")
    for uri in (
        "kestra:///company/other/_files/conf/name.txt",
        "kestra:///company/team/a/_files/conf/name.txt",
    ):
        with pytest.raises(expressions.ExpressionError, match="is not a file of this execution"):
            _render(storage, ex, "{{ read('" + uri + "') }}")


@pytest.mark.parametrize(
    "path",
    [
        "../other/_files/conf/name.txt",
        "conf/../../x",
        "./conf/name.txt",
        "conf//name.txt",
        "conf/name.txt/",
        "conf\\name.txt",
        "/",
        "",
    ],
)
def test_namespace_file_path_tricks_are_refused(storage: LocalFiles, path: str) -> None:
    storage.put(namespacefiles.file_uri("company", "conf/name.txt"), io.BytesIO(b"x"))
    ex = _execution("company.team", "flow")
    with pytest.raises(expressions.ExpressionError, match="read"):
        _render(storage, ex, "{{ read(p, namespace='company') }}", p=path)
