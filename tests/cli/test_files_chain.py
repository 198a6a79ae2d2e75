"""`read()` up the whole parent chain: a Subflow's child reads its grandparent's file, through
`tercel run` (docs/semantics.md#files)."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_files import COMMANDS, _flow, _run

TOP = f"""id: top
namespace: company
tasks:
  - id: produce
    type: {COMMANDS}
    outputFiles: ["out.txt"]
    commands:
      - printf 'from the grandparent' > out.txt
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: company.team
    flowId: middle
    inputs:
      uri: "{{{{ outputs.produce.outputFiles['out.txt'] }}}}"
"""

MIDDLE = """id: middle
namespace: company.team
inputs:
  - id: uri
    type: STRING
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: company.team
    flowId: leaf
    inputs:
      uri: "{{ inputs.uri }}"
"""

LEAF = """id: leaf
namespace: company.team
inputs:
  - id: uri
    type: STRING
tasks:
  - id: text
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read(inputs.uri) }}"
  - id: check
    type: io.kestra.plugin.core.execution.Fail
    runIf: "{{ outputs.text.value != 'from the grandparent' }}"
"""


def test_a_grandchild_reads_its_grandparents_file(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "middle.yaml").write_text(MIDDLE)
    (flows / "leaf.yaml").write_text(LEAF)
    done, execution = _run(
        _flow(tmp_path, TOP), "--db", str(tmp_path / "t.db"), "--flows", str(flows)
    )
    assert done.returncode == 0, done.stderr
    assert execution["state"]["current"] == "SUCCESS"
