"""Boolean expressions over a seed's named conditions: ``A AND (B OR NOT C)``.

Grammar (keywords are case-insensitive; ``NOT`` binds tighter than ``AND``, which
binds tighter than ``OR``, as in the CMS uGT menu grammar)::

    expr   := term ("OR" term)*
    term   := factor ("AND" factor)*
    factor := "NOT" factor | "(" expr ")" | NAME

An expression is a small immutable tree (:class:`Ref`, :class:`Not`, :class:`And`,
:class:`Or`); :func:`format_expression` prints it back so that parsing the text gives
the same tree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "And",
    "Expr",
    "Not",
    "Or",
    "Ref",
    "format_expression",
    "parse_expression",
    "references",
]


@dataclass(frozen=True)
class Ref:
    """A condition of the seed, by name."""

    name: str


@dataclass(frozen=True)
class Not:
    """Logical negation."""

    operand: Expr


@dataclass(frozen=True)
class And:
    """All operands (two or more)."""

    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    """Any operand (two or more)."""

    operands: tuple[Expr, ...]


Expr = Ref | Not | And | Or

_TOKEN = re.compile(r"\s*(?:(\()|(\))|([A-Za-z_][A-Za-z0-9_]*))")
_KEYWORDS = {"AND", "OR", "NOT"}


class ExpressionError(ValueError):
    """An expression that does not parse; the message says where."""


def _tokens(text: str) -> list[str]:
    tokens = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ExpressionError(f"unexpected {text[position:].strip()[:20]!r} at {position}")
        tokens.append(match.group(match.lastindex or 0))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise ExpressionError(f"{self.text!r} ends too early")
        self.i += 1
        return token

    def expr(self) -> Expr:
        operands = [self.term()]
        while (self.peek() or "").upper() == "OR":
            self.take()
            operands.append(self.term())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def term(self) -> Expr:
        operands = [self.factor()]
        while (self.peek() or "").upper() == "AND":
            self.take()
            operands.append(self.factor())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def factor(self) -> Expr:
        token = self.take()
        if token.upper() == "NOT":
            return Not(self.factor())
        if token == "(":
            inner = self.expr()
            if self.take() != ")":
                raise ExpressionError(f"missing ')' in {self.text!r}")
            return inner
        if token == ")" or token.upper() in _KEYWORDS:
            raise ExpressionError(f"unexpected {token!r} in {self.text!r}")
        return Ref(token)


def parse_expression(text: str) -> Expr:
    """Parse ``text``; an :class:`ExpressionError` (a ValueError) says what is wrong."""
    if not text.strip():
        raise ExpressionError("the expression is empty")
    parser = _Parser(text)
    tree = parser.expr()
    if parser.peek() is not None:
        raise ExpressionError(f"unexpected {parser.peek()!r} in {text!r}")
    return tree


def references(expr: Expr) -> Iterator[str]:
    """Condition names in the order they appear (repeats included)."""
    match expr:
        case Ref(name):
            yield name
        case Not(operand):
            yield from references(operand)
        case And(operands) | Or(operands):
            for operand in operands:
                yield from references(operand)


def format_expression(expr: Expr) -> str:
    """The expression as text that parses back to the same tree."""
    match expr:
        case Ref(name):
            return name
        case Not(operand):
            inner = format_expression(operand)
            return f"NOT {inner}" if isinstance(operand, Ref | Not) else f"NOT ({inner})"
        case And(operands):
            return " AND ".join(
                f"({format_expression(o)})" if isinstance(o, Or | And) else format_expression(o)
                for o in operands
            )
        case Or(operands):
            return " OR ".join(
                f"({format_expression(o)})" if isinstance(o, Or) else format_expression(o)
                for o in operands
            )
    raise AssertionError(expr)  # the four node types above are all there are
