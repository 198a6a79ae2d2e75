"""`tercel server`: the GraphQL API with the engine in the same process."""

from __future__ import annotations

import argparse
import sys

__all__ = ["serve"]


def serve(args: argparse.Namespace) -> int:
    print("tercel server: the GraphQL API is not available in this build yet", file=sys.stderr)
    return 4
