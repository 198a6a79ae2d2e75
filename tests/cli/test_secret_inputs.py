"""SECRET inputs through `tercel run`: masked in the `--json` document and in every log line,
available to expressions (semantics.md#more-input-types)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

TERCEL = [sys.executable, "-m", "tercel"]

FLOW = """id: secrets
namespace: cli.tests
inputs:
  - id: pw
    type: SECRET
  - id: color
    type: SELECT
    values: [red, green]
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "password is {{ inputs.pw }} ({{ inputs.pw | length }} chars), {{ inputs.color }}"
  - id: shell
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - echo "from the shell {{ inputs.pw }}"
  - id: upper
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.pw | upper }}"
"""


def _run(tmp_path: Path, *inputs: str) -> subprocess.CompletedProcess[str]:
    flow = tmp_path / "secrets.yaml"
    flow.write_text(FLOW)
    given = [part for value in inputs for part in ("--input", value)]
    return subprocess.run(
        [*TERCEL, "run", str(flow), *given, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_secret_is_masked_in_the_document_and_the_logs(tmp_path: Path) -> None:
    done = _run(tmp_path, "pw=hunter2", "color=red")
    assert done.returncode == 0, done.stderr
    execution = json.loads(done.stdout)
    assert execution["inputs"] == {"pw": "******", "color": "red"}
    assert "hunter2" not in done.stdout
    assert "hunter2" not in done.stderr
    assert "password is ****** (7 chars), red" in done.stderr
    assert "from the shell ******" in done.stderr
    upper = next(run for run in execution["taskRunList"] if run["taskId"] == "upper")
    assert upper["outputs"] == {"value": "HUNTER2"}  # outputs are not masked (as Kestra)


def test_a_select_value_outside_values_is_refused_with_exit_2(tmp_path: Path) -> None:
    done = _run(tmp_path, "pw=x", "color=blue")
    assert done.returncode == 2
    assert (
        "Invalid input for `color`, it must match the values `[red, green]`, but received `blue`"
        in done.stderr
    )
