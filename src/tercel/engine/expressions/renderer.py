"""Compile templates (Pebble → Jinja2, LRU of 1,024) and render them with the messages of
docs/semantics.md#expression-errors.

Templates whose expressions are all plain paths (`{{ taskrun.value }}`, `{{ outputs.t['a'] }}`)
skip Jinja2: their parts are looked up directly with the same data-only lookup and rendered with
the same rules (docs/semantics.md#expression-values), which keeps the common case at a few
microseconds.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, cast

import jinja2
from jinja2 import Template
from jinja2.utils import missing

from tercel.engine.expressions import (
    errors,
    functions,
    guard,
    lexer,
    registry,
    sandbox,
    statements,
    values,
)

__all__ = ["Compiled", "compile_template", "render_object", "render_text", "template_error"]

#: every root variable of docs/semantics.md#expression-variables (what `render()` may need), plus
#: the error-log source
ALL_VARIABLES = frozenset(
    {"flow", "task", "taskrun", "parents", "parent", "execution", "outputs", "inputs"}
    | {"labels", "vars", "tasks", "trigger", "__errorLogs", "__readFile"}
)
_IMPLIED = {
    "render": ALL_VARIABLES,
    "errorLogs": frozenset({"__errorLogs"}),
    "read": frozenset({"__readFile"}),
    "currentEachOutput": frozenset({"parents", "taskrun"}),
}
MAX_RENDER_ROUNDS = 10

ENV = sandbox.TercelEnvironment(
    autoescape=False,
    keep_trailing_newline=True,
    undefined=sandbox.Missing,
    finalize=sandbox.finalize,
    cache_size=0,
    auto_reload=False,
    optimized=False,  # constant folding gains nothing here and costs 40% of compile time
)
ENV.globals.clear()
ENV.filters = registry.jinja_filters()
ENV.filters.update(__loop=statements.loop_items, __loop_pairs=statements.loop_pairs)
ENV.tests.clear()
ENV.tests.update(registry.jinja_tests())
ENV.tests["__null_items"] = statements.null_items


@dataclass(frozen=True, slots=True)
class FastPath:
    path: tuple[Any, ...]
    line: int


@dataclass(frozen=True, slots=True)
class Compiled:
    names: frozenset[str] = frozenset()
    template: Template | None = None
    fast: tuple[str | FastPath, ...] | None = None
    error: str | None = None


def template_error(text: str) -> str | None:
    """The size error of a template, checked before anything is cached."""
    if len(text) * 4 > guard.MAX_TEMPLATE and len(text.encode()) > guard.MAX_TEMPLATE:
        return f"Template is larger than {guard.MAX_TEMPLATE} bytes ({len(text.encode())} bytes)"
    return None


@functools.lru_cache(maxsize=1024)
def compile_template(text: str) -> Compiled:
    try:
        return _translate(text)
    except errors.TemplateSyntaxError as error:
        return Compiled(error=f"{error.message} in the expression `{text}` at line {error.line}")


def _translate(text: str) -> Compiled:
    names: set[str] = set()
    used: set[str] = set()
    slots = [0]
    source: list[str] = []
    fast: list[str | FastPath] | None = []
    blocks = statements.Blocks(names, used, slots)
    # Jinja2 compiles ~30,000 tokens a second, on the engine's thread: cap them first
    # (docs/semantics.md#expression-limits)
    for segment in lexer.split(text, guard.MAX_TEMPLATE_TOKENS):
        if isinstance(segment, lexer.Text):
            _emit_text(segment, source, counted=blocks.inside)
            if fast is not None and segment.text:
                fast.append(segment.text)
        elif isinstance(segment, lexer.Stmt):
            source.append(blocks.translate(segment))
            _pad(source, segment.newlines)
            fast = None
        elif isinstance(segment, lexer.Expr):
            fragment = blocks.parser(segment.tokens).parse()
            source.append(f"{{{{ {fragment.code} }}}}")
            _pad(source, segment.newlines)
            if fast is not None and fragment.path is not None:
                fast.append(FastPath(fragment.path, segment.line))
            else:
                fast = None
        else:
            _pad(source, segment.newlines)
    blocks.finish()
    for function in used:
        names |= _IMPLIED.get(function, frozenset())
    if fast is not None:
        return Compiled(frozenset(names), fast=tuple(fast))
    try:
        template = ENV.from_string("".join(source))
    except (RecursionError, SyntaxError, MemoryError):
        raise errors.TemplateSyntaxError("Expression is too complex", 1) from None
    except jinja2.TemplateSyntaxError as error:  # a translation bug: report it, do not crash
        raise errors.TemplateSyntaxError(f"Invalid expression: {error.message}", 1) from None
    return Compiled(frozenset(names), template=template)


def _emit_text(segment: lexer.Text, source: list[str], *, counted: bool) -> None:
    """Plain text as it is; text inside a block as an expression, so that what a loop repeats
    is counted against the output cap as it grows."""
    text = segment.text
    unsafe = (
        counted
        or "\r" in text
        or "{{" in text
        or "{%" in text
        or "{#" in text
        or text.endswith("{")
    )
    if unsafe:
        source.append(f"{{{{ {text!a} }}}}")
        _pad(source, segment.newlines)
    else:
        source.append(text)
        _pad(source, segment.newlines - lexer.count_lines(text))


def _pad(source: list[str], newlines: int) -> None:
    """Keep Jinja2's line numbers equal to the source's with an empty multi-line comment."""
    if newlines > 0:
        source.append("{#" + "\n" * newlines + "#}")


def render_text(text: str, context: Mapping[str, Any]) -> str:
    if "{" not in text or not ("{{" in text or "{%" in text or "{#" in text):
        return text
    problem = template_error(text)
    if problem is not None:
        raise errors.ExpressionError(problem)
    compiled = compile_template(text)
    if compiled.error is not None:
        raise errors.ExpressionError(compiled.error)
    if compiled.fast is not None:
        return _render_fast(compiled.fast, text, context)
    assert compiled.template is not None
    return _render_jinja(compiled.template, text, context)


def _render_fast(parts: tuple[str | FastPath, ...], text: str, context: Mapping[str, Any]) -> str:
    pieces: list[str] = []
    total = 0
    for part in parts:
        if type(part) is str:
            piece = part
        else:
            assert isinstance(part, FastPath)
            piece = _lookup_text(part, text, context)
        total += len(piece)
        if total > guard.MAX_OUTPUT:
            raise errors.ExpressionError(_message(_too_large(), text, 1))
        pieces.append(piece)
    return pieces[0] if len(pieces) == 1 else "".join(pieces)


def _lookup_text(part: FastPath, text: str, context: Mapping[str, Any]) -> str:
    root = part.path[0]
    value = context.get(root, missing)
    if value is missing:
        value = sandbox.Missing(name=root)
    for key in part.path[1:]:
        value = sandbox.lookup(value, key)
    if type(value) is str:
        return value
    try:
        return values.to_text(value)
    except Exception as error:
        raise _failure(error, text, part.line) from None


#: templates that outgrew the loop's slice (most recent last): the next render of one leaves
#: the loop at once instead of spending the slice (and one uninterruptible step past it) again
_HEAVY: dict[str, None] = {}
MAX_HEAVY = 1024


def _render_jinja(template: Template, text: str, context: Mapping[str, Any]) -> str:
    try:
        saved = guard.enter(text in _HEAVY)
    except errors.RenderFailure as error:
        raise errors.ExpressionError(_message(error.message, text, 1)) from None
    try:
        frame = template.new_context(cast(dict[str, Any], context), shared=True)
        output = "".join(template.root_render_func(frame))
    except errors.SliceExceeded:
        _remember_heavy(text)
        raise
    except errors.ExpressionError:
        raise
    except Exception as error:
        raise _failure(error, text, _line(error.__traceback__, template)) from None
    finally:
        guard.leave(saved)
    if len(output) > guard.MAX_OUTPUT:
        raise errors.ExpressionError(_message(_too_large(), text, 1))
    return output


def _remember_heavy(text: str) -> None:
    _HEAVY.pop(text, None)
    _HEAVY[text] = None
    if len(_HEAVY) > MAX_HEAVY:
        del _HEAVY[next(iter(_HEAVY))]


def _line(trace: TracebackType | None, template: Template) -> int:
    namespace = template.root_render_func.__globals__
    line = 1
    while trace is not None:
        if trace.tb_frame.f_globals is namespace:
            line = template.get_corresponding_lineno(trace.tb_lineno)
        trace = trace.tb_next
    return line


def _failure(error: Exception, text: str, line: int) -> errors.ExpressionError:
    if isinstance(error, errors.ExpressionError):
        return error
    if isinstance(error, errors.UndefinedUse):
        message = f"Unable to find `{error.name}` used in the expression `{text}` at line {line}"
        return errors.ExpressionError(message, line=line, name=error.name)
    return errors.ExpressionError(_message(_describe(error), text, line), line=line)


def _describe(error: Exception) -> str:
    if isinstance(error, RecursionError):
        return "Expression is nested too deeply"
    if isinstance(error, MemoryError):
        return "Out of memory while rendering"
    return str(error) or type(error).__name__


def _message(message: str, text: str, line: int) -> str:
    return f"{message} in the expression `{text}` at line {line}"


def _too_large() -> str:
    return f"Rendered text is larger than {guard.MAX_OUTPUT} characters"


def render_object(value: Any, context: Mapping[str, Any], *, recursive: bool) -> Any:
    """`render(x, recursive)`: strings rendered (until stable when recursive), maps and lists
    rendered item by item, other values returned as they are."""
    if isinstance(value, str):
        if not recursive:
            return render_text(value, context)
        for _ in range(MAX_RENDER_ROUNDS):
            rendered = render_text(value, context)
            if rendered == value:
                return rendered
            value = rendered
        raise errors.RenderFailure("Too many rendering attempts")
    if isinstance(value, Mapping):
        return {
            render_object(key, context, recursive=recursive): render_object(
                item, context, recursive=recursive
            )
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [render_object(item, context, recursive=recursive) for item in value]
    return value


functions.use_renderer(render_object)
