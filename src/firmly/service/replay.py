"""Replay: rebuild all derived state (counterparty states, decisions) from the event log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from firmly.domain.engine import Decision, Engine
from firmly.domain.engine.retraction import RETRACTED, standing, withdrawn
from firmly.domain.events import TONE_EVENTS, Event
from firmly.domain.money import fmt
from firmly.domain.ports import Store
from firmly.service import tone, workspace
from firmly.service.policy import decision_row, load_policy, row_to_decision


@dataclass(frozen=True, slots=True)
class ReplayReport:
    events: int
    counterparties: int
    decisions: int
    rewritten: int  # decision rows that differed from what was stored


def replay(store: Store) -> ReplayReport:
    with store.write():
        return replay_in_transaction(store)


def replay_in_transaction(store: Store) -> ReplayReport:
    ws = workspace.current(store)
    engine = Engine(load_policy(store))
    count = 0

    retoned: list[Event] = []

    def counted() -> Iterator[Event]:
        nonlocal count
        for ev in store.all_events():
            count += 1
            if ev.type in TONE_EVENTS:
                retoned.extend(tone.attach([ev]))  # a changed lexicon applies to past messages too
            yield ev

    # The log comes in (occurred_at, arrival) order, so the fold streams it without sorting.
    retracted = withdrawn(store.events_of_type(RETRACTED))  # counted, but folded as if they had never come
    states, out = engine.run(standing(counted(), retracted), until=ws.ticked, ordered=True)
    store.set_tones(retoned)
    # The ledger is derived like the states: posted anew from the log (ids are stable, so it is the same ledger).
    store.drop_postings()
    postings = engine.take_postings()
    for i in range(0, len(postings), _BATCH):
        store.put_postings(postings[i:i + _BATCH])
    del postings
    final: dict[str, Decision] = {}
    for d in out:  # the last word on each decision
        final[d.id] = d
    del out
    # Only what differs from the stored rows is written (with its explanation): replaying an unchanged
    # history rewrites nothing, and a replay after a fix touches just the decisions it changes.
    stored = store.decision_facts()
    changed = [d for d in final.values() if stored.get(d.id) != facts(d)]
    # Decisions that history no longer produces stay, superseded, for the audit (as after a late event).
    gone = [i for i in stored.keys() - final.keys() if stored[i][_STATUS] != "superseded"]
    obsolete_rows = []
    for old in store.decisions(ids=gone) if gone else []:
        obsolete = row_to_decision(old)
        obsolete.status = "superseded"
        obsolete_rows.append(decision_row(engine, obsolete, states.get(obsolete.counterparty), ws))
    store.put_decisions(obsolete_rows)
    for i in range(0, len(changed), _BATCH):  # rows are written a batch at a time to bound memory
        part = changed[i:i + _BATCH]
        store.put_decisions([decision_row(engine, d, states.get(d.counterparty), ws) for d in part])
    store.save_states(states.values(), ws.clock if ws.clock is not None else 0)
    return ReplayReport(count, len(states), len(final), len(changed) + len(obsolete_rows))


def facts(d: Decision) -> tuple[Any, ...]:
    """What is stored of a decision, as `Store.decision_facts` reads it back."""
    return (d.counterparty, d.rule, d.at, d.n, d.action, d.status, None if d.amount is None else fmt(d.amount),
            d.currency, d.event, tuple(d.evidence), d.step, d.version, d.params or {})


_STATUS = 5
_BATCH = 50_000
