"""What the engine answers: the result of one attempt, and the domain error values commands
return instead of raising for an expected outcome (an unknown id, a state that refuses the
command, invalid inputs). Plain values, below every room, so the runtime, the actions and the
services share them without importing one another."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tercel.engine import model, states

__all__ = ["AttemptResult", "InputIssue", "InvalidInputs", "InvalidState", "NotFound", "Outcome"]

S = states.StateType


@dataclass(slots=True)
class AttemptResult:
    """How one attempt ended, as the worker hands it back to the engine loop."""

    execution_id: str
    task_run_id: str
    attempt_number: int
    state: S
    outputs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InputIssue:
    """One invalid input."""

    input: str  #: the input id
    #: the full line: ``Invalid input for `n`, expected INT, but received `abc` ``
    message: str


@dataclass(frozen=True, slots=True)
class NotFound:
    kind: str
    id: str

    @property
    def message(self) -> str:
        return f"{self.kind} `{self.id}` not found"


@dataclass(frozen=True, slots=True)
class InvalidState:
    message: str
    state: S | None = None


@dataclass(frozen=True, slots=True)
class InvalidInputs:
    issues: list[InputIssue]

    @property
    def message(self) -> str:
        return "; ".join(issue.message for issue in self.issues)


Outcome = model.Execution | NotFound | InvalidState | InvalidInputs
