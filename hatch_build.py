"""Hatch build hook: a wheel carries the built web UI (as dagster-webserver's does).

It runs the same step as `make ui` (npm ci, codegen, vite build into src/tercel/webui/dist) and
adds the result to the wheel, although git ignores it. An editable install skips it: `make ui`
builds into the source tree, which the editable install serves from.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class WebUIBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        root = Path(self.root)
        ui = root / "ui"
        dist = root / "src" / "tercel" / "webui" / "dist"
        if ui.is_dir():
            npm = shutil.which("npm")
            if npm is None:
                raise RuntimeError("building the web UI needs npm (Node.js >= 20) on PATH")
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=ui, check=True)
            subprocess.run([npm, "run", "build"], cwd=ui, check=True)
        if not (dist / "index.html").is_file():
            raise RuntimeError(f"the web UI was not built: {dist}/index.html is missing")
        build_data["artifacts"].append("src/tercel/webui/dist/")
