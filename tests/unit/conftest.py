"""Helpers for the unit tests of the pure core: rulebooks from YAML text, events from dicts, one fold.

Everything here is in memory; no test under tests/unit touches a file outside the repository
except the shared reference rulebooks, and those tests skip when /work/shared is absent.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from firmly.domain.clock import parse_instant
from firmly.domain.engine import REVIEW_EVENT, Decision, Engine, Policy, conduct, route
from firmly.domain.engine.state import CounterpartyState
from firmly.domain.events import RESERVED_PREFIX, Event, validate
from firmly.domain.rulebook import Rulebook, parse_rulebook

# Test modules import these helpers as `tests.unit.conftest` (the name mypy gives this file); make the
# project root importable however pytest was started (`python -m pytest` already puts it first).
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SHARED = Path("/work/shared")
SCENARIOS = SHARED / "scenarios"

# The clinic rulebook of the clinic-attendance scenario, kept here so the core's tests run anywhere.
CLINIC = """\
rulebook: clinic
version: "2026-03"
title: Правила записи на приём
locale: ru
currency: RUB
timezone: Europe/Moscow
applies_to: [client]

ladders:
  gentle:
    window: 180d
    earn_back: 3
    steps:
      - feedback
      - warning
      - fee: "1000.00"
      - require_prepayment: 90d
      - suspend: 30d
        review: true
      - terminate: true
        review: true

tiers:
  vip:
    exempt: [late_cancellation]
    surcharge:
      late_cancellation: "500.00"

rules:
  late_cancellation:
    title: Отменяйте визит не позднее чем за 24 часа
    why: Врач держит для вас время.
    kind: notice
    event: appointment.cancelled
    min_notice: 24h
    kept_by: [appointment.attended]
    remind:
      before: appointment.starts_at
      at: [48h, 3h]
    ladder: gentle

  no_show:
    title: Если не можете прийти — предупредите
    why: Пропущенный приём — это час, который врач мог отдать другому пациенту.
    kind: forbidden
    event: appointment.no_show
    kept_by: [appointment.attended]
    ladder: gentle
"""


def book(text: str, where: str = "rulebook.yaml") -> Rulebook:
    """A rulebook from YAML text; the text may be indented as a whole (it is dedented)."""
    return parse_rulebook(textwrap.dedent(text), where)


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """The 1-based number of the line holding the nth occurrence of `needle` in `text`."""
    seen = 0
    for number, line in enumerate(textwrap.dedent(text).splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == nth:
                return number
    raise AssertionError(f"{needle!r} does not occur {nth} time(s) in the text")


def us(moment: str) -> int:
    """Engine time (UTC microseconds) of an RFC 3339 string."""
    return parse_instant(moment)


def msk(moment: str) -> str:
    """A Moscow time (the clinic's zone): msk("2026-03-01T10:00") is "2026-03-01T10:00:00+03:00"."""
    if len(moment) == 16:
        moment += ":00"
    return moment + "+03:00"


def raw(id: str, type: str, counterparty: str, occurred_at: str, **data: Any) -> dict[str, Any]:
    """An event envelope as a sender writes it."""
    return {"id": id, "type": type, "counterparty": counterparty, "occurred_at": occurred_at, "data": data}


def review(decision: Decision, act: str, occurred_at: str, *, step: int | None = None,
           reason: str = "checked by hand", author: str = "manager") -> dict[str, Any]:
    """The event a person's act on the review queue is recorded as."""
    data: dict[str, Any] = {"decision": decision.id, "act": act, "reason": reason, "author": author}
    if step is not None:
        data["step"] = step
    return {"id": f"review-{decision.id}-{act}", "type": REVIEW_EVENT, "counterparty": decision.counterparty,
            "occurred_at": occurred_at, "data": data}


def events(raws: Iterable[Mapping[str, Any]]) -> list[Event]:
    """Validated events with distinct arrival numbers, in the order given."""
    out: list[Event] = []
    for seq, envelope in enumerate(raws, 1):
        ev = validate(dict(envelope), internal=str(envelope.get("type", "")).startswith(RESERVED_PREFIX))
        ev.seq = seq
        out.append(ev)
    return out


@dataclass
class Fold:
    """The result of one fold: states, every decision emitted (with repeats) and the engine."""

    engine: Engine
    states: dict[str, CounterpartyState]
    out: list[Decision]
    now: int | None

    @property
    def final(self) -> dict[str, Decision]:
        """The last word on each decision id, in order of first appearance."""
        last: dict[str, Decision] = {}
        for d in self.out:
            last[d.id] = d
        return last

    def decisions(self, counterparty: str | None = None, rule: str | None = None, action: str | None = None,
                  status: str | None = None, event: str | None = None) -> list[Decision]:
        return [d for d in self.final.values()
                if (counterparty is None or d.counterparty == counterparty)
                and (rule is None or d.rule == rule)
                and (action is None or d.action == action)
                and (status is None or d.status == status)
                and (event is None or d.event == event)]

    def actions(self, counterparty: str, rule: str | None = None, *, include_reminders: bool = False
                ) -> list[str]:
        """Actions of the decisions about a counterparty (and rule), in the order they were made."""
        return [d.action for d in self.decisions(counterparty, rule)
                if include_reminders or d.action != "reminder"]

    def show(self, counterparty: str, now: int | str | None = None) -> dict[str, Any]:
        """The conduct view of `counterparty show` at `now` (default: the fold's clock)."""
        at = us(now) if isinstance(now, str) else now if now is not None else self.now
        assert at is not None, "give `now` when the fold had no `until`"
        st = self.states[counterparty]
        return conduct(st, self.engine.table(st, at), at)

    def status(self, counterparty: str, now: int | str | None = None) -> str:
        return str(self.show(counterparty, now)["status"])

    def feed(self, raws: Iterable[Mapping[str, Any]], until: str | None = None) -> list[Decision]:
        """Apply more events, one at a time as they would arrive live, then let the clock reach `until`.
        Returns the decisions this made or changed (also added to `out`)."""
        more: list[Decision] = []
        for ev in events(raws):
            for key, role in route(ev):
                st = self.states.get(key)
                if st is None:
                    st = self.states[key] = self.engine.new_state(key, role)
                self.engine.apply(st, ev, more, role)
        if until is not None:
            self.now = us(until)
            for st in self.states.values():
                self.engine.advance(st, self.now, more)
        self.out.extend(more)
        return more


def fold(books: Rulebook | Iterable[Rulebook], raws: Iterable[Mapping[str, Any]], until: str | None = None
         ) -> Fold:
    """Fold events (given as envelopes) through a fresh engine, then the clock up to `until`."""
    versions = [books] if isinstance(books, Rulebook) else list(books)
    engine = Engine(Policy(versions))
    now = us(until) if until is not None else None
    states, out = engine.run(events(raws), until=now)
    return Fold(engine, states, out, now)


@pytest.fixture(scope="session")
def clinic() -> Rulebook:
    return book(CLINIC)
