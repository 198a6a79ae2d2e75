"""Functions of docs/semantics.md#expression-functions (`now()` lives with the date filters) and the
`secret()` store."""

from __future__ import annotations

import base64
import binascii
import json as jsonlib
import os
import threading
import uuid as uuidlib
from collections.abc import Callable, Mapping
from typing import Any

from jinja2.utils import missing

from tercel import ids
from tercel.engine.expressions import bounded, errors, guard, sandbox

__all__ = ["CONTEXT_FUNCTIONS", "FUNCTIONS", "range_", "secret_values", "variable"]

_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()


def from_json(json: Any = None) -> Any:
    if json is None:
        return None
    if not isinstance(json, str):
        raise errors.RenderFailure("`fromJson` expects a string")
    try:
        return jsonlib.loads(json)
    except ValueError as error:
        raise errors.RenderFailure(f"Invalid JSON: {error}") from None


def range_(start: Any, end: Any, increment: Any = 1) -> list[Any]:
    """Pebble's inclusive `range(start, end, increment)` over numbers or single characters."""
    if _is_number(increment):
        step = int(increment)
    else:
        raise errors.RenderFailure("The increment of the range function must be a number")
    if step == 0:
        raise errors.RenderFailure("The increment of the range function must be different than 0")
    if _is_number(start) and _is_number(end):
        first, last, chars = int(start), int(end), False
    elif isinstance(start, str) and isinstance(end, str) and len(start) == len(end) == 1:
        first, last, chars = ord(start), ord(end), True
    else:
        raise errors.RenderFailure(
            "Arguments of range function must be of type Number or String with a length of 1"
        )
    count = max((last - first) // step + 1, 0)
    if count > guard.MAX_RANGE:
        raise errors.RenderFailure(f"Range of {count} elements is larger than {guard.MAX_RANGE}")
    items = range(first, last + (1 if step > 0 else -1), step)
    return [chr(item) for item in items] if chars else list(items)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def max_(*args: Any) -> Any:
    return bounded.extreme(args, max, "max")


def min_(*args: Any) -> Any:
    return bounded.extreme(args, min, "min")


def new_id() -> str:
    return ids.new_id()


def new_uuid() -> str:
    return str(uuidlib.uuid4())


def secret(key: Any) -> str:
    """The base64-decoded value of environment variable `SECRET_<key>`."""
    if not isinstance(key, str) or not key:
        raise errors.RenderFailure("`secret` expects the name of a secret")
    raw = os.environ.get(f"SECRET_{key}")
    if raw is None:
        raw = os.environ.get(f"SECRET_{key.upper()}")
    if raw is None:
        raise errors.RenderFailure(f"Cannot find secret for key '{key}'")
    try:
        value = base64.b64decode("".join(raw.split()), validate=True).decode()
    except (binascii.Error, ValueError):
        raise errors.RenderFailure(f"Secret '{key}' is not valid base64") from None
    if value:
        with _SECRETS_LOCK:
            _SECRETS.add(value)
    return value


def secret_values() -> frozenset[str]:
    """Every decoded secret returned so far, so logs can mask them."""
    with _SECRETS_LOCK:
        return frozenset(_SECRETS)


def current_each_output(context: Mapping[str, Any], outputs: Any) -> Any:
    """`outputs[p1.value]…[pk.value][taskrun.value]` over `parents`, outermost first."""
    if not isinstance(outputs, Mapping):
        raise errors.RenderFailure("`currentEachOutput` expects a map of outputs")
    result: Any = outputs
    parents = context.get("parents") or []
    for parent in reversed(parents if isinstance(parents, list) else []):
        taskrun = parent.get("taskrun") if isinstance(parent, Mapping) else None
        if isinstance(taskrun, Mapping) and "value" in taskrun:
            result = _step(result, taskrun["value"])
    taskrun = context.get("taskrun")
    if isinstance(taskrun, Mapping) and "value" in taskrun:
        result = _step(result, taskrun["value"])
    return result


def _step(value: Any, key: Any) -> Any:
    found = sandbox.lookup(value, key)
    if isinstance(found, sandbox.Missing):
        sandbox.fail(found)
    return found


def error_logs(context: Mapping[str, Any]) -> list[Any]:
    source = context.get("__errorLogs")
    return list(source()) if callable(source) else []


def read(context: Mapping[str, Any], path: Any = None, namespace: Any = None) -> str:
    """The text of a file the execution may read (docs/semantics.md#files): a `kestra:///`
    URI, or Kestra's namespace-file path (`read('folder/file.txt')`) of the flow's namespace
    or of `namespace`, the flow's own or a parent one."""
    reader = context.get("__readFile")
    if not callable(reader):
        raise errors.RenderFailure("read() has no internal storage here")
    if not isinstance(path, str) or not path:
        raise errors.RenderFailure(
            "The `read` function expects an argument `path` that is a path to a namespace "
            "file or an internal storage URI"
        )
    if namespace is not None and not isinstance(namespace, str):
        raise errors.RenderFailure("The `read` function expects a string `namespace`")
    try:  # at most READ_LIMIT (1 MiB) from a local file: within the render's own deadline
        if path.startswith("kestra://"):
            text: str = reader(path)
        else:
            text = reader.namespace_file(path, namespace)
    except (LookupError, ValueError) as error:  # FileMissing, FileRefused, too large, not text
        raise errors.RenderFailure(f"read(): {error}") from None
    return text


#: the renderer's `render_object`, handed over by the renderer when it loads (it imports this
#: module through the registry, so this module cannot import it back)
_render_object: Callable[..., Any] | None = None


def use_renderer(render_object: Callable[..., Any]) -> None:
    """What `render()` renders with (called once by the renderer module)."""
    global _render_object
    _render_object = render_object


def render(context: Mapping[str, Any], toRender: Any = None, recursive: Any = True) -> Any:
    if not isinstance(recursive, bool):
        raise errors.RenderFailure("The `render` function expects a boolean `recursive`")
    guard.check_blocking()  # compiling a new template cannot be cut short: not on the loop
    assert _render_object is not None, "the renderer is loaded with the registry"
    return _render_object(toRender, context, recursive=recursive)


def variable(context: Mapping[str, Any], _: None, name: str) -> Any:
    """A root variable whose name Jinja2 cannot spell (`self`, `True`, non-ASCII…)."""
    value = context.get(name, missing)
    return sandbox.Missing(name=name) if value is missing else value


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "fromJson": from_json,
    "json": from_json,
    "max": max_,
    "min": min_,
    "range": range_,
    "id": new_id,
    "uuid": new_uuid,
    "secret": secret,
}
CONTEXT_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "currentEachOutput": current_each_output,
    "errorLogs": error_logs,
    "read": read,
    "render": render,
}
