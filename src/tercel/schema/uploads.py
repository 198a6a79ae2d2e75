"""`FileInput`: a file of a FILE input sent with the GraphQL multipart request specification
(docs/semantics.md#files)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from strawberry.file_uploads import Upload

from tercel.engine.flows.fileinputs import Upload as FileUpload
from tercel.engine.outcomes import InputIssue

__all__ = ["FileInput", "files_of"]


@strawberry.input(
    description="a file for the FILE input `name`; `file` is a part of a multipart request "
    "(https://github.com/jaydenseric/graphql-multipart-request-spec)"
)
class FileInput:
    name: str
    file: Upload


def files_of(given: Sequence[FileInput] | None) -> tuple[list[FileUpload], list[InputIssue]]:
    """The uploads of `given`, and an issue for each entry whose `file` is not an uploaded
    file (a JSON value sent where a multipart part was expected)."""
    uploads: list[FileUpload] = []
    issues: list[InputIssue] = []
    for entry in given or ():
        source: Any = getattr(entry.file, "file", None)
        if source is None or not callable(getattr(source, "read", None)):
            message = (
                f"Invalid file for `{entry.name}`: `file` must be a file part of a multipart "
                "request (the GraphQL multipart request specification)"
            )
            issues.append(InputIssue(input=entry.name, message=message))
            continue
        filename = getattr(entry.file, "filename", None) or entry.name
        uploads.append(FileUpload(entry.name, str(filename), source))
    return uploads, issues
