"""Namespace files: files a namespace keeps for its flows, at Kestra's layout
`kestra:///{namespace, dots as slashes}/_files/{path}` (docs/semantics.md#namespace-files).

Pure code. A namespace-file path is what Kestra's API and `read()` take: `/folder/file.txt` or
`folder/file.txt`, relative to the namespace's `_files` folder; it becomes URI segments through
`files.uri_of`, which refuses `..`, `.`, empty segments, encoded slashes and NUL, so no path can
name a place outside that folder. A flow id or a namespace segment never is `_files` (flow ids
start with a letter or digit; the loader refuses a namespace segment `_files`), so no
execution's file can ever lie under a `_files` folder.
"""

from __future__ import annotations

import re

from tercel.engine import files

__all__ = [
    "FOLDER",
    "NamespaceRefused",
    "file_uri",
    "folder_parts",
    "namespace_scope",
    "readable_namespaces",
    "relative_path",
]

#: the folder of a namespace's files, under its own folder
FOLDER = "_files"
_NAMESPACE_RE = re.compile(r"[a-z0-9][a-z0-9_-]*(?:\.[a-z0-9][a-z0-9_-]*)*")


class NamespaceRefused(files.FileRefused):
    """A namespace that cannot hold files, or that a flow may not read from."""


def namespace_scope(namespace: str) -> tuple[str, ...]:
    """The segments every file of `namespace` starts with; raises NamespaceRefused."""
    if not isinstance(namespace, str) or not _NAMESPACE_RE.fullmatch(namespace):
        raise NamespaceRefused(
            f"`{str(namespace)[:200]}` is not a namespace (dot-separated parts of a-z, 0-9, "
            "`_` and `-`, each starting with a letter or digit)"
        )
    return (*namespace.split("."), FOLDER)


def folder_parts(namespace: str, path: str | None) -> tuple[str, ...]:
    """The segments of the folder (or file) `path` of `namespace`; the namespace's root for
    None, `` or `/`. Raises FileRefused for a path that is not plain folders."""
    scope = namespace_scope(namespace)
    if path is None or path.strip("/") == "":
        return scope
    return files.segments(file_uri(namespace, path))


def file_uri(namespace: str, path: str) -> str:
    """The `kestra:///` URI of the namespace file `path` (`/a/b.txt` or `a/b.txt`)."""
    scope = namespace_scope(namespace)
    if not isinstance(path, str) or "\0" in path:
        raise files.FileRefused(f"`{str(path)[:200]}` is not a namespace-file path")
    relative = path[1:] if path.startswith("/") else path
    parts = tuple(relative.split("/")) if relative else ()
    if not parts or any(part in ("", ".", "..") or "\\" in part for part in parts):
        raise files.FileRefused(
            f"`{path[:200]}` is not a namespace-file path (folders and a name, "
            "no `.`, `..` or empty parts)"
        )
    return files.uri_of((*scope, *parts))


def relative_path(namespace: str, uri: str) -> str:
    """The namespace-file path (`/a/b.txt`) of a URI under `namespace`'s files."""
    scope = namespace_scope(namespace)
    return "/" + "/".join(files.segments(uri)[len(scope) :])


def readable_namespaces(namespace: str, wanted: str | None = None) -> list[str]:
    """The namespaces whose files a flow of `namespace` may read: its own and each parent
    (`company.team` reads `company.team` and `company`), nearest first; with `wanted`, just
    that one, refused unless it is among them."""
    parts = namespace.split(".")
    allowed = [".".join(parts[:depth]) for depth in range(len(parts), 0, -1)]
    if wanted is None:
        return allowed
    if wanted not in allowed:
        raise NamespaceRefused(
            f"namespace `{str(wanted)[:200]}` is neither `{namespace}` nor a parent of it: a "
            "flow reads the files of its own namespace and of its parent namespaces"
        )
    return [wanted]
