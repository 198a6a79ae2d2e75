"""`tercel run` and `tercel validate` with a flow's triggers: run ignores them and says so in
one stderr line; validate names a bad cron with file, line and column."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import run, write

SCHEDULED = """id: scheduled
namespace: cli.tests
tasks:
  - id: hello
    type: io.kestra.plugin.core.debug.Return
    format: hi
triggers:
  - id: every
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "*/1 * * * * *"
    withSeconds: true
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: cli-key-0123456789abc
"""


def test_run_ignores_triggers_and_says_so_once(tmp_path: Path) -> None:
    done = run("run", write(tmp_path, "scheduled.yaml", SCHEDULED), "--json")
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if "trigger" in line]
    assert said == ["tercel run: triggers ignored (every, hook): `tercel server` runs them"]
    doc = json.loads(done.stdout)
    assert doc["state"]["current"] == "SUCCESS"
    assert doc["trigger"] is None


def test_validate_names_a_bad_cron_with_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", SCHEDULED.replace('"*/1 * * * * *"', '"*/1 * * * *"'))
    done = run("validate", path)
    assert done.returncode == 2
    assert (
        f"{path}:10:11: triggers[0].cron: invalid cron `*/1 * * * *`: expected 6 fields, got 5"
        " (seconds first, as in Kestra)"
    ) in done.stderr
