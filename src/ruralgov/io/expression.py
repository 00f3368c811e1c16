"""Arithmetic expressions in data files, read by a grammar of this project's own.

A calibration target's measure (``sanctions_total / (persuasions_total + warnings_total)``)
and a hypothesis test's closed form (``self_interest * misreporting * (1 - compliance_final)``)
are text in files people share like data. They are never handed to ``eval``, ``pd.eval`` or
``DataFrame.eval``/``query`` (which reach Python's globals): this module parses them itself
and evaluates the parsed tree over numbers or NumPy arrays. The grammar, in full::

    expression := term (("+" | "-") term)*
    term       := factor (("*" | "/") factor)*
    factor     := ("+" | "-") factor | power
    power      := atom ("**" factor)?
    atom       := NUMBER | NAME | FUNCTION "(" expression ("," expression)* ")"
                | "(" expression ")"

NUMBER is a decimal number (``0.5``, ``1e-3``); NAME is one of the names the caller allows
(the documented measures, factors or parameters); FUNCTION is one of [`FUNCTIONS`][
ruralgov.io.expression.FUNCTIONS]. Nothing else: no attribute access, no indexing, no strings,
no ``@``, no comparison, no names beyond those allowed. Text is at most
[`MAX_LENGTH`][ruralgov.io.expression.MAX_LENGTH] characters and nests at most
[`MAX_DEPTH`][ruralgov.io.expression.MAX_DEPTH] levels, so parsing is bounded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from ruralgov.model.schema import InputError

__all__ = ["Expression", "parse", "FUNCTIONS", "MAX_LENGTH", "MAX_DEPTH"]

MAX_LENGTH = 300
"""Characters an expression may have."""
MAX_DEPTH = 24
"""Levels of parentheses, signs and powers an expression may nest."""

FUNCTIONS: dict[str, tuple[int, Callable]] = {
    "abs": (1, np.abs), "sqrt": (1, np.sqrt), "log": (1, np.log), "exp": (1, np.exp),
    "min": (2, np.minimum), "max": (2, np.maximum),
}
"""Name -> (number of arguments, NumPy function): what an expression may call."""

_TOKEN = re.compile(r"""\s*(?:
      (?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op>\*\*|[-+*/(),])
    )""", re.VERBOSE)

_BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "**": np.power}

# a parsed node: ("num", value) | ("name", name) | ("neg", node) | (op, left, right)
# | ("call", function, args)
_Node = tuple


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its text, the names it reads, and its tree."""

    text: str
    names: frozenset[str]
    tree: _Node

    def evaluate(self, values: Mapping[str, object]) -> np.ndarray:
        """The expression's value over ``values`` (numbers or arrays of one length), as a
        float array; division by zero gives ±inf or NaN, never an exception."""
        with np.errstate(all="ignore"):
            return np.asarray(_eval(self.tree, values), dtype=float)


def _eval(node: _Node, values: Mapping[str, object]):
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "name":
        return np.asarray(values[node[1]], dtype=float)
    if kind == "neg":
        return np.negative(_eval(node[1], values))
    if kind == "call":
        return FUNCTIONS[node[1]][1](*(_eval(a, values) for a in node[2]))
    return _BINARY[kind](_eval(node[1], values), _eval(node[2], values))


def parse(text: object, allowed: Iterable[str] | None, where: str) -> Expression:
    """Parse ``text`` into an [`Expression`][ruralgov.io.expression.Expression].

    Args:
        text: the expression as read from a file.
        allowed: the names it may read (None: any name, checked later by the caller).
        where: the file and field, for the message.

    Raises:
        InputError: not text, too long, a character or name not allowed, malformed, too deep —
            naming ``where``, the position and what is allowed.
    """
    if not isinstance(text, str):
        raise InputError(f"{where}: an expression is text; got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise InputError(f"{where}: an expression of {len(text)} characters; at most "
                         f"{MAX_LENGTH}")
    allowed_set = None if allowed is None else frozenset(allowed)
    tokens = _tokens(text, where)
    parser = _Parser(text, tokens, allowed_set, where)
    tree = parser.expression(0)
    if parser.i < len(tokens):
        parser.fail(f"unexpected {tokens[parser.i][1]!r}")
    return Expression(text, frozenset(parser.names), tree)


_GRAMMAR_HELP = ("an expression holds numbers, names of measures, + - * / **, parentheses and "
                 "the functions " + ", ".join(FUNCTIONS))


def _tokens(text: str, where: str) -> list[tuple[str, str, int]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None:
            bad = text[pos:].lstrip()[0]
            col = len(text) - len(text[pos:].lstrip()) + 1
            raise InputError(f"{where}: {text!r}: {bad!r} at position {col} is not allowed; "
                             f"{_GRAMMAR_HELP}")
        kind = m.lastgroup
        out.append((kind, m.group(kind), m.start(kind) + 1))
        pos = m.end()
    return out


class _Parser:
    """Recursive descent over the token list, depth-bounded."""

    def __init__(self, text, tokens, allowed, where):
        self.text, self.tokens, self.allowed, self.where = text, tokens, allowed, where
        self.i, self.names = 0, set()

    def fail(self, what: str):
        pos = self.tokens[self.i][2] if self.i < len(self.tokens) else len(self.text) + 1
        raise InputError(f"{self.where}: {self.text!r}: {what} at position {pos}; "
                         f"{_GRAMMAR_HELP}")

    def peek(self) -> str | None:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def take(self, value: str) -> None:
        if self.peek() != value:
            self.fail(f"expected {value!r}" + (f", found {self.peek()!r}" if self.peek()
                                               else ", found the end"))
        self.i += 1

    def deeper(self, depth: int) -> int:
        if depth >= MAX_DEPTH:
            self.fail(f"nested more than {MAX_DEPTH} levels")
        return depth + 1

    def expression(self, depth: int) -> _Node:
        node = self.term(depth)
        while self.peek() in ("+", "-"):
            op = self.peek()
            self.i += 1
            node = (op, node, self.term(depth))
        return node

    def term(self, depth: int) -> _Node:
        node = self.factor(depth)
        while self.peek() in ("*", "/"):
            op = self.peek()
            self.i += 1
            node = (op, node, self.factor(depth))
        return node

    def factor(self, depth: int) -> _Node:
        if self.peek() in ("+", "-"):
            op = self.peek()
            self.i += 1
            inner = self.factor(self.deeper(depth))
            return ("neg", inner) if op == "-" else inner
        node = self.atom(depth)
        if self.peek() == "**":
            self.i += 1
            node = ("**", node, self.factor(self.deeper(depth)))
        return node

    def atom(self, depth: int) -> _Node:
        if self.i >= len(self.tokens):
            self.fail("the expression ends too early")
        kind, value, _ = self.tokens[self.i]
        if kind == "number":
            self.i += 1
            return ("num", float(value))
        if kind == "name":
            self.i += 1
            if self.peek() == "(":
                return self.call(value, depth)
            if self.allowed is not None and value not in self.allowed:
                self.i -= 1
                self.fail(f"{value!r} is not a name it may read ({_names(value, self.allowed)})")
            self.names.add(value)
            return ("name", value)
        if value == "(":
            self.i += 1
            node = self.expression(self.deeper(depth))
            self.take(")")
            return node
        self.fail(f"unexpected {value!r}")
        raise AssertionError  # unreachable: fail raises

    def call(self, name: str, depth: int) -> _Node:
        if name not in FUNCTIONS:
            self.i -= 1
            self.fail(f"{name!r} is not a function it may call")
        self.take("(")
        depth = self.deeper(depth)
        args = [self.expression(depth)]
        while self.peek() == ",":
            self.i += 1
            args.append(self.expression(depth))
        self.take(")")
        n = FUNCTIONS[name][0]
        if len(args) != n:
            self.i -= 1
            self.fail(f"{name}() takes {n} argument{'s' if n > 1 else ''}, given {len(args)}")
        return ("call", name, tuple(args))


def _names(name: str, allowed: frozenset[str], at_most: int = 8) -> str:
    """The allowed names closest to a wrong one, and how many there are."""
    import difflib

    near = difflib.get_close_matches(name, sorted(allowed), n=3, cutoff=0.6)
    if len(allowed) <= at_most:
        return "allowed: " + ", ".join(sorted(allowed))
    return ((f"did you mean {' or '.join(near)}? " if near else "")
            + f"{len(allowed)} names are allowed, e.g. {', '.join(sorted(allowed)[:3])}")
