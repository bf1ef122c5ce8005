"""Rulebooks compiled into per-kind dispatch tables: for each event type, the rules that care."""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import zen

from firmly.domain.clock import to_us
from firmly.domain.durations import to_us as duration_us
from firmly.domain.engine.kinds import KINDS
from firmly.domain.engine.kinds.base import Fire, Judge, kept_by
from firmly.domain.expressions import cost, within
from firmly.domain.ladders import Ladder
from firmly.domain.ledger import Terms, terms
from firmly.domain.rulebook import Price, Rule, Rulebook
from firmly.domain.scores import KarmaTerms, ScorecardTerms, karma_terms, scorecard_terms
from firmly.domain.sections import COST_PERIOD, FLAG_RATIO

log = logging.getLogger("firmly.engine")


@dataclass(slots=True)
class Compiled:
    """A rule with everything the fold needs, resolved once."""

    rule: Rule
    book: Rulebook
    ladder: Ladder | None
    group: str
    window_us: int
    when: Any  # a compiled ZEN expression, or None
    judge: Judge  # its kind's handler: the fold calls it directly
    min_notice_us: int = 0
    grace_us: int = 0
    thank_from: int | None = None
    thank_until: int | None = None
    remind_us: tuple[int, ...] = ()
    per_us: int | None = None
    max_late_us: int | None = None
    tz: ZoneInfo | None = None
    id: str = ""  # the rule's id and the rulebook version, resolved once: the fold reads them per decision
    version: str = ""
    when_limit: float | None = None  # for a `when:` that iterates the event's data: how large that data may be
    fire: Fire | None = None  # its kind's timer handler, if the kind sets timers
    spec: Any = None  # what a kind of its own compiled from the rule's spec

    def applies(self, event_type: str, counterparty: str, event_id: str, data: dict[str, Any]) -> bool:
        if self.when is None:
            return True
        if self.when_limit is not None and not within(data, self.when_limit):
            # The event's data is so large that this condition would run for too long: the rule does not
            # apply to it, as with a field the event lacks. Decided by the data alone, so replay agrees.
            log.warning("rule %s skipped for event %s: its `when:` would iterate more of this event's data "
                        "than one event may cost", self.id, event_id)
            return False
        context = {"type": event_type, "counterparty": counterparty, "id": event_id, "data": data}
        try:
            return bool(self.when.evaluate(context))
        except Exception:  # an expression over a field this event lacks does not apply; zen raises plainly
            return False
        except BaseException as exc:  # a panic in the native engine is this rule's failure, not the process's
            if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
                raise
            log.warning("rule %s skipped for event %s: its `when:` failed: %s", self.id, event_id, exc)
            return False


@dataclass(slots=True)
class Table:
    """What one counterparty kind does with each event type, under the rulebooks in force."""

    rules: dict[str, Compiled] = field(default_factory=dict)
    judged: dict[str, list[Compiled]] = field(default_factory=dict)  # type -> rules it may break or keep
    kept: dict[str, list[Compiled]] = field(default_factory=dict)  # type -> rules it keeps (kept_by)
    expected: dict[str, list[Compiled]] = field(default_factory=dict)  # type -> deadline rules it fulfils
    refs: tuple[tuple[str, str], ...] = ()  # (entity, field) pairs some rule times from
    timed: tuple[Timed, ...] = ()  # each ref with the reminder and deadline rules that count from it
    reminders: dict[tuple[str, str], list[Compiled]] = field(default_factory=dict)
    deadlines: dict[tuple[str, str], list[Compiled]] = field(default_factory=dict)
    books: tuple[Rulebook, ...] = ()
    plans: dict[str, Plan] = field(default_factory=dict)
    account: Terms | None = None  # the first rulebook's `account:` section
    prices: dict[str, Price] = field(default_factory=dict)
    currency: str = "RUB"
    cost_period_us: int = duration_us(COST_PERIOD)
    flag_ratio: Decimal = FLAG_RATIO
    karma: KarmaTerms | None = None  # karma, bonuses and reviews of partners
    scorecard: ScorecardTerms | None = None

    def plan(self, kind: str) -> Plan:
        """Everything one event type needs, found with a single lookup per event: each rule it concerns with
        the handler to call (the rules it may break or keep, the deadlines it fulfils, then the rules it
        keeps by `kept_by:`), and whether it closes an entity."""
        plan = self.plans.get(kind)
        if plan is None:
            expected = tuple(self.expected.get(kind, ()))
            closing = kind.rpartition(".")[2] in CLOSING or bool(expected)
            handlers = [(c.judge, c) for c in (*self.judged.get(kind, ()), *expected)]
            handlers += [(kept_by, c) for c in self.kept.get(kind, ())]
            plan = self.plans[kind] = (tuple(handlers), closing)
        return plan


CLOSING = frozenset({"cancelled", "attended", "no_show", "completed", "closed"})  # an entity that is done
Timed = tuple[tuple[str, str], tuple[Compiled, ...], tuple[Compiled, ...]]
Plan = tuple[tuple[tuple[Judge, Compiled], ...], bool]


def _compile(rule: Rule, book: Rulebook) -> Compiled:
    ladder = book.ladders.get(rule.ladder) if rule.ladder else None
    tz = ZoneInfo(book.timezone)
    kind = KINDS[rule.kind]
    compiled = Compiled(
        rule=rule, book=book, ladder=ladder, group=rule.ladder_group or rule.id,
        window_us=duration_us(ladder.window) if ladder else 0,
        when=zen.compile_expression(rule.when) if rule.when else None,
        when_limit=_limit(rule.when), tz=tz,
        remind_us=tuple(sorted((duration_us(a) for a in rule.remind.at), reverse=True)) if rule.remind else (),
        id=rule.id, version=f"{book.id}@{book.version}", judge=kind.judge, fire=kind.fire)
    kind.prepare(compiled)
    if rule.introduced is not None:
        start = datetime.combine(rule.introduced, time(0), tzinfo=tz)
        compiled.thank_from = to_us(start)
        compiled.thank_until = to_us(start + (rule.thank_for or timedelta(0)))
    return compiled


def _limit(when: str | None) -> float | None:
    expense = cost(when) if when else None
    return None if expense is None or expense.free else expense.limit


def build_table(books: Iterable[Rulebook]) -> Table:
    table = Table(books=tuple(books))
    refs: set[tuple[str, str]] = set()
    for book in reversed(table.books):  # the first rulebook wins where two define the same
        table.prices.update(book.prices)
        table.currency = book.currency
        sections = book.sections
        table.account = terms(sections.account, book.currency) or table.account
        cost = sections.cost_to_serve
        if cost is not None and cost.period is not None:
            table.cost_period_us = duration_us(cost.period)
        if cost is not None and cost.flag_ratio is not None:
            table.flag_ratio = cost.flag_ratio
        table.karma = karma_terms(sections.karma, sections.reviews) or table.karma
        table.scorecard = scorecard_terms(sections.scorecard) or table.scorecard
    for book in table.books:
        for rule in book.rules.values():
            c = _compile(rule, book)
            table.rules[rule.id] = c
            KINDS[rule.kind].wire(c, table, refs)
            for kind in rule.kept_by:
                table.kept.setdefault(kind, []).append(c)
            if rule.remind:
                ref = (rule.remind.entity, rule.remind.field)
                refs.add(ref)
                table.reminders.setdefault(ref, []).append(c)
    table.refs = tuple(sorted(refs))
    table.timed = tuple((ref, tuple(table.reminders.get(ref, ())), tuple(table.deadlines.get(ref, ())))
                        for ref in table.refs)
    return table


class Policy:
    """All rulebook versions of a workspace: which rules govern a counterparty at a moment."""

    def __init__(self, versions: Iterable[Rulebook], loaded_at: dict[str, int] | None = None) -> None:
        by_id: dict[str, list[tuple[int, Rulebook]]] = {}
        for book in versions:
            start = book.effective_from
            if start is None:
                start = (loaded_at or {}).get(f"{book.id}@{book.version}", 0)
            by_id.setdefault(book.id, []).append((start, book))
        for entries in by_id.values():
            entries.sort(key=lambda e: e[0])
            entries[0] = (-(2**62), entries[0][1])  # the first version applies to all events
        self._by_id = by_id
        self._bounds = sorted({start for entries in by_id.values() for start, _ in entries[1:]})
        self._tables: dict[tuple[str, tuple[str, ...] | None, int], Table] = {}
        self.single_epoch = not self._bounds  # one set of rules for all time: the common, fast case

    def table(self, kind: str, only: tuple[str, ...] | None, at: int) -> Table:
        epoch = bisect_right(self._bounds, at) if self._bounds else 0
        cache_key = (kind, only, epoch)
        table = self._tables.get(cache_key)
        if table is None:
            moment = self._bounds[epoch - 1] if epoch else -(2**62)
            books = []
            for book_id, entries in sorted(self._by_id.items()):
                current = [b for start, b in entries if start <= moment][-1:] or [entries[0][1]]
                book = current[0]
                if (only is not None and book_id in only) or (only is None and kind in book.applies_to):
                    books.append(book)
            table = self._tables[cache_key] = build_table(books)
        return table
