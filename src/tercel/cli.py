"""The command line: `tercel run`, `tercel validate`, `tercel server` (contract §1).

Exit statuses of `run`: 0 SUCCESS/WARNING, 1 FAILED/KILLED/CANCELLED/RETRIED, 2 invalid flow or
command line, 3 PAUSED waiting for a manual resume, 4 internal error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]

EXIT_INVALID = 2
EXIT_INTERNAL = 4


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tercel", description="Kestra's execution model, in one process."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a flow file until its execution ends")
    run.add_argument("flow", metavar="FLOW.yaml")
    run.add_argument("--input", action="append", default=[], metavar="NAME=VALUE")
    run.add_argument("--label", action="append", default=[], metavar="KEY=VALUE")
    run.add_argument("--db", metavar="PATH", help="database file (default: a throw-away one)")
    run.add_argument("--json", action="store_true", help="print the final execution as JSON")
    validate = commands.add_parser("validate", help="validate flow files")
    validate.add_argument("flows", nargs="+", metavar="FLOW.yaml")
    server = commands.add_parser("server", help="serve the GraphQL API with the engine")
    server.add_argument("--host", default="127.0.0.1")
    server.add_argument("--port", type=int, default=8080)
    server.add_argument("--db", default="./tercel.db", metavar="PATH")
    server.add_argument("--flows", metavar="DIR", help="deploy every flow file of DIR at start")
    server.add_argument("--token", help="require this bearer token (or TERCEL_TOKEN)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            from tercel import runcmd

            return runcmd.run(args)
        if args.command == "validate":
            return _validate(args.flows)
        from tercel import servecmd

        return servecmd.serve(args)
    except KeyboardInterrupt:
        return 130


def _validate(paths: Sequence[str]) -> int:
    from tercel.engine import flows

    status = 0
    for path in paths:
        try:
            with open(path, encoding="utf-8") as handle:
                source = handle.read()
            flows.load_flow(source, file=path)
        except OSError as error:
            print(f"{path}: cannot read: {error.strerror}", file=sys.stderr)
            status = EXIT_INVALID
        except UnicodeDecodeError:
            print(f"{path}: not UTF-8 text", file=sys.stderr)
            status = EXIT_INVALID
        except flows.FlowValidationError as error:
            for line in error.lines():
                print(line, file=sys.stderr)
            status = EXIT_INVALID
        else:
            print(f"{path}: valid", file=sys.stderr)
    return status
