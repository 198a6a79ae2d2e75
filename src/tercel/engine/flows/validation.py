"""Flow validation problems: one `Issue` per problem, all raised together
(docs/semantics.md#validation)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

__all__ = ["FlowValidationError", "Issue", "Issues", "Located"]


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem of a flow file."""

    path: str  #: YAML path of the offending node (`tasks[2].retry.maxAttempt`), "" for the document
    message: str  #: what is wrong (`must be >= 1`)
    line: int | None = None  #: 1-based
    column: int | None = None  #: 1-based

    def body(self) -> str:
        """`path: message`, or the message alone for the document."""
        return f"{self.path}: {self.message}" if self.path else self.message

    def __str__(self) -> str:
        if self.line is None:
            return self.body()
        return f"{self.body()} (line {self.line}, column {self.column})"


class FlowValidationError(Exception):
    """A refused flow: every problem found, in document order."""

    def __init__(self, issues: Iterable[Issue], file: str | None = None) -> None:
        self.issues: list[Issue] = list(issues)
        self.file = file
        super().__init__("; ".join(str(issue) for issue in self.issues))

    def lines(self) -> list[str]:
        """One `flow.yaml:12:7: tasks[2].retry.maxAttempt: must be >= 1` line per issue."""
        return [self._line(issue) for issue in self.issues]

    def _line(self, issue: Issue) -> str:
        where = [] if self.file is None else [self.file]
        if issue.line is not None:
            where += [str(issue.line), str(issue.column)]
        prefix = ":".join(where)
        return f"{prefix}: {issue.body()}" if prefix else issue.body()


class Located(Protocol):
    """Anything with a document path and a position (the YAML nodes)."""

    @property
    def path(self) -> str: ...

    @property
    def line(self) -> int: ...

    @property
    def column(self) -> int: ...


class Issues:
    """Collects issues while a flow is checked; nothing stops at the first one."""

    def __init__(self) -> None:
        self._items: list[Issue] = []

    def __bool__(self) -> bool:
        return bool(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def add(self, node: Located, message: str) -> None:
        """A problem with a node's value."""
        self._items.append(Issue(node.path, message, node.line, node.column))

    def add_at(
        self, path: str, message: str, line: int | None = None, column: int | None = None
    ) -> None:
        self._items.append(Issue(path, message, line, column))

    def missing(self, parent: Located, path: str, message: str = "is required") -> None:
        """A problem with an absent field: its path, the position of the mapping that lacks it."""
        self._items.append(Issue(path, message, parent.line, parent.column))

    def sorted(self) -> list[Issue]:
        """Distinct issues in document order (issues without a position first)."""
        unique = list(dict.fromkeys(self._items))
        return sorted(unique, key=lambda issue: (issue.line or 0, issue.column or 0))
