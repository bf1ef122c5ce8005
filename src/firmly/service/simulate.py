"""What-if: replay the stored history under another rulebook and compare, storing nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import partial
from typing import Any, NamedTuple

from firmly.domain.engine import INACTIVE, Engine, Policy
from firmly.domain.engine.decision import ACTIONS
from firmly.domain.engine.parts import PartFold
from firmly.domain.engine.retraction import RETRACTED, standing, withdrawn
from firmly.domain.errors import Busy
from firmly.domain.events import Event
from firmly.domain.ports import Store
from firmly.domain.rulebook import Rulebook
from firmly.service import split, workspace
from firmly.service.policy import decision_row, load_policy

RETRY_AFTER = 10  # seconds: a simulation over a clinic's year takes a few
_running: set[str] = set()
_guard = threading.Lock()


@contextmanager
def _one_at_a_time(workspace: str) -> Iterator[None]:
    """One simulation per workspace in this process: each replays the whole history in memory, so a second
    one started meanwhile (a double click, a script in a loop) would only double the memory and the wait."""
    with _guard:
        if workspace in _running:
            raise Busy("a simulation is already running in this workspace; try again when it is done",
                       RETRY_AFTER)
        _running.add(workspace)
    try:
        yield
    finally:
        with _guard:
            _running.discard(workspace)


# (phase, done, total): "reading" the stored decisions (0 of the history's events), "replaying" (events
# replayed of the history's), "comparing" (counterparties compared of those with a difference to look at)
Progress = Callable[[str, int, int], None]
EVERY = 1_000  # events between two progress reports: a few milliseconds of replay


def simulate(store: Store, book: Rulebook, since: int | None = None, until: int | None = None,
             progress: Progress | None = None, parts: int = 1) -> dict[str, Any]:
    """`parts` > 1 splits the fold by counterparty over as many processes (service/split.py), reporting no
    progress: the same result."""
    with _one_at_a_time(store.workspace):
        return _simulate(store, book, since, until, progress, parts if progress is None else 1)


def _counted(events: Iterable[Event], total: int, progress: Progress | None) -> Iterator[Event]:
    if progress is None:
        yield from events
        return
    n = 0
    for n, ev in enumerate(events, 1):
        if n % EVERY == 0:
            progress("replaying", n, total)
        yield ev
    whole = max(n, total)  # withdrawn events are counted in the total but never replayed: the end is the end
    progress("replaying", whole, whole)


def _simulate(store: Store, book: Rulebook, since: int | None, until: int | None,
              progress: Progress | None = None, parts: int = 1) -> dict[str, Any]:
    with store.read():
        done = split.in_parts(store, parts, partial(_simulate_part, book, since, until, progress))
    # each part compared its own counterparties; the sentences are listed for the first changed ones overall
    listed = set(sorted(key for part in done for key in part.changed)[:WRITTEN])
    people: dict[str, dict[str, Any]] = {}
    by_action: dict[str, dict[str, int]] = {}
    in_money: dict[str, dict[str, dict[str, str]]] = {}
    for part in done:
        changed = set(part.changed)
        for key, person in part.people.items():
            if "decisions" in person and key in changed and key not in listed:
                del person["decisions"]  # among its part's first, not among the first overall
            people[key] = person
        for action, counts in part.by_action.items():
            into = by_action.setdefault(action, {"current": 0, "simulated": 0})
            for column, n in counts.items():
                into[column] += n
        for currency, actions in part.in_money.items():
            for action, entry in actions.items():
                into_money = in_money.setdefault(currency, {}).setdefault(action, {"current": "0", "simulated": "0"})
                for column, amount in entry.items():  # exact sums: the same whatever the order of the parts
                    into_money[column] = str(Decimal(into_money[column]) + Decimal(amount))
    for actions in in_money.values():
        for entry in actions.values():
            delta = Decimal(entry["simulated"]) - Decimal(entry["current"])
            entry["change"] = str(delta) if delta else "0"
    return {"rulebook": f"{book.id}@{book.version}", "governed": sum(p.governed for p in done),
            "totals": {action: by_action[action] for action in ACTIONS if action in by_action},
            "money": {c: {a: in_money[c][a] for a in ACTIONS if a in in_money[c]} for c in sorted(in_money)},
            "counterparties": [people[key] for key in sorted(people)]}


class _Part(NamedTuple):
    """One part's counterparties compared: those with a change, the sums of each action, which ones changed."""

    people: dict[str, dict[str, Any]]
    by_action: dict[str, dict[str, int]]
    in_money: dict[str, dict[str, dict[str, str]]]
    changed: list[str]  # the counterparties with a changed decision
    governed: int


def _simulate_part(book: Rulebook, since: int | None, until: int | None, progress: Progress | None,
                   store: Store, part: int, parts: int) -> _Part:
    ws = workspace.current(store)
    if progress is not None:
        progress("reading", 0, ws.events)  # started: the page can say how much there is to do
    policy: Policy = load_policy(store, replace=book)
    engine = Engine(policy)
    folder = PartFold(engine, part, parts) if parts > 1 else None
    # evidence and params left as text: only counterparty, time, action, status and amount are compared
    facts = store.decision_facts(keep=folder.mine if folder is not None else None, texts=True)
    gone = withdrawn(store.events_of_type(RETRACTED))
    if progress is not None:
        progress("replaying", 0, ws.events)
    if folder is None:
        history = _counted(standing(store.all_events(), gone), ws.events, progress)
        states, out = engine.run(history, until=ws.ticked, ordered=True)
    else:
        states, out = folder.run(standing(store.all_events(folder.wants), gone), until=ws.ticked)
    # only the counterparties the changed rulebook governs: another rulebook's clients are not its business
    governed = {key for key, st in states.items()
                if any(b.id == book.id for b in engine.table(st, st.last_at).books)}

    def counted(at: int, status: str, counterparty: str) -> bool:
        return (status not in INACTIVE and counterparty in governed and (since is None or at >= since)
                and (until is None or at <= until))

    now: dict[str, Fact] = {i: Fact(f[0], f[4], f[6] and Decimal(f[6]), f[7])
                            for i, f in facts.items() if counted(f[2], f[5], f[0])}
    del facts
    final = {d.id: d for d in out}
    del out
    then: dict[str, Fact] = {d.id: Fact(d.counterparty, d.action, d.amount, d.currency)
                             for d in final.values() if counted(d.at, d.status, d.counterparty)}
    if progress is not None:
        progress("comparing", 0, 0)  # the count comes with the first thousand counterparties
    changed = _changed_decisions(now, then)
    # sentences for the first counterparties only (by key, as listed): written out for all of 100,000
    # clients they would cost more than the replay itself
    wanted = {i for key in sorted(changed)[:WRITTEN] for _, i in changed[key][:SENTENCES]}
    stored = {r["id"]: r["explanation"] for r in store.decisions(ids=[i for i in wanted if i in now])}
    sentences = {i: decision_row(engine, final[i], states.get(final[i].counterparty), ws)["explanation"]
                 for i in wanted if i in then}
    actions = {i: (then.get(i) or now[i]).action for i in wanted}
    people, by_action, in_money = _compare(_per_counterparty(now, then), changed, {**stored, **sentences}, actions,
                                           progress)
    return _Part(people, by_action, in_money, list(changed), len(governed))


SENTENCES = 20  # changed decisions written out per counterparty
WRITTEN = 200  # counterparties whose changed decisions are written out (the page lists as many)


class Fact(NamedTuple):
    counterparty: str
    action: str
    amount: Decimal | None
    currency: str | None


def _changed_decisions(now: dict[str, Fact], then: dict[str, Fact]) -> dict[str, list[tuple[str, str]]]:
    """Per counterparty: (how, decision id) of each decision that would not be, would be new, or would cost
    another amount. Ids are deterministic, so the same decision under both rulebooks has the same id."""
    out: dict[str, list[tuple[str, str]]] = {}
    for i, fact in now.items():
        other = then.get(i)
        if other is None:
            out.setdefault(fact.counterparty, []).append(("gone", i))
        elif other.amount != fact.amount:
            out.setdefault(fact.counterparty, []).append(("amount", i))
    for i, fact in then.items():
        if i not in now:
            out.setdefault(fact.counterparty, []).append(("new", i))
    return out


Sides = dict[str, dict[str, tuple[int, dict[str, Decimal]]]]  # column -> action -> (count, currency -> amount)


def _per_counterparty(now: dict[str, Fact], then: dict[str, Fact]) -> dict[str, Sides]:
    """Per counterparty, the count and the sums of each action, now and simulated: one pass over each side."""
    per: dict[str, Sides] = {}
    for column, facts in (("current", now), ("simulated", then)):
        for fact in facts.values():
            side = per.setdefault(fact.counterparty, {"current": {}, "simulated": {}})[column]
            count, sums = side.get(fact.action, (0, {}))
            if fact.amount is not None and fact.currency:
                sums[fact.currency] = sums.get(fact.currency, Decimal(0)) + fact.amount
            side[fact.action] = (count + 1, sums)
    return per


def _changes(sides: Sides, by_action: dict[str, dict[str, int]],
             in_money: dict[str, dict[str, dict[str, str]]]) -> list[dict[str, Any]]:
    """One counterparty's changed actions and amounts; adds its figures to the workspace's totals."""
    changes = []
    for action in ACTIONS:
        was, was_sums = sides["current"].get(action, (0, {}))
        will, will_sums = sides["simulated"].get(action, (0, {}))
        if not was and not will:
            continue
        for column, n, sums in (("current", was, was_sums), ("simulated", will, will_sums)):
            by_action.setdefault(action, {"current": 0, "simulated": 0})[column] += n
            for currency, amount in sums.items():
                entry = in_money.setdefault(currency, {}).setdefault(action, {"current": "0", "simulated": "0"})
                entry[column] = str(Decimal(entry[column]) + amount)
        amounts = {c: {"current": str(was_sums.get(c, Decimal(0))), "simulated": str(will_sums.get(c, Decimal(0)))}
                   for c in sorted({*was_sums, *will_sums}) if was_sums.get(c, 0) != will_sums.get(c, 0)}
        if was != will or amounts:
            change: dict[str, Any] = {"action": action, "current": was, "simulated": will}
            if amounts:
                change["amounts"] = amounts
            changes.append(change)
    return changes


def _compare(per: dict[str, Sides], changed: dict[str, list[tuple[str, str]]], sentences: dict[str, str],
             action_of: dict[str, str], progress: Progress | None = None
             ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, int]], dict[str, dict[str, dict[str, str]]]]:
    """These counterparties' changes (in key order), and the counts and sums of each action now and simulated."""
    by_action: dict[str, dict[str, int]] = {}
    in_money: dict[str, dict[str, dict[str, str]]] = {}
    people: dict[str, dict[str, Any]] = {}
    for n, key in enumerate(sorted(per), 1):
        if progress is not None and n % EVERY == 0:
            progress("comparing", n, len(per))
        changes = _changes(per[key], by_action, in_money)
        if changes:
            people[key] = {"key": key, "changes": changes}
            if all(i in sentences for _, i in changed.get(key, [])[:SENTENCES]):
                people[key]["decisions"] = [
                    {"change": how, "id": i, "action": action_of[i], "explanation": sentences[i]}
                    for how, i in changed.get(key, [])[:SENTENCES]]
    return people, by_action, in_money
