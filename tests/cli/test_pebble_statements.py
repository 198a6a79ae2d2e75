"""Pebble statements end to end through `tercel run`: Kestra's own `errors.yaml` test flow (0.21
line, core/src/test/resources/flows/valids/) with the assertions of Kestra's
`JdbcRunnerTest.errors`, and a flow using `{% for %}`, `{% if %}`, `{% set %}` and `loop`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

TERCEL = [sys.executable, "-m", "tercel"]
KESTRA_ERRORS = Path(__file__).parent.parent / "fixtures" / "kestra" / "errors.yaml"

STATEMENTS = """id: statements
namespace: cli.tests
variables:
  people: {ada: 36, bob: 17}
tasks:
  - id: table
    type: io.kestra.plugin.core.debug.Return
    format: >-
      {% set adult_age = 18 %}{%- for entry in vars.people -%}
      {{ loop.index }}/{{ loop.length }} {{ entry.key }}
      {%- if entry.value >= adult_age %} adult{% elseif entry.value >= 13 %} teen
      {%- else %} child{% endif %}
      {%- if not loop.last %}; {% endif -%}
      {%- endfor %}
  - id: nested
    type: io.kestra.plugin.core.debug.Return
    format: "{% for i in range(1, 1000) %}{% for j in range(1, 1000) %}x{% endfor %}{% endfor %}"
"""


def _run(path: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    done = subprocess.run(
        [*TERCEL, "run", str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done, json.loads(done.stdout)


def _log_messages(stderr: str, task_id: str) -> list[str]:
    pattern = re.compile(r"^\S+ (?:INFO|ERROR|WARN|DEBUG|TRACE)\s+" + re.escape(task_id) + " (.*)$")
    return [match.group(1) for line in stderr.splitlines() if (match := pattern.match(line))]


def test_kestra_errors_flow_logs_the_error_logs_with_a_for_loop() -> None:
    done, execution = _run(KESTRA_ERRORS)
    assert done.returncode == 1, done.stderr
    assert execution["state"]["current"] == "FAILED"
    assert len(execution["taskRunList"]) == 7  # Kestra: hasSize(7)
    assert _log_messages(done.stderr, "t2") == ["- task: failed, message: Task failure"]


def test_statements_flow_renders_and_bounds_its_loops(tmp_path: Path) -> None:
    flow = tmp_path / "statements.yaml"
    flow.write_text(STATEMENTS, encoding="utf-8")
    done, execution = _run(flow)
    assert done.returncode == 1, done.stderr
    runs = {run["taskId"]: run for run in execution["taskRunList"]}
    table = runs["table"]
    assert table["state"]["current"] == "SUCCESS"
    assert table["outputs"]["value"] == "0/2 ada adult; 1/2 bob teen"
    assert runs["nested"]["state"]["current"] == "FAILED"
    errors = _log_messages(done.stderr, "nested")
    assert any("Loops ran more than 10000 iterations in one render" in m for m in errors), errors
