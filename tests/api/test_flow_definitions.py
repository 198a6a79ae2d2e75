"""A flow's declared inputs and outputs as the `Flow` type answers them: every duration and date
as its ISO-8601 text, the descriptions kept, nothing a JSON client cannot read."""

from __future__ import annotations

from tests.api.conftest import Server

DECLARED = """\
id: declared
namespace: flows.declared
inputs:
  - id: when
    type: DATETIME
    after: 2024-01-01T00:00:00Z
    before: "2030-01-01T02:00:00+02:00"
    required: false
  - id: wait
    type: DURATION
    min: PT1S
    max: pt1h
    defaults: PT1M30S
  - id: payload
    type: JSON
    defaults: {day: 2024-05-01}
  - id: items
    type: ARRAY
    itemType: INT
    defaults: [1, 2]
tasks:
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.wait }}"
outputs:
  - id: final
    type: STRING
    value: "{{ outputs.ret.value }}"
    description: what ret answered
  - id: bare
    type: INT
    value: 1
"""


def test_inputs_and_outputs_answer_iso_text(api: Server) -> None:
    api.deploy("flows.declared", "declared", DECLARED)
    flow = api.data('{ flow(namespace: "flows.declared", id: "declared") { inputs outputs } }')
    assert flow["flow"]["inputs"] == [
        {
            "id": "when",
            "type": "DATETIME",
            "required": False,
            "defaults": None,
            "after": "2024-01-01T00:00:00.000000Z",
            "before": "2030-01-01T00:00:00.000000Z",  # in UTC
        },
        {
            "id": "wait",
            "type": "DURATION",
            "required": True,
            "defaults": "PT1M30S",
            "min": "PT1S",
            "max": "PT1H",
        },
        {"id": "payload", "type": "JSON", "required": True, "defaults": {"day": "2024-05-01"}},
        {"id": "items", "type": "ARRAY", "required": True, "defaults": [1, 2], "itemType": "INT"},
    ]
    assert flow["flow"]["outputs"] == [
        {
            "id": "final",
            "type": "STRING",
            "value": "{{ outputs.ret.value }}",
            "description": "what ret answered",
        },
        {"id": "bare", "type": "INT", "value": 1},
    ]
