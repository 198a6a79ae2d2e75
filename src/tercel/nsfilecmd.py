"""`tercel namespace files upload NAMESPACE FROM [TO]`: a local folder's files become namespace
files, as Kestra's `kestra namespace files update` (docs/semantics.md#namespace-files).

Written straight into the storage folder of `--db` (or `--storage`), durably, each file
replacing the one at its path; safe while a server uses that folder (every file is renamed
into place whole). Symbolic links in FROM are skipped, never followed.
"""

from __future__ import annotations

import argparse
import os
import sys

from tercel.engine import files, namespacefiles
from tercel.storage.files import LocalFiles, default_folder

__all__ = ["add_parser", "upload"]

EXIT_INVALID, EXIT_INTERNAL = 2, 4
UPLOAD_EXIT_CODES = """exit status:
  0    every file uploaded
  2    a bad namespace, path or folder (named on stderr)
  4    the storage folder cannot be written
  130  interrupted"""


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`namespace files upload` under the CLI's commands."""
    namespace = commands.add_parser("namespace", help="namespace files")
    groups = namespace.add_subparsers(
        dest="namespace_command", required=True, metavar="files", help="namespace files"
    )
    nsfiles = groups.add_parser("files", help="namespace files")
    actions = nsfiles.add_subparsers(
        dest="files_command", required=True, metavar="upload", help="upload a local folder"
    )
    upload = actions.add_parser(
        "upload", help="upload a local folder's files as namespace files",
        description="Upload every file of FROM (recursively) as a namespace file of NAMESPACE, "
        "under the folder TO (default /), as Kestra's `kestra namespace files update`.",
        epilog=UPLOAD_EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    upload.add_argument("namespace", metavar="NAMESPACE", help="the namespace, e.g. company.team")
    upload.add_argument("source", metavar="FROM", help="a local folder")
    upload.add_argument("target", metavar="TO", nargs="?", default="/", help="(default /)")
    upload.add_argument("--db", default="./tercel.db", metavar="PATH",
                        help="database whose storage folder takes them (%(default)s)")  # fmt: skip
    upload.add_argument("--storage", metavar="DIR", help="the storage folder, if not beside --db")


def upload(args: argparse.Namespace) -> int:
    """Upload; exit 0, 2 (a bad namespace, path or folder) or 4 (the storage cannot be
    written), naming what is wrong on stderr."""
    if not os.path.isdir(args.source):
        print(f"tercel: {args.source}: not a folder", file=sys.stderr)
        return EXIT_INVALID
    storage = LocalFiles(args.storage or default_folder(args.db))
    base = args.target.strip("/")
    count = 0
    try:
        namespacefiles.namespace_scope(args.namespace)
        for relative in _files_of(args.source):
            path = f"/{base}/{relative}" if base else f"/{relative}"
            uri = namespacefiles.file_uri(args.namespace, path)
            with open(os.path.join(args.source, relative), "rb") as handle:
                storage.put(uri, handle)
            print(path)
            count += 1
        storage.sync()  # `put` leaves the flush to a commit, and this process makes none
    except files.FileRefused as error:
        print(f"tercel: {error}", file=sys.stderr)
        return EXIT_INVALID
    except OSError as error:
        print(f"tercel: cannot upload: {error}", file=sys.stderr)
        return EXIT_INTERNAL
    print(f"{count} files uploaded to namespace {args.namespace}", file=sys.stderr)
    return 0


def _files_of(folder: str) -> list[str]:
    """The regular files under `folder`, as sorted `/`-separated relative paths."""
    found: list[str] = []
    for top, folders, names in os.walk(folder):
        folders[:] = [name for name in folders if not os.path.islink(os.path.join(top, name))]
        for name in names:
            path = os.path.join(top, name)
            if os.path.isfile(path) and not os.path.islink(path):
                found.append(os.path.relpath(path, folder).replace(os.sep, "/"))
    return sorted(found)
