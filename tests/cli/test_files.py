"""Internal storage through `tercel run` and real shell subprocesses: Commands `inputFiles` and
`outputFiles`, `{{ workingDir }}` / `{{ outputDir }}`, where the files live, what a task may
not read (docs/semantics.md#files)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

TERCEL = [sys.executable, "-m", "tercel"]
COMMANDS = "io.kestra.plugin.scripts.shell.Commands"

PRODUCE_CONSUME = f"""id: files
namespace: company.team
tasks:
  - id: produce
    type: {COMMANDS}
    inputFiles:
      in.txt: "hello {{{{ execution.id }}}}"
      sub/data.json: "{{{{ flow.id }}}}"
    outputFiles: ["*.txt", "sub/*.json"]
    commands:
      - tr a-z A-Z < in.txt > out.txt
      - echo extra > {{{{ outputDir }}}}/extra.log
      - echo "dir={{{{ workingDir }}}}"
      - pwd
  - id: consume
    type: {COMMANDS}
    inputFiles:
      copy.txt: "{{{{ outputs.produce.outputFiles['out.txt'] }}}}"
    commands:
      - cat copy.txt
"""


def _run(flow: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    done = subprocess.run(
        [*TERCEL, "run", str(flow), "--json", *extra],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done, json.loads(done.stdout) if done.stdout else {}


def _logs(stderr: str, task_id: str) -> list[str]:
    pattern = re.compile(r"^\S+ (?:INFO|ERROR|WARN)\s+" + re.escape(task_id) + " (.*)$")
    return [match.group(1) for line in stderr.splitlines() if (match := pattern.match(line))]


def _flow(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "flow.yaml"
    path.write_text(text)
    return path


def _outputs(execution: dict[str, Any], task_id: str) -> dict[str, Any]:
    (run,) = [run for run in execution["taskRunList"] if run["taskId"] == task_id]
    outputs: dict[str, Any] = run["outputs"]
    return outputs


def test_output_files_are_stored_beside_the_database_and_read_by_the_next_task(
    tmp_path: Path,
) -> None:
    done, execution = _run(_flow(tmp_path, PRODUCE_CONSUME), "--db", str(tmp_path / "t.db"))
    assert done.returncode == 0, done.stderr
    ex_id = execution["id"]
    assert _logs(done.stderr, "consume") == [f"HELLO {ex_id.upper()}"]
    produced = _outputs(execution, "produce")["outputFiles"]
    assert sorted(produced) == ["extra.log", "in.txt", "out.txt", "sub/data.json"]
    (run_id,) = [r["id"] for r in execution["taskRunList"] if r["taskId"] == "produce"]
    prefix = f"kestra:///company/team/files/executions/{ex_id}/tasks/produce/{run_id}/"
    assert produced["out.txt"] == prefix + "out.txt"
    assert produced["sub/data.json"] == prefix + "sub/data.json"
    stored = tmp_path / "t.db.files" / produced["out.txt"].removeprefix("kestra:///")
    assert stored.read_text() == f"HELLO {ex_id.upper()}"
    stored_json = tmp_path / "t.db.files" / produced["sub/data.json"].removeprefix("kestra:///")
    assert stored_json.read_text() == "files"
    assert "outputFiles" not in _outputs(execution, "consume")
    directory_line, pwd = _logs(done.stderr, "produce")
    assert directory_line == f"dir={pwd}"
    assert Path(pwd).name == "work" and not Path(pwd).parent.exists()
    assert "throw-away" not in done.stderr


def test_storage_option_moves_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "elsewhere"
    done, execution = _run(
        _flow(tmp_path, PRODUCE_CONSUME), "--db", str(tmp_path / "t.db"), "--storage", str(folder)
    )
    assert done.returncode == 0, done.stderr
    uri = _outputs(execution, "produce")["outputFiles"]["out.txt"]
    assert (folder / uri.removeprefix("kestra:///")).is_file()
    assert not (tmp_path / "t.db.files").exists()


def test_without_db_the_files_go_with_the_throw_away_database_and_it_says_so(
    tmp_path: Path,
) -> None:
    done, _ = _run(_flow(tmp_path, PRODUCE_CONSUME))
    assert done.returncode == 0, done.stderr
    assert "the execution's 4 file(s) go with the throw-away database" in done.stderr


def test_an_input_file_name_that_leaves_the_working_directory_fails_the_attempt(
    tmp_path: Path,
) -> None:
    for name in ("../escape.txt", "/tmp/abs.txt", "a/../../b.txt"):
        flow = f"""id: escape
namespace: company.team
tasks:
  - id: sh
    type: {COMMANDS}
    inputFiles:
      "{name}": boom
    commands: ["true"]
"""
        done, execution = _run(_flow(tmp_path, flow))
        assert done.returncode == 1
        assert execution["state"]["current"] == "FAILED"
        assert _logs(done.stderr, "sh") == [
            f"inputFiles `{name}`: a file name must be a relative path inside the working "
            "directory (no `..`, no leading `/`)"
        ]
    assert not (tmp_path.parent / "escape.txt").exists()


def test_an_input_file_the_working_directory_cannot_hold_fails_naming_it(tmp_path: Path) -> None:
    long = "y" * 300
    for given, name in (({long: "x"}, long), ({"a": "x", "a/b": "y"}, "a/b")):
        entries = "\n".join(f'      "{key}": {value}' for key, value in given.items())
        flow = f"""id: unholdable
namespace: company.team
tasks:
  - id: sh
    type: {COMMANDS}
    inputFiles:
{entries}
    commands: ["true"]
"""
        done, execution = _run(_flow(tmp_path, flow))
        assert execution["state"]["current"] == "FAILED", done.stderr
        (line,) = _logs(done.stderr, "sh")
        assert line.startswith(f"inputFiles `{name}`: cannot write it: "), line  # was errno text


def test_an_output_glob_that_leaves_the_working_directory_fails_the_attempt(
    tmp_path: Path,
) -> None:
    flow = f"""id: escape
namespace: company.team
tasks:
  - id: sh
    type: {COMMANDS}
    outputFiles: ["../*"]
    commands: ["true"]
"""
    done, execution = _run(_flow(tmp_path, flow))
    assert execution["state"]["current"] == "FAILED"
    assert "outputFiles `../*`: a file name must be a relative path" in done.stderr


def test_a_file_of_another_execution_is_refused(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    _, first = _run(_flow(tmp_path, PRODUCE_CONSUME), "--db", db)
    other = _outputs(first, "produce")["outputFiles"]["out.txt"]
    tricks = [
        other,
        other.replace("/executions/", "/executions/x/../"),
        other.replace("/tasks/", "/tasks%2F..%2F"),
        "kestra:///company/team/files/executions/../../../../etc/passwd",
    ]
    for uri in tricks:
        flow = f"""id: files
namespace: company.team
tasks:
  - id: sh
    type: {COMMANDS}
    inputFiles:
      stolen.txt: "{uri}"
    commands: ["cat stolen.txt"]
"""
        done, execution = _run(_flow(tmp_path, flow), "--db", db)
        assert execution["state"]["current"] == "FAILED", uri
        (line,) = _logs(done.stderr, "sh")
        assert line.startswith("inputFiles `stolen.txt`: `"), line
        assert "not a file of this execution" in line or "invalid path segment" in line, line


FILE_INPUT = f"""id: fileinput
namespace: company.team
inputs:
  - id: data
    type: FILE
tasks:
  - id: show
    type: {COMMANDS}
    inputFiles:
      data.csv: "{{{{ inputs.data }}}}"
    commands:
      - cat data.csv
"""


def test_a_file_input_is_given_by_its_path(tmp_path: Path) -> None:
    local = tmp_path / "my rows.csv"
    local.write_bytes(b"a,b\n1,2\n")
    db = str(tmp_path / "t.db")
    done, execution = _run(_flow(tmp_path, FILE_INPUT), "--db", db, "--input", f"data={local}")
    assert done.returncode == 0, done.stderr
    uri = execution["inputs"]["data"]
    assert uri == (
        f"kestra:///company/team/fileinput/executions/{execution['id']}/inputs/data/my%20rows.csv"
    )
    assert _logs(done.stderr, "show") == ["a,b", "1,2"]
    stored = tmp_path / "t.db.files/company/team/fileinput/executions" / execution["id"]
    assert (stored / "inputs/data/my rows.csv").read_bytes() == b"a,b\n1,2\n"


def test_a_file_input_that_cannot_be_read_is_a_usage_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    done, execution = _run(_flow(tmp_path, FILE_INPUT), "--input", f"data={missing}")
    assert done.returncode == 2 and execution == {}
    assert done.stderr.strip() == (
        f"tercel run: --input data: cannot read `{missing}`: No such file or directory"
    )


READ = f"""id: reader
namespace: company.team
inputs:
  - id: data
    type: FILE
  - id: other
    type: STRING
    required: false
tasks:
  - id: produce
    type: {COMMANDS}
    outputFiles: ["out.txt"]
    commands:
      - printf 'made here' > out.txt
  - id: both
    type: {COMMANDS}
    commands:
      - echo "{{{{ read(inputs.data) }}}} / {{{{ read(outputs.produce.outputFiles['out.txt']) }}}}"
  - id: stolen
    type: {COMMANDS}
    runIf: "{{{{ inputs.other is not null }}}}"
    commands:
      - echo "{{{{ read(inputs.other) }}}}"
"""


def test_read_returns_the_text_of_the_executions_files(tmp_path: Path) -> None:
    local = tmp_path / "in.txt"
    local.write_text("given")
    db = str(tmp_path / "t.db")
    done, execution = _run(_flow(tmp_path, READ), "--db", db, "--input", f"data={local}")
    assert done.returncode == 0, done.stderr
    assert _logs(done.stderr, "both") == ["given / made here"]
    first = _outputs(execution, "produce")["outputFiles"]["out.txt"]
    for uri in (first, first.replace("/executions/", "/executions/x/../"), "/etc/passwd"):
        done, execution = _run(
            _flow(tmp_path, READ), "--db", db, "--input", f"data={local}", "--input", f"other={uri}"
        )
        assert execution["state"]["current"] == "FAILED", uri
        (line,) = _logs(done.stderr, "stolen")
        assert line.startswith("read(): `"), line
        assert (
            "not a file of this execution" in line
            or "is not an internal-storage URI" in line
            or "invalid path segment" in line
            # a path without scheme is a namespace file, as in Kestra: never /etc/passwd
            or "`kestra:///company/team/_files/etc/passwd` does not exist" in line
        )


CHILD = FILE_INPUT.replace("id: fileinput", "id: child", 1)

PARENT = f"""id: parent
namespace: company.team
inputs:
  - id: other
    type: STRING
    required: false
tasks:
  - id: produce
    type: {COMMANDS}
    outputFiles: ["out.txt"]
    commands:
      - printf 'from the parent' > out.txt
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: company.team
    flowId: child
    inputs:
      data: "{{{{ inputs.other ?? outputs.produce.outputFiles['out.txt'] }}}}"
  - id: reads_parent
    type: io.kestra.plugin.core.flow.Subflow
    namespace: company.team
    flowId: reader
    inputs:
      uri: "{{{{ outputs.produce.outputFiles['out.txt'] }}}}"
"""

READER = """id: reader
namespace: company.team
inputs:
  - id: uri
    type: STRING
tasks:
  - id: text
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - test "{{ read(inputs.uri) }}" = "from the parent"
"""


def test_a_subflow_reads_its_parents_files_but_no_other_namespace(
    tmp_path: Path,
) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "child.yaml").write_text(CHILD)
    (flows / "reader.yaml").write_text(READER)
    parent = _flow(tmp_path, PARENT)
    db = str(tmp_path / "t.db")
    done, execution = _run(parent, "--db", db, "--flows", str(flows))
    assert done.returncode == 0, done.stderr
    stolen = "kestra:///other/team/flow/executions/E1/tasks/t/r/secret.txt"
    done, execution = _run(parent, "--db", db, "--flows", str(flows), "--input", f"other={stolen}")
    assert execution["state"]["current"] == "FAILED"
    assert (
        "Invalid input for `data`, the file must belong to namespace `company.team` or a parent "
        f"namespace, but received `{stolen}`"
    ) in done.stderr


# Kestra's test flow core/src/test/resources/flows/valids/restart_with_inputs.yaml (its FILE
# inputs), run black-box through `tercel run` with the inputs of Kestra's ExecutionControllerTest.
RESTART_WITH_INPUTS = """id: restart_with_inputs
namespace: io.kestra.tests
inputs:
  - id: string
    type: STRING
  - id: optional
    type: STRING
    required: false
  - id: int
    type: INT
  - id: float
    type: FLOAT
  - id: instant
    type: DATETIME
  - id: file
    type: FILE
  - id: optionalFile
    type: FILE
    required: false
tasks:
  - id: string
    type: io.kestra.plugin.core.debug.Return
    format: "{{inputs.string}}"
  - id: int
    type: io.kestra.plugin.core.debug.Return
    format: "{{inputs.int}}"
  - id: float
    type: io.kestra.plugin.core.debug.Return
    format: "{{inputs.float}}"
  - id: instant
    type: io.kestra.plugin.core.debug.Return
    format: "{{inputs.instant}}"
  - id: file
    type: io.kestra.plugin.core.debug.Return
    format: "{{inputs.file}}"
"""


def test_kestra_restart_with_inputs_takes_its_file_input(tmp_path: Path) -> None:
    local = tmp_path / "application.yml"
    local.write_text("kestra: {}\n")
    given = ["string=myString", "int=42", "float=42.42", "instant=2019-10-06T18:27:49Z"]
    arguments = [part for pair in given for part in ("--input", pair)]
    done, execution = _run(
        _flow(tmp_path, RESTART_WITH_INPUTS),
        "--db",
        str(tmp_path / "t.db"),
        *arguments,
        "--input",
        f"file={local}",
    )
    assert done.returncode == 0, done.stderr
    uri = _outputs(execution, "file")["value"]
    assert uri == execution["inputs"]["file"] and uri.startswith("kestra:///io/kestra/tests/")
    assert uri.endswith(f"/executions/{execution['id']}/inputs/file/application.yml")
    assert execution["inputs"]["optionalFile"] is None
    stored = tmp_path / "t.db.files" / uri.removeprefix("kestra:///")
    assert stored.read_text() == "kestra: {}\n"
