"""The `::{json}::` lines of a shell script (Kestra's output protocol): outputs, metrics and
logs, validated as a whole (a malformed payload is refused entirely)."""

from __future__ import annotations

import json
import math
from typing import Any

from tercel.engine import durations, model

__all__ = ["parse", "text"]


def text(value: Any) -> str:
    """A value as the shell sees it (booleans as `true`/`false`, None as nothing)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def parse(
    text: str,
) -> tuple[dict[str, Any], list[tuple[str, str, float, dict[str, str]]], list[tuple[Any, str]]]:
    """Validate a `::{...}::` payload as a whole; raises ValueError/TypeError/KeyError."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise TypeError("not an object")
    if not isinstance(outputs := data.get("outputs") or {}, dict):
        raise TypeError("outputs must be a map")
    metrics = [] if data.get("metrics") is None else data["metrics"]
    logs = [] if data.get("logs") is None else data["logs"]
    if not isinstance(metrics, list) or not isinstance(logs, list):
        raise TypeError("metrics and logs must be lists")
    return outputs, [_parse_metric(m) for m in metrics], [_parse_log(e) for e in logs]


def _parse_metric(entry: Any) -> tuple[str, str, float, dict[str, str]]:
    if not isinstance(entry, dict) or not isinstance(entry["name"], str):
        raise TypeError("a metric needs a name")
    kind, value = str(entry["type"]).lower(), entry["value"]
    if kind == "timer" and isinstance(value, str):
        value = durations.parse_duration(value).total_seconds()
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind not in ("counter", "timer") or not number or not math.isfinite(value):
        raise ValueError("a metric is a counter or a timer with a finite number value")
    tags = entry.get("tags") or {}
    if not isinstance(tags, dict) or any(isinstance(v, dict | list) for v in tags.values()):
        raise TypeError("tags must be a map of strings")
    return kind, entry["name"], float(value), {str(k): text(v) for k, v in tags.items()}


def _parse_log(entry: Any) -> tuple[model.LogLevel, str]:
    if not isinstance(entry, dict):
        raise TypeError("a log must be a map")
    level = model.LogLevel[str(entry.get("level") or "INFO").upper()]
    message = entry.get("message")
    if isinstance(message, dict | list):
        raise TypeError("a log message must be text")
    return level, text(message)
