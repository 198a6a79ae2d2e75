"""The command line: `tercel run`, `tercel validate`, `tercel server` (docs/semantics.md#cli).

Exit statuses: see EXIT_CODES (`tercel --help` lists them).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]

EXIT_INVALID = 2
EXIT_INTERNAL = 4


EXIT_CODES = """exit status:
  0    SUCCESS or WARNING (validate: every file is valid)
  1    FAILED, KILLED, CANCELLED or RETRIED
  2    invalid flow file or command line (inputs included); database in use; port in use
  3    PAUSED, waiting for a manual resume
  4    internal error; database corrupt or not writable
  130  interrupted (Ctrl-C kills the execution first)"""


_STORAGE_HELP = "internal-storage folder of the executions' files (default: PATH.files beside --db)"


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("tercel")
    except metadata.PackageNotFoundError:
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="tercel",
        description="Kestra's execution model, in one process.",
        epilog=EXIT_CODES,
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"tercel {_version()}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", help="one of:"
    )
    run = commands.add_parser(
        "run", help="run a flow file until its execution ends", description="Run a flow file "
        "in-process until its execution ends (or pauses for a manual resume).",
        epilog=EXIT_CODES, formatter_class=formatter,
    )  # fmt: skip
    run.add_argument("flow", metavar="FLOW.yaml", help="the flow file to run")
    run.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a value for the flow input NAME (repeatable)",
    )
    run.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a label of the execution (repeatable)",
    )
    run.add_argument("--db", metavar="PATH", help="database file (default: a throw-away one)")
    run.add_argument("--storage", metavar="DIR", help=_STORAGE_HELP)
    run.add_argument(
        "--flows", metavar="DIR", help="deploy every flow file of DIR first (Subflow targets)"
    )
    run.add_argument("--json", action="store_true",
                     help="print the final execution as one JSON document on stdout")  # fmt: skip
    validate = commands.add_parser(
        "validate", help="validate flow files", epilog=EXIT_CODES, formatter_class=formatter,
        description="Validate flow files: one verdict per file on stdout, errors on stderr.",
    )  # fmt: skip
    validate.add_argument("flows", nargs="+", metavar="FLOW.yaml", help="flow files to check")
    server = commands.add_parser(
        "server", help="serve the GraphQL API and the UI with the engine",
        description="Serve the web UI (/ui/) and GraphQL (/graphql) with the engine.",
        epilog=EXIT_CODES, formatter_class=formatter,
    )  # fmt: skip
    server.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
    server.add_argument("--port", type=int, default=8080, help="port to listen on (%(default)s)")
    server.add_argument("--db", default="./tercel.db", metavar="PATH",
                        help="database file (%(default)s)")  # fmt: skip
    server.add_argument("--flows", metavar="DIR", help="deploy every flow file of DIR at start")
    server.add_argument("--storage", metavar="DIR", help=_STORAGE_HELP)
    server.add_argument("--token", help="require this bearer token (or TERCEL_TOKEN)")
    from tercel import nsfilecmd

    nsfilecmd.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            from tercel import runcmd

            return runcmd.run(args)
        if args.command == "validate":
            return _validate(args.flows)
        if args.command == "namespace":
            from tercel import nsfilecmd

            return nsfilecmd.upload(args)
        from tercel import servecmd

        return servecmd.serve(args)
    except KeyboardInterrupt:
        return 130


def _validate(paths: Sequence[str]) -> int:
    from tercel.engine.flows import loader

    status = 0
    for path in paths:
        try:
            with open(path, encoding="utf-8") as handle:
                source = handle.read()
            loader.load_flow(source, file=path)
        except OSError as error:
            print(f"{path}: cannot read: {error.strerror}", file=sys.stderr)
            status = EXIT_INVALID
        except UnicodeDecodeError:
            print(f"{path}: not UTF-8 text", file=sys.stderr)
            status = EXIT_INVALID
        except loader.FlowValidationError as error:
            for line in error.lines():
                print(line, file=sys.stderr)
            status = EXIT_INVALID
        else:
            print(f"{path}: valid")
            continue
        print(f"{path}: invalid")
    return status
