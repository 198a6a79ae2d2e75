"""GraphQL documents shared by the API tests."""

from __future__ import annotations

import re
from pathlib import Path

STATE = "current histories { state date } startDate endDate duration"

EXECUTION = f"""
  id namespace flowId flowRevision
  state {{ {STATE} }}
  inputs outputs labels {{ key value }} parentId originalId
  taskRunList {{
    id executionId namespace flowId taskId parentTaskRunId value iteration
    state {{ {STATE} }}
    attempts {{ state {{ {STATE} }} metrics {{ name type value tags }} }}
    outputs
  }}
  metadata {{ attemptNumber originalCreatedDate }}
  trigger {{ id type variables }}
"""

EXECUTION_QUERY = f"query($id: ID!) {{ execution(id: $id) {{ {EXECUTION} }} }}"

EXECUTIONS_PAGE = f"""
query($filter: ExecutionFilter, $first: Int, $after: String, $orderBy: ExecutionOrder) {{
  executions(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {{
    edges {{ cursor node {{ {EXECUTION} }} }}
    pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
    totalCount
  }}
}}
"""

IDS_PAGE = """
query($filter: ExecutionFilter, $first: Int, $after: String, $orderBy: ExecutionOrder) {
  executions(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""

TASK_RUNS_PAGE = f"""
query($filter: TaskRunFilter, $first: Int, $after: String, $orderBy: TaskRunOrder) {{
  taskRuns(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {{
    edges {{ cursor node {{
      id executionId namespace flowId taskId parentTaskRunId value iteration
      state {{ {STATE} }}
      attempts {{ state {{ {STATE} }} metrics {{ name type value tags }} }}
      outputs
    }} }}
    pageInfo {{ hasNextPage hasPreviousPage endCursor }}
    totalCount
  }}
}}
"""


def ui_list_subscription() -> str:
    """The web UI's list subscription (`ListChanges`) with its row fragment, as
    ui/src/lib/documents.ts writes them (read from there, so the two cannot drift apart)."""
    source = (Path(__file__).parents[2] / "ui/src/lib/documents.ts").read_text()
    found = re.findall(r"graphql\(`(.*?)`", source, re.DOTALL)
    [listing] = [d for d in found if "subscription ListChanges" in d]
    [row] = [d for d in found if "fragment ExecutionRow" in d]
    return str(listing + row)
