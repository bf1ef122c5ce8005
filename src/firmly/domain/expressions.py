"""What a `when:` expression may cost, known before it runs.

ZEN expressions run in native code that cannot be interrupted: `len(map([0..100000000], #))` asks for
gigabytes and ends the process. So a rulebook's expressions are measured when it is checked, from their
tokens: a range must be written with numbers (`[1..31]`, not `[0..data.n]`) and span at most
MAX_RANGE; map/filter/some/... nest at most MAX_NESTING deep; the ranges iterated inside one another
multiply to at most MAX_STATIC. What an expression iterates over the event's own data (`some(data.items,
…)`) is known only per event: `affordable` weighs it against the event's size before it runs.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

MAX_LENGTH = 2000  # characters; a condition a person reads is a line or two
MAX_RANGE = 10_000
MAX_NESTING = 2
MAX_STATIC = 100_000
BUDGET = 2_000_000  # elements an expression may visit for one event; ~tens of ms in the engine
CLOSURES = frozenset({"map", "filter", "some", "all", "none", "one", "count", "flatMap", "sortBy", "groupBy",
                      "keyBy"})

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<num>\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_$#][A-Za-z0-9_$#]*)
  | (?P<range>\.\.)
  | (?P<op>[()\[\]{},\-]|\S)
""", re.X)
_OPENERS = frozenset("([]")  # `]0..10[` is an open range
_CLOSERS = frozenset(")][")


class ExpressionCost(ValueError):
    """An expression that could cost more than an event may."""


@dataclass(frozen=True, slots=True)
class Cost:
    static: int = 1  # ranges iterated inside one another, multiplied
    dynamic: int = 0  # levels that iterate the event's own data

    @property
    def free(self) -> bool:
        return self.dynamic == 0

    @property
    def limit(self) -> float:
        """How large (in elements and characters) an event's data may be for this expression."""
        return float("inf") if self.dynamic == 0 else (BUDGET // self.static) ** (1 / self.dynamic)


def cost(text: str) -> Cost:
    """The expression's cost, or ExpressionCost saying in plain words what is too costly."""
    if len(text) > MAX_LENGTH:
        raise ExpressionCost(f"is {len(text):,} characters long; an expression is at most {MAX_LENGTH:,}")
    tokens = _ranges(_tokens(text))
    stack: list[list[Any]] = []  # [closure?, argument index, factor or None (the data)]
    static, dynamic = 1, 0
    i = 0
    while i < len(tokens):
        kind, value = tokens[i]
        body = [f for f in stack if f[0] and f[1] >= 1]  # the closures whose body we are in
        if kind == "name" and value in CLOSURES and i + 1 < len(tokens) and tokens[i + 1] == ("op", "("):
            if len(body) + 1 > MAX_NESTING:
                raise ExpressionCost(f"nests {value}(…) {len(body) + 1} deep inside map/filter/some/all; at most "
                                     f"{MAX_NESTING} levels")
            arg = tokens[i + 2] if i + 2 < len(tokens) else ("op", "")
            follows = tokens[i + 3] if i + 3 < len(tokens) else ("op", "")
            factor = arg[1] if arg[0] == "range" and follows == ("op", ",") else None
            stack.append([True, 0, factor])
            chain = [f[2] for f in body] + [factor]
            s = math.prod(f for f in chain if f is not None)
            if s > MAX_STATIC:
                raise ExpressionCost(f"iterates ranges inside one another over {s:,} values; at most "
                                     f"{MAX_STATIC:,}")
            static, dynamic = max(static, s), max(dynamic, sum(1 for f in chain if f is None))
            i += 2
            continue
        if kind == "range":
            s = math.prod(f[2] for f in body if f[2] is not None) * value
            if s > MAX_STATIC:
                raise ExpressionCost(f"iterates ranges inside one another over {s:,} values; at most "
                                     f"{MAX_STATIC:,}")
            static = max(static, s)
        elif value in ("(", "[", "{"):
            stack.append([False, 0, None])
        elif value in (")", "]", "}") and stack:
            stack.pop()
        elif value == "," and stack:
            stack[-1][1] += 1
        i += 1
    return Cost(static, dynamic)


def _tokens(text: str) -> list[tuple[str, Any]]:
    """Tokens outside string literals; the `${…}` parts of a `template` are code and are kept."""
    out: list[tuple[str, Any]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "\"'":
            end = i + 1
            while end < len(text) and text[end] != ch:
                end += 2 if text[end] == "\\" else 1
            out.append(("str", ""))
            i = end + 1
        elif ch == "`":
            i = _template(text, i + 1, out)
        else:
            match = _TOKEN.match(text, i)
            if match is None:  # pragma: no cover - the last branch takes any character
                break
            if match.lastgroup != "space":
                out.append((match.lastgroup or "op", match.group()))
            i = match.end()
    return out


def _template(text: str, i: int, out: list[tuple[str, Any]]) -> int:
    out.append(("str", ""))
    while i < len(text) and text[i] != "`":
        if text.startswith("${", i):
            depth, start = 1, i + 2
            i = start
            while i < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[i], 0)
                i += 1
            out.append(("op", "("))
            out.extend(_tokens(text[start:i - 1]))
            out.append(("op", ")"))
        else:
            i += 1
    return i + 1


def _ranges(tokens: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Each `[a..b]` (any of its open or closed forms) as one ("range", span) token."""
    out: list[tuple[str, Any]] = []
    i = 0
    while i < len(tokens):
        if tokens[i][1] in _OPENERS:
            end, span = _range_at(tokens, i)
            if end:
                out.append(("range", span))
                i = end
                continue
        if tokens[i][0] == "range":
            raise ExpressionCost("has a range whose ends are not numbers written out; write it like [1..31], "
                                 "or compare with >= and <=")
        out.append(tokens[i])
        i += 1
    return out


def _range_at(tokens: list[tuple[str, Any]], i: int) -> tuple[int, int]:
    j = i + 1
    low, j = _number(tokens, j)
    if low is None or j >= len(tokens) or tokens[j][0] != "range":
        return 0, 0
    high, j = _number(tokens, j + 1)
    if high is None or j >= len(tokens) or tokens[j][1] not in _CLOSERS:
        return 0, 0
    span = high - low
    if not math.isfinite(span) or abs(span) > MAX_RANGE:
        raise ExpressionCost(f"has a range of {_show(span)} values; a range spans at most {MAX_RANGE:,}")
    return j + 1, max(1, math.ceil(abs(span)) + 1)


def _number(tokens: list[tuple[str, Any]], j: int) -> tuple[float | None, int]:
    sign = 1
    if j < len(tokens) and tokens[j] == ("op", "-"):
        sign, j = -1, j + 1
    if j < len(tokens) and tokens[j][0] == "num":
        return sign * float(tokens[j][1].replace("_", "")), j + 1
    return None, j


def _show(span: float) -> str:
    return f"{span:,.0f}" if math.isfinite(span) else "endless"


def affordable(c: Cost, data: Any) -> bool:
    """Whether the expression, iterating this event's data, stays within BUDGET."""
    return c.dynamic == 0 or within(data, c.limit)


def within(data: Any, limit: float) -> bool:
    """Whether the data holds at most `limit` elements and characters."""
    return _size(data, limit) <= limit


def _size(value: Any, limit: float) -> int:
    """Elements of every list and mapping and characters of every text in the data, counted until past
    `limit`. Runs before every evaluation of an iterating expression, so it is written for speed."""
    if not isinstance(value, dict | list):
        return 1 + (len(value) if isinstance(value, str) else 0)
    n = 1
    todo: list[Any] = [value]
    while todo and n <= limit:
        item = todo.pop()
        n += len(item)
        for v in item.values() if type(item) is dict else item:
            if type(v) is str:
                n += len(v)
            elif isinstance(v, dict | list):
                todo.append(v)
    return n
