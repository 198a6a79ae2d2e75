"""Pebble expression parser that emits Jinja2 (docs/semantics.md#expression-operators).

Precedence climbing over the tokens of one `{{ … }}`, with Pebble's binary precedences; every
emitted operation is parenthesised, so Jinja2's own precedence never regroups it. Pebble-only
operators become filters and tests of the sandbox (`__concat`, `__contains`, `__range`,
`__store`/`__load` with `__present`/`__resolved` for a lazy `??` that evaluates its left side
once), comparisons become `__compare` (which sizes its operands first), and functions become
filters on `none` (`now()` → `(none | __fn_now())`).
"""

from __future__ import annotations

import inspect
import keyword
from dataclasses import dataclass, field
from typing import Any, NoReturn

from tercel.engine.expressions import errors, grammar, lexer, registry

__all__ = ["Parser"]


@dataclass
class Parser:
    tokens: tuple[lexer.Token, ...]
    names: set[str] = field(default_factory=set)
    functions: set[str] = field(default_factory=set)
    slots: list[int] = field(default_factory=lambda: [0])
    index: int = 0
    level: int = 0
    #: inside a `{% for %}` body, `loop` is Jinja2's loop context (Pebble's `loop`)
    in_loop: bool = False

    def parse(self) -> grammar.Fragment:
        if self.peek().kind == "end":
            raise errors.TemplateSyntaxError("Empty expression `{{ }}`", self.peek().line)
        fragment = self.expression(0)
        token = self.peek()
        if token.kind != "end":
            self.fail(f"Unexpected `{token.value}`")
        return fragment

    # -- tokens -----------------------------------------------------------------------------

    def peek(self, offset: int = 0) -> lexer.Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def advance(self) -> lexer.Token:
        token = self.peek()
        self.index += 1
        return token

    def at(self, value: str) -> bool:
        token = self.peek()
        return token.kind == "op" and token.value == value

    def expect(self, value: str) -> None:
        if not self.at(value):
            token = self.peek()
            found = "end of expression" if token.kind == "end" else f"`{token.value}`"
            self.fail(f"Expected `{value}` but found {found}")
        self.index += 1

    def fail(self, message: str) -> NoReturn:
        raise errors.TemplateSyntaxError(message, self.peek().line)

    # -- grammar ----------------------------------------------------------------------------

    def expression(self, min_precedence: int) -> grammar.Fragment:
        self.level += 1
        if self.level > grammar.MAX_DEPTH:
            self.fail("Expression is nested too deeply")
        left = self.operand()
        while True:
            token = self.peek()
            precedence = grammar.BINARY.get(token.value) if token.kind == "op" else None
            if precedence is None or precedence < min_precedence:
                break
            self.advance()
            if token.value == "|":
                left = self.filter(left)
            elif token.value == "is":
                left = self.test(left)
            else:
                left = self.binary(token.value, left, self.expression(precedence + 1))
        if min_precedence == 0 and self.at("?"):
            self.advance()
            yes = self.expression(0)
            self.expect(":")
            no = self.expression(0)
            left = grammar.join(f"({yes.code} if {left.code} else {no.code})", left, yes, no)
        if left.depth > grammar.MAX_DEPTH:
            self.fail("Expression is nested too deeply")
        self.level -= 1
        return left

    def operand(self) -> grammar.Fragment:
        token = self.peek()
        if token.kind == "op" and token.value in grammar.UNARY:
            self.advance()
            inner = self.expression(grammar.UNARY_PRECEDENCE)
            return grammar.join(f"({grammar.UNARY[token.value]}{inner.code})", inner)
        if self.at("("):
            self.advance()
            inner = self.expression(0)
            self.expect(")")
            return self.postfix(
                grammar.Fragment(f"({inner.code})", inner.depth, inner.path, inner.literal)
            )
        if self.at("["):
            return self.list_literal()
        if self.at("{"):
            return self.map_literal()
        return self.postfix(self.primary())

    def primary(self) -> grammar.Fragment:
        token = self.advance()
        if token.kind == "string":
            return grammar.Fragment(ascii(token.value), literal=token.value)
        if token.kind == "number":
            value = float(token.value) if "." in token.value else int(token.value)
            return grammar.Fragment(token.value, literal=value)
        if token.kind != "name":
            self.index -= 1
            found = "end of expression" if token.kind == "end" else f"`{token.value}`"
            self.fail(f"Unexpected {found}")
        if token.value in grammar.CONSTANTS:
            code, constant = grammar.CONSTANTS[token.value]
            return grammar.Fragment(code, literal=constant)
        if self.at("("):
            return self.function(token.value)
        return self.variable(token.value)

    def variable(self, name: str) -> grammar.Fragment:
        if name.startswith("__"):
            self.fail(f"Variable `{name}` is not allowed: names starting with `__` are reserved")
        self.names.add(name)
        if name == "loop" and self.in_loop:
            return grammar.Fragment("loop")
        if grammar.is_name(name):
            return grammar.Fragment(name, path=(name,))
        return grammar.Fragment(f"(none | __var({name!a}))", path=(name,))

    def postfix(self, fragment: grammar.Fragment) -> grammar.Fragment:
        while True:
            if self.at("."):
                self.advance()
                fragment = self.attribute(fragment)
            elif self.at("["):
                self.advance()
                key = self.expression(0)
                self.expect("]")
                fragment = grammar.subscript(fragment, key)
            elif self.at("("):
                self.fail("Only functions can be called")
            else:
                return fragment

    def attribute(self, base: grammar.Fragment) -> grammar.Fragment:
        token = self.advance()
        if token.kind != "name":
            self.index -= 1
            self.fail("Expected an attribute name after `.`")
        name = token.value
        if name.startswith("_"):
            self.index -= 1
            self.fail(
                f"Attribute `.{name}` is not allowed: names starting with `_` are refused; "
                f"write `['{name}']` instead"
            )
        if self.at("("):
            self.fail(f"Method calls are not supported (`.{name}(…)`)")
        key = grammar.Fragment(ascii(name), literal=name)
        if grammar.is_name(name):
            code = f"{grammar.atom(base)}.{name}"
            path = (*base.path, name) if base.path is not None else None
            return grammar.Fragment(code, base.depth + 1, path)
        return grammar.subscript(base, key)

    def list_literal(self) -> grammar.Fragment:
        self.expect("[")
        items: list[grammar.Fragment] = []
        while not self.at("]"):
            if items:
                self.expect(",")
            items.append(self.expression(0))
        self.expect("]")
        return grammar.join("[" + ", ".join(item.code for item in items) + "]", *items)

    def map_literal(self) -> grammar.Fragment:
        self.expect("{")
        entries: list[grammar.Fragment] = []
        while not self.at("}"):
            if entries:
                self.expect(",")
            key = self.expression(0)
            self.expect(":")
            value = self.expression(0)
            entries.append(grammar.join(f"{key.code}: {value.code}", key, value))
        self.expect("}")
        return grammar.join("{ " + ", ".join(entry.code for entry in entries) + " }", *entries)

    def arguments(self) -> tuple[list[grammar.Fragment], list[tuple[str, grammar.Fragment]]]:
        self.expect("(")
        positional: list[grammar.Fragment] = []
        named: list[tuple[str, grammar.Fragment]] = []
        while not self.at(")"):
            if positional or named:
                self.expect(",")
            if (
                self.peek().kind == "name"
                and self.peek(1).kind == "op"
                and self.peek(1).value == "="
            ):
                name = self.advance().value
                self.advance()
                if not name.isidentifier() or not name.isascii() or keyword.iskeyword(name):
                    self.fail(f"Invalid argument name `{name}`")
                named.append((name, self.expression(0)))
            else:
                if named:
                    self.fail("Positional arguments must come before named arguments")
                positional.append(self.expression(0))
        self.expect(")")
        return positional, named

    def call(self, kind: str, name: str, spec: registry.Spec, extra: int) -> tuple[str, int]:
        positional, named = self.arguments() if self.at("(") else ([], [])
        try:
            bound: list[Any] = [None] * (extra + len(positional))
            inspect.signature(spec.fn).bind(*bound, **{key: None for key, _ in named})
        except TypeError as error:
            self.index -= 1
            self.fail(f"Invalid arguments for {kind} `{name}`: {error}")
        parts = [fragment.code for fragment in positional]
        parts += [f"{key}={fragment.code}" for key, fragment in named]
        depth = max([fragment.depth for fragment in positional + [f for _, f in named]] + [0])
        return ", ".join(parts), depth

    def function(self, name: str) -> grammar.Fragment:
        spec = registry.FUNCTIONS.get(name)
        if spec is None:
            self.index -= 1
            self.fail(f"Unknown function `{name}`")
        self.functions.add(name)
        arguments, depth = self.call("function", name, spec, 1 if spec.context else 0)
        return grammar.Fragment(f"(none | __fn_{name}({arguments}))", depth + 1)

    def filter(self, left: grammar.Fragment) -> grammar.Fragment:
        token = self.advance()
        spec = registry.FILTERS.get(token.value) if token.kind == "name" else None
        if spec is None:
            self.index -= 1
            self.fail(f"Unknown filter `{token.value}`")
        arguments, depth = self.call("filter", token.value, spec, 2 if spec.context else 1)
        return grammar.link(left, f"| {token.value}({arguments})", "filter", depth)

    def test(self, left: grammar.Fragment) -> grammar.Fragment:
        negated = self.at("not")
        if negated:
            self.advance()
        token = self.advance()
        spec = registry.TESTS.get(token.value) if token.kind == "name" else None
        if spec is None:
            self.index -= 1
            self.fail(f"Unknown test `{token.value}`")
        arguments, depth = self.call("test", token.value, spec, 1)
        call = f"{token.value}({arguments})" if arguments else token.value
        code = f"({left.code} is {'not ' if negated else ''}{call})"
        return grammar.Fragment(code, max(left.depth, depth) + 1)

    def binary(self, op: str, left: grammar.Fragment, right: grammar.Fragment) -> grammar.Fragment:
        if op in ("or", "and"):
            if left.chain != op:
                left = grammar.Fragment(f"((not not {left.code}))", left.depth + 1, chain=op)
            return grammar.link(left, f"{op} (not not {right.code})", op, right.depth)
        if op in grammar.FILTER_OPERATORS:
            return grammar.link(
                left, f"| {grammar.FILTER_OPERATORS[op]}({right.code})", "filter", right.depth
            )
        if op in grammar.CHAINS:
            return grammar.link(left, f"{op} {right.code}", grammar.CHAINS[op], right.depth)
        if op in grammar.COMPARISONS:
            name = grammar.COMPARISONS[op]
            code = f"({left.code} | __compare({name!a}, {right.code}))"
        elif op in ("??", "???"):
            slot = self.slots[0]
            self.slots[0] += 1
            test = "__present" if op == "??" else "__resolved"
            code = (
                f"((none | __load({slot})) if (({left.code} | __store({slot})) is {test}) "
                f"else {right.code})"
            )
        else:
            code = f"({left.code} {op} {right.code})"
        return grammar.join(code, left, right)
