"""Split a Pebble template into text, expressions and raw blocks, and tokenize expressions.

Whitespace control (`{{-`, `-}}`, and the same on `{%` and `{#`) is applied here, so the text
segments are final. Every segment records how many newlines of the source it covers, so the
Jinja2 source built from them keeps each expression on its original line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tercel.engine.expressions import errors

__all__ = [
    "NEWLINE",
    "STATEMENTS",
    "Expr",
    "Padding",
    "Segment",
    "Stmt",
    "Text",
    "Token",
    "count_lines",
    "split",
]

NEWLINE = re.compile(r"\r\n|\r|\n")
_OPEN = re.compile(r"\{[{%#]")
_TOKEN = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<number>\d+(?:\.\d+)?)"
    r"|(?P<name>[^\W\d]\w*)"
    r"|(?P<op>\?\?\?|\?\?|\*\*|//|==|!=|<=|>=|\.\.|[?:.,|~+\-*/%<>=()\[\]{}])"
)
_WORD_OPERATORS = frozenset({"and", "or", "not", "is", "contains", "equals"})
_CLOSING = {")": "(", "]": "[", "}": "{"}
_STATEMENT = re.compile(r"\s*(\w*)")
_RAW_OPEN_END = re.compile(r"\s*(-?)%\}")
#: the Pebble statements Tercel translates (semantics.md#expression-statements); `raw` and
#: `verbatim` are handled here
STATEMENTS = frozenset({"for", "endfor", "if", "elseif", "else", "endif", "set"})


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "name", "number", "string", "op" or "end"
    value: str
    line: int


@dataclass(frozen=True, slots=True)
class Text:
    text: str
    newlines: int


@dataclass(frozen=True, slots=True)
class Expr:
    tokens: tuple[Token, ...]
    line: int
    newlines: int


@dataclass(frozen=True, slots=True)
class Padding:
    newlines: int


@dataclass(frozen=True, slots=True)
class Stmt:
    """A `{% name … %}` tag: its tokens after the name, where it starts, and its newlines."""

    name: str
    tokens: tuple[Token, ...]
    line: int
    column: int
    newlines: int


Segment = Text | Expr | Padding | Stmt


def count_lines(text: str) -> int:
    return len(NEWLINE.findall(text)) if ("\n" in text or "\r" in text) else 0


def split(source: str, max_tokens: int | None = None) -> list[Segment]:
    """Segments of `source`; raises `TemplateSyntaxError` for syntax errors and statements,
    and as soon as there are more than `max_tokens` tokens (one per text segment)."""
    segments: list[Segment] = []
    pos, line, trim_next = 0, 1, False
    budget = [max_tokens if max_tokens is not None else len(source) + 1]
    while True:
        match = _OPEN.search(source, pos)
        end = match.start() if match else len(source)
        chunk = source[pos:end]
        newlines = count_lines(chunk)
        if trim_next:
            chunk = chunk.lstrip()
        if match and source.startswith("-", match.end()):
            chunk = chunk.rstrip()
        if chunk or newlines:
            segments.append(Text(chunk, newlines))
            _spend(budget, 1, max_tokens)
        line += newlines
        if match is None:
            return segments
        block_end, trim_next = _block(source, match, line, segments, budget)
        if segments and isinstance(segments[-1], Expr):
            _spend(budget, 0, max_tokens)
        line += count_lines(source[match.start() : block_end])
        pos = block_end


def _spend(budget: list[int], count: int, max_tokens: int | None) -> None:
    budget[0] -= count
    if budget[0] < 0:
        raise errors.TemplateSyntaxError(f"Template has more than {max_tokens} tokens", 1)


def _block(
    source: str, match: re.Match[str], line: int, out: list[Segment], budget: list[int]
) -> tuple[int, bool]:
    """Parse the block opened by `match`; append its segments; return (end, trim after)."""
    opener = match.group()
    start = match.end() + (1 if source.startswith("-", match.end()) else 0)
    if opener == "{{":
        tokens, end, trim = _tokenize(source, start, line, budget)
        out.append(Expr(tokens, line, count_lines(source[match.start() : end])))
        return end, trim
    if opener == "{#":
        close = source.find("#}", start)
        if close < 0:
            raise errors.TemplateSyntaxError("Unclosed comment", line)
        out.append(Padding(count_lines(source[match.start() : close])))
        return close + 2, close > start and source[close - 1] == "-"
    return _statement(source, match.start(), start, line, out, budget)


def _statement(
    source: str, begin: int, start: int, line: int, out: list[Segment], budget: list[int]
) -> tuple[int, bool]:
    name_match = _STATEMENT.match(source, start)
    name = name_match.group(1) if name_match else ""
    column = begin - max(source.rfind("\n", 0, begin), source.rfind("\r", 0, begin))
    if name in STATEMENTS:
        assert name_match is not None
        tokens, end, trim = _tokenize(source, name_match.end(), line, budget, "%}")
        out.append(Stmt(name, tokens, line, column, count_lines(source[begin:end])))
        return end, trim
    if name not in ("raw", "verbatim"):
        shown = f"{{% {name} %}}" if name else "{% %}"
        raise errors.TemplateSyntaxError(
            f"Statement `{shown}` at line {line}, column {column} is not allowed: only "
            "`{{ … }}` expressions, comments, `{% raw %}`, `{% for %}`, `{% if %}` and "
            "`{% set %}` are supported",
            line,
        )
    assert name_match is not None
    open_end = _RAW_OPEN_END.match(source, name_match.end())
    if open_end is None:
        raise errors.TemplateSyntaxError(f"Malformed `{{% {name} %}}` tag", line)
    closing = re.compile(r"\{%(-?)\s*end" + name + r"\s*(-?)%\}")
    close = closing.search(source, open_end.end())
    if close is None:
        raise errors.TemplateSyntaxError(f"Unclosed `{{% {name} %}}` block", line)
    content = source[open_end.end() : close.start()]
    if open_end.group(1):
        content = content.lstrip()
    if close.group(1):
        content = content.rstrip()
    out.append(Text(content, count_lines(source[begin : close.end()])))
    return close.end(), bool(close.group(2))


def _tokenize(
    source: str, pos: int, line: int, budget: list[int], close: str = "}}"
) -> tuple[tuple[Token, ...], int, bool]:
    """Tokens of the expression starting at `pos`, up to `close` outside brackets; stops once
    they exceed the `budget` left (which is spent here)."""
    tokens: list[Token] = []
    brackets: list[tuple[str, int]] = []
    start_line = line
    length = len(source)
    while pos < length:
        char = source[pos]
        if not brackets:
            if source.startswith(close, pos):
                tokens.append(Token("end", "", line))
                budget[0] -= len(tokens) - 1
                return tuple(tokens), pos + 2, False
            if source.startswith("-" + close, pos):
                tokens.append(Token("end", "", line))
                budget[0] -= len(tokens) - 1
                return tuple(tokens), pos + 3, True
        if len(tokens) > budget[0]:
            budget[0] = -1
            return tuple(tokens), pos, False
        if char in "'\"":
            value, end = _string(source, pos, line)
            tokens.append(Token("string", value, line))
            line += count_lines(source[pos:end])
            pos = end
            continue
        match = _TOKEN.match(source, pos)
        if match is None:
            raise errors.TemplateSyntaxError(f"Unexpected character `{char}`", line)
        kind = match.lastgroup
        text = match.group()
        if kind == "ws":
            line += count_lines(text)
        elif kind == "name":
            tokens.append(Token("op" if text in _WORD_OPERATORS else "name", text, line))
        elif kind == "number":
            tokens.append(Token("number", text, line))
        else:
            _track(brackets, text, line)
            tokens.append(Token("op", text, line))
        pos = match.end()
    opener = "{{" if close == "}}" else "{%"
    raise errors.TemplateSyntaxError(f"Unclosed `{opener}`", start_line)


def _track(brackets: list[tuple[str, int]], text: str, line: int) -> None:
    if text in "([{":
        brackets.append((text, line))
    elif text in _CLOSING:
        if not brackets:
            raise errors.TemplateSyntaxError(f"Unexpected `{text}`", line)
        opening, _ = brackets.pop()
        if opening != _CLOSING[text]:
            raise errors.TemplateSyntaxError(f"Unexpected `{text}` (`{opening}` is open)", line)


def _string(source: str, pos: int, line: int) -> tuple[str, int]:
    """A quoted literal: Pebble only unescapes the quote and the backslash."""
    quote = source[pos]
    index = pos + 1
    while True:
        index = _next_special(source, index, quote)
        if index < 0:
            raise errors.TemplateSyntaxError("Unclosed string literal", line)
        if source[index] == "\\":
            index += 2
            continue
        break
    raw = source[pos + 1 : index]
    if quote == '"' and "#{" in raw:
        raise errors.TemplateSyntaxError("String interpolation `#{…}` is not supported", line)
    value = raw.replace("\\" + quote, quote).replace("\\\\", "\\")
    return value, index + 1


def _next_special(source: str, index: int, quote: str) -> int:
    next_quote = source.find(quote, index)
    next_escape = source.find("\\", index)
    if next_escape < 0 or (0 <= next_quote < next_escape):
        return next_quote
    return next_escape if next_escape < len(source) - 1 else -1
