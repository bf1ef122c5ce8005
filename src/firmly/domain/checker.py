"""The rulebook's checker: collects every problem with its line, so that one run reports them all."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from firmly.domain.durations import DurationError, parse_duration
from firmly.domain.errors import IN_QUOTES, NEAR_MISS, Problem, ValueProblem
from firmly.domain.money import MoneyError, parse_amount
from firmly.domain.yamlmap import Path

# What counts and scores in a rulebook can be (README "Limits of a rulebook"): beyond this a number is a typo
# or an attack, and left in it would fail every event later.
MAX_COUNT = 1_000_000  # quota sizes, karma points, scorecard weights and thresholds
_REF = re.compile(r"^[a-z_]+\.[a-z_]+$")


def finite(value: object) -> bool:
    """A number, not a truth value, NaN or infinity."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class Checker:
    """Reads typed values out of a YAML mapping; what cannot be read becomes a Problem at its line."""

    def __init__(self, where: str, lines: dict[Path, int]) -> None:
        self.where = where
        self.lines = lines
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def line(self, path: Path) -> int:
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)

    def add(self, path: Path, template: str, *, warning: bool = False, **params: object) -> None:
        """A problem at `path`; its message is `template` with `params`, so a door can translate it."""
        self._put(path, template, params, warning)

    def refused(self, path: Path, exc: ValueProblem, ending: str = "") -> None:
        """A problem at `path` with a value's own problem as its message (and a hint ending it)."""
        self._put(path, exc.template + ending, exc.params)

    def unknown(self, path: Path, template: str, known: Iterable[str], **params: object) -> None:
        """An unknown field; when it is a near miss of a known one, the problem names that one too."""
        close = difflib.get_close_matches(str(path[-1]), sorted(known), n=1)
        if close:
            params["near"] = close[0]
            template += NEAR_MISS
        self._put(path, template, params)

    def _put(self, path: Path, template: str, params: Mapping[str, object], warning: bool = False) -> None:
        name = ".".join(str(p) for p in path) or "rulebook"
        problem = Problem.of(self.where, self.line(path), name, template, **params)
        (self.warnings if warning else self.problems).append(problem)

    def mapping(self, doc: dict[str, Any], path: Path) -> dict[str, Any]:
        """The mapping at `path` in `doc`; empty when absent, and a problem when it is not a mapping."""
        node: Any = doc
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return {}
        if not isinstance(node, dict):
            self.add(path, "must be a mapping of names to settings")
            return {}
        return node

    def text(self, node: dict[str, Any], path: Path, key: str, *, required: bool = False) -> str | None:
        value = node.get(key)
        if value is None:
            if required:
                self.add((*path, key), "is required")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.add((*path, key), "must be text, got {value}", value=repr(value))
            return None
        return str(value)

    def duration(self, node: dict[str, Any], path: Path, key: str, *, required: bool = False
                 ) -> timedelta | None:
        value = node.get(key)
        if value is None:
            if required:
                self.add((*path, key), "is required (a duration like \"24h\" or \"180d\")")
            return None
        try:
            return parse_duration(value)
        except DurationError as exc:
            self.refused((*path, key), exc)
            return None

    def money(self, value: object, path: Path) -> Decimal | None:
        try:
            return parse_amount(value)
        except MoneyError as exc:
            self.refused(path, exc, IN_QUOTES)
        except (ArithmeticError, ValueError) as exc:
            self.add(path, "{reason}; write money in quotes", reason=str(exc))
        return None

    def names(self, node: dict[str, Any], path: Path, key: str) -> tuple[str, ...]:
        value = node.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.add((*path, key), "must be a list of names")
            return ()
        return tuple(value)

    def ref(self, node: dict[str, Any], path: Path, key: str) -> tuple[str, str] | None:
        """An `<entity>.<field>` reference such as appointment.starts_at."""
        value = self.text(node, path, key)
        if value is None:
            return None
        if not _REF.match(value):
            self.add((*path, key), "must name <entity>.<field> like appointment.starts_at, got {value}",
                     value=repr(value))
            return None
        entity, _, name = value.partition(".")
        return entity, name

    def flag(self, node: dict[str, Any], path: Path, key: str, default: bool) -> bool:
        value = node.get(key, default)
        if not isinstance(value, bool):
            self.add((*path, key), "must be true or false")
        return bool(value)

    def choice(self, node: dict[str, Any], path: Path, key: str, choices: tuple[str, ...]) -> str:
        """One of `choices`, the first being the default."""
        value = node.get(key, choices[0])
        if value not in choices:
            self.add((*path, key), "must be {choices}, got {value}", choices=" or ".join(choices), value=repr(value))
        return str(value)
