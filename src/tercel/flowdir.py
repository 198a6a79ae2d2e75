"""Deploying every flow file of a folder (`tercel server --flows DIR`, `tercel run --flows DIR`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

__all__ = ["deploy_directory"]


async def deploy_directory(engine: Any, folder: str) -> None:
    """Deploy every *.yaml / *.yml of `folder`; an invalid file is reported and skipped."""
    from tercel.engine import service
    from tercel.engine.flows import loader

    paths = sorted(p for p in Path(folder).iterdir() if p.suffix in (".yaml", ".yml"))
    for path in paths:
        try:
            await service.deploy_flow(engine, path.read_text(encoding="utf-8"), file=str(path))
        except (OSError, UnicodeDecodeError) as error:
            print(f"{path}: cannot read: {error}", file=sys.stderr)
        except loader.FlowValidationError as error:
            for line in error.lines():
                print(line, file=sys.stderr)
            print(f"{path}: skipped (invalid flow)", file=sys.stderr)
