"""Pebble's `{% for %}`, `{% if %}`/`{% elseif %}`/`{% else %}` and `{% set %}` as Jinja2
(docs/semantics.md#expression-limits).

`Blocks` checks how the tags nest while the template is translated, so a stray or unclosed tag
is reported with its line, column and statement before Jinja2 sees it. A loop runs over
`(items | __loop)`: a bounded iterable whose every step counts against the per-render range cap
and checks the deadline, so nested loops stop with the expression limit error. Pebble's `loop`
is Jinja2's loop context read through `sandbox.lookup` (`index` from 0, `revindex` down to 0).
Text inside a block is emitted as an expression, so every iteration's output is counted too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2.runtime import Undefined

from tercel.engine.expressions import bounded, errors, grammar, guard, lexer, parser

__all__ = ["Blocks", "BoundedItems", "loop_items", "loop_pairs", "null_items"]

_OPENS = {"for": "endfor", "if": "endif"}


@dataclass
class Blocks:
    """Open blocks of one template, and the Jinja2 code of each statement."""

    names: set[str]
    functions: set[str]
    slots: list[int]
    #: each open block: its tag, whether `{% else %}` was seen, its loop number (for loops)
    open: list[tuple[lexer.Stmt, bool, int]] = field(default_factory=list)
    loops: int = 0

    @property
    def inside(self) -> bool:
        return bool(self.open)

    @property
    def in_loop(self) -> bool:
        return any(stmt.name == "for" and not in_else for stmt, in_else, _ in self.open)

    def translate(self, stmt: lexer.Stmt) -> str:
        handler = getattr(self, "_" + stmt.name)
        code: str = handler(stmt)
        return code

    def finish(self) -> None:
        if self.open:
            stmt = self.open[-1][0]
            _fail(
                stmt,
                f"Unclosed `{{% {stmt.name} %}}` block: `{{% {_OPENS[stmt.name]} %}}` is missing",
            )

    # -- statements -------------------------------------------------------------------------

    def _for(self, stmt: lexer.Stmt) -> str:
        tokens = stmt.tokens
        targets = [_target(stmt, tokens[0])]
        position = 1
        if _is_op(tokens[position], ","):
            targets.append(_target(stmt, tokens[position + 1]))
            position += 2
        if tokens[position].kind != "name" or tokens[position].value != "in":
            _fail(stmt, "Expected `{% for item in items %}`")
        items = self._expression(stmt, tokens[position + 1 :])
        number = self.loops
        self.loops += 1
        self.open.append((stmt, False, number))
        source = "__loop_pairs" if len(targets) == 2 else "__loop"
        return (
            f"{{% set __for{number} = (({items}) | {source}) %}}"
            f"{{% for {', '.join(targets)} in __for{number} %}}"
        )

    def _if(self, stmt: lexer.Stmt) -> str:
        condition = self._expression(stmt, stmt.tokens)
        self.open.append((stmt, False, -1))
        return f"{{% if {condition} %}}"

    def _elseif(self, stmt: lexer.Stmt) -> str:
        self._continue(stmt, ("if",))
        return f"{{% elif {self._expression(stmt, stmt.tokens)} %}}"

    def _else(self, stmt: lexer.Stmt) -> str:
        _no_arguments(stmt)
        self._continue(stmt, ("if", "for"))
        opener, _, number = self.open.pop()
        self.open.append((opener, True, number))
        if opener.name == "for":  # Pebble renders nothing at all for a null
            return f"{{% else %}}{{% if __for{number} is not __null_items %}}"
        return "{% else %}"

    def _endfor(self, stmt: lexer.Stmt) -> str:
        return self._close(stmt, "for")

    def _endif(self, stmt: lexer.Stmt) -> str:
        return self._close(stmt, "if")

    def _set(self, stmt: lexer.Stmt) -> str:
        tokens = stmt.tokens
        name = _target(stmt, tokens[0])
        if not _is_op(tokens[1], "="):
            _fail(stmt, "Expected `{% set name = value %}`")
        return f"{{% set {name} = {self._expression(stmt, tokens[2:])} %}}"

    # -- helpers ----------------------------------------------------------------------------

    def _continue(self, stmt: lexer.Stmt, openers: tuple[str, ...]) -> None:
        if not self.open or self.open[-1][0].name not in openers:
            expected = " or ".join(f"`{{% {name} %}}`" for name in openers)
            _fail(stmt, f"`{{% {stmt.name} %}}` outside of a {expected} block")
        if self.open[-1][1]:
            _fail(stmt, f"`{{% {stmt.name} %}}` after `{{% else %}}`")

    def _close(self, stmt: lexer.Stmt, opener: str) -> str:
        _no_arguments(stmt)
        if not self.open or self.open[-1][0].name != opener:
            inner = self.open[-1][0] if self.open else None
            where = (
                f": `{{% {inner.name} %}}` of line {inner.line}, column {inner.column} is "
                "still open"
                if inner
                else f" without `{{% {opener} %}}`"
            )
            _fail(stmt, f"Unexpected `{{% {stmt.name} %}}`{where}")
        _, in_else, _ = self.open.pop()
        if opener == "for" and in_else:
            return "{% endif %}{% endfor %}"
        return f"{{% end{opener} %}}"

    def parser(self, tokens: tuple[lexer.Token, ...]) -> parser.Parser:
        """A parser for one expression at this point of the template."""
        return parser.Parser(tokens, self.names, self.functions, self.slots, in_loop=self.in_loop)

    def _expression(self, stmt: lexer.Stmt, tokens: tuple[lexer.Token, ...]) -> str:
        if not tokens or tokens[0].kind == "end":
            _fail(stmt, f"`{{% {stmt.name} %}}` needs an expression")
        try:
            fragment = self.parser(tokens).parse()
        except errors.TemplateSyntaxError as error:
            _fail(stmt, error.message)
        return fragment.code


def _target(stmt: lexer.Stmt, token: lexer.Token) -> str:
    name = token.value
    if name == "loop":
        _fail(stmt, "`loop` is Pebble's loop variable and cannot be assigned")
    if token.kind != "name" or not grammar.is_name(name) or name.startswith("_"):
        shown = "end of tag" if token.kind == "end" else f"`{name}`"
        _fail(stmt, f"Expected a variable name but found {shown}")
    return name


def _is_op(token: lexer.Token, value: str) -> bool:
    return token.kind == "op" and token.value == value


def _no_arguments(stmt: lexer.Stmt) -> None:
    if stmt.tokens[0].kind != "end":
        _fail(stmt, f"Unexpected `{stmt.tokens[0].value}`")


def _fail(stmt: lexer.Stmt, message: str) -> Any:
    raise errors.TemplateSyntaxError(
        f"{message} (in `{{% {stmt.name} %}}` at line {stmt.line}, column {stmt.column})",
        stmt.line,
    )


class BoundedItems:
    """What a loop iterates: sized (for `loop.length`, `loop.last`), and every step counted."""

    __slots__ = ("items", "null")

    def __init__(self, items: list[Any], *, null: bool = False) -> None:
        self.items = items
        #: the loop was over null: Pebble skips its `{% else %}` too
        self.null = null

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Any]:
        for item in self.items:
            guard.count_iteration()
            yield item


def loop_items(value: Any) -> BoundedItems:
    """Pebble iterates lists and the entries of maps (`entry.key`, `entry.value`); null is
    empty."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    if value is None:
        return BoundedItems([], null=True)
    if isinstance(value, Mapping):
        return BoundedItems([{"key": key, "value": item} for key, item in value.items()])
    if isinstance(value, (list, tuple)):
        return BoundedItems(list(value))
    raise errors.RenderFailure(f"`{{% for %}}` cannot iterate over a {bounded.kind_of(value)}")


def loop_pairs(value: Any) -> BoundedItems:
    """`{% for key, value in map %}`: the map's pairs."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    if value is None:
        return BoundedItems([], null=True)
    if not isinstance(value, Mapping):
        raise errors.RenderFailure(
            f"`{{% for key, value in … %}}` needs a map, not a {bounded.kind_of(value)}"
        )
    return BoundedItems(list(value.items()))


def _kind(value: Any) -> str:
    return "string" if isinstance(value, str) else type(value).__name__


def null_items(value: Any) -> bool:
    """The `__null_items` test: the loop's value was null."""
    return isinstance(value, BoundedItems) and value.null
