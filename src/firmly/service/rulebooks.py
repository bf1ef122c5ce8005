"""Rulebooks: check, load a new version (kept with its hash and load time)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from firmly.domain.errors import Conflict, FirmlyError, InvalidInput, Problem
from firmly.domain.ports import Store, StoredRulebook
from firmly.domain.rulebook import Rulebook, parse_rulebook
from firmly.service import workspace
from firmly.service.policy import as_rulebook
from firmly.service.replay import replay_in_transaction


def read(path: Path) -> Rulebook:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FirmlyError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise FirmlyError(f"{path} is not UTF-8 text") from None
    return parse_rulebook(text, str(path))


@dataclass(frozen=True, slots=True)
class Loaded:
    id: str
    version: str
    hash: str
    new: bool
    replayed: bool


def load(store: Store, book: Rulebook, now: int, by: str | None = None) -> Loaded:
    """Store `book` as a new version (loaded by `by`: a person's name or login), or find it stored already."""
    with store.write():
        ws = workspace.current(store)
        stored = store.rulebooks()
        for s in stored:
            if s.id == book.id and s.version == book.version:
                if s.hash == book.hash:
                    return Loaded(book.id, book.version, book.hash, new=False, replayed=False)
                raise Conflict(f"rulebook {book.id} version {book.version} is already loaded with other "
                               "content; give the changed rulebook a new version")
        _refuse_clashes(book, [as_rulebook(s) for s in stored if s.id != book.id])
        first = not any(s.id == book.id for s in stored)
        effective = book.effective_from if book.effective_from is not None else _after(ws.clock)
        store.add_rulebook(StoredRulebook(book.id, book.version, book.hash, book.source, now,
                                          None if first and book.effective_from is None else effective,
                                          by or None))
        replayed = False
        if ws.clock is not None and (first or _decided_from(store, effective, ws.clock)):
            # A first version governs all events, also those already stored; a later one, the events from its
            # effective_from, some of which were decided under the version before it: they are decided again,
            # as replay would, so that replaying later rewrites nothing.
            replay_in_transaction(store)
            replayed = True
        return Loaded(book.id, book.version, book.hash, new=True, replayed=replayed)


def _after(clock: int | None) -> int:
    """Where a later version loaded without an effective_from starts: just after the engine clock. Everything
    up to the clock, its own instant included, is decided already, under the version that was in force."""
    return 0 if clock is None else clock + 1


def _decided_from(store: Store, effective: int, clock: int) -> bool:
    """Whether anything from `effective` on is decided already: the clock (events, ticks) has reached it, or an
    event dated after the clock (ahead of it, within the horizon) is stored."""
    return effective <= clock or store.has_events_from(effective)


def _refuse_clashes(book: Rulebook, others: list[Rulebook]) -> None:
    latest: dict[str, Rulebook] = {}
    for other in others:
        latest[other.id] = other
    problems = []
    for other in latest.values():
        if not set(other.applies_to) & set(book.applies_to):
            continue
        for rule_id, rule in book.rules.items():
            if rule_id in other.rules:
                problems.append(Problem(book.source and "rulebook", rule.line, f"rules.{rule_id}",
                                        f"rule id {rule_id!r} is already used by rulebook {other.id!r} for the "
                                        "same counterparty kinds; rule ids must be unique"))
    if problems:
        raise InvalidInput(problems)


def stored(store: Store) -> list[StoredRulebook]:
    """Every loaded version, oldest first."""
    with store.read():
        workspace.current(store)
        return store.rulebooks()
