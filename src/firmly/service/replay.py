"""Replay: rebuild all derived state (counterparty states, decisions) from the event log."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, islice
from typing import Any

import msgspec

from firmly.domain.engine import CounterpartyState, Decision, Engine
from firmly.domain.engine.parts import PartFold
from firmly.domain.engine.retraction import RETRACTED, standing, withdrawn
from firmly.domain.engine.state import decode_state, encode_state
from firmly.domain.events import TONE_EVENTS, Event
from firmly.domain.ledger import Posting
from firmly.domain.money import fmt
from firmly.domain.ports import Store
from firmly.service import split, tone, workspace
from firmly.service.policy import decision_row, load_policy, row_to_decision


@dataclass(frozen=True, slots=True)
class ReplayReport:
    events: int
    counterparties: int
    decisions: int
    rewritten: int  # decision rows that differed from what was stored


def replay(store: Store, parts: int = 1) -> ReplayReport:
    """`parts` > 1 splits the fold by counterparty over as many processes (service/split.py): the same result."""
    with store.write():
        return replay_in_transaction(store, parts)


@dataclass(slots=True)
class _Part:
    """What one part of a replay leaves to write: the rows are its own counterparties'."""

    events: int  # events read (part 0 counts them all)
    retoned: list[Event]
    postings: list[Posting]
    rows: Iterable[dict[str, Any]]  # decision rows to write, each made as it is written: the obsolete, the changed
    rewritten: int
    decisions: int
    states: dict[str, CounterpartyState]

    def __reduce__(self) -> tuple[Any, ...]:
        """Sent from another process: the rows made there, the states encoded (msgspec is quicker than pickle)."""
        return (_received, (self.events, self.retoned, self.postings, list(self.rows), self.rewritten,
                            self.decisions, [encode_state(st) for st in self.states.values()]))


def _received(events: int, retoned: list[Event], postings: list[Posting], rows: list[dict[str, Any]],
              rewritten: int, decisions: int, states: list[bytes]) -> _Part:
    decoded = (decode_state(blob) for blob in states)
    return _Part(events, retoned, postings, rows, rewritten, decisions, {st.key: st for st in decoded})


def replay_in_transaction(store: Store, parts: int = 1) -> ReplayReport:
    ws = workspace.current(store)
    done = split.in_parts(store, parts, _replay_part)
    store.set_tones([ev for part in done for ev in part.retoned])
    # The ledger is derived like the states: posted anew from the log (ids are stable, so it is the same ledger).
    store.drop_postings()
    for part in done:
        for i in range(0, len(part.postings), _BATCH):
            store.put_postings(part.postings[i:i + _BATCH])
        part.postings = []
    for part in done:  # rows are made and written a batch at a time to bound memory
        rows = iter(part.rows)
        while batch := list(islice(rows, _BATCH)):
            store.put_decisions(batch)
        part.rows = ()
    for part in done:
        store.save_states(part.states.values(), ws.clock if ws.clock is not None else 0)
    return ReplayReport(sum(p.events for p in done), sum(len(p.states) for p in done),
                        sum(p.decisions for p in done), sum(p.rewritten for p in done))


def _replay_part(store: Store, part: int, parts: int) -> _Part:
    """Fold the log (this part's counterparties, or all) and compare with the stored decisions."""
    ws = workspace.current(store)
    engine = Engine(load_policy(store))
    folder = PartFold(engine, part, parts) if parts > 1 else None
    count = 0
    retoned: list[Event] = []

    def keep(counterparty: str, partner: str | None) -> bool:
        nonlocal count
        count += 1  # every event read, also those left to the other parts
        return folder is None or folder.wants(counterparty, partner)

    def counted() -> Iterator[Event]:
        nonlocal count
        for ev in store.all_events(keep) if folder is not None else store.all_events():
            if folder is None:
                count += 1
            if ev.type in TONE_EVENTS:  # a changed lexicon applies to past messages too
                again = tone.attach([ev])
                if folder is None or folder.mine(ev.counterparty):  # written by the subject's part only
                    retoned.extend(again)
            yield ev

    # The log comes in (occurred_at, arrival) order, so the fold streams it without sorting.
    retracted = withdrawn(store.events_of_type(RETRACTED))  # counted, but folded as if they had never come
    if folder is None:
        states, out = engine.run(standing(counted(), retracted), until=ws.ticked, ordered=True)
    else:
        states, out = folder.run(standing(counted(), retracted), until=ws.ticked)
    postings = engine.take_postings()
    final: dict[str, Decision] = {}
    for d in out:  # the last word on each decision
        final[d.id] = d
    del out
    # Only what differs from the stored rows is written (with its explanation): replaying an unchanged
    # history rewrites nothing, and a replay after a fix touches just the decisions it changes.
    stored = store.decision_facts(keep=folder.mine if folder is not None else None, texts=True)
    changed = [d for d in final.values() if not _same(stored.get(d.id), d)]
    # Decisions that history no longer produces stay, superseded, for the audit (as after a late event).
    gone = [i for i in stored.keys() - final.keys() if stored[i][_STATUS] != "superseded"]
    del stored
    obsolete_rows = []
    for old in store.decisions(ids=gone) if gone else []:
        obsolete = row_to_decision(old)
        obsolete.status = "superseded"
        obsolete_rows.append(decision_row(engine, obsolete, states.get(obsolete.counterparty), ws))
    rows = chain(obsolete_rows, (decision_row(engine, d, states.get(d.counterparty), ws) for d in changed))
    return _Part(count if part == 0 else 0, retoned, postings, rows, len(obsolete_rows) + len(changed), len(final),
                 states)


def facts(d: Decision) -> tuple[Any, ...]:
    """What is stored of a decision, as `Store.decision_facts` reads it back."""
    return (d.counterparty, d.rule, d.at, d.n, d.action, d.status, None if d.amount is None else fmt(d.amount),
            d.currency, d.event, tuple(d.evidence), d.step, d.version, d.params or {})


def _same(stored: tuple[Any, ...] | None, d: Decision) -> bool:
    """Whether the stored fields (evidence and params as JSON text) are `facts(d)`. The same text is the same
    value when the decision's params are plain JSON values (a tuple or a Decimal would read back as another
    type); any other case is decoded and compared as `facts` compares."""
    if stored is None:
        return False
    amount = d.amount
    if (stored[0] != d.counterparty or stored[1] != d.rule or stored[2] != d.at or stored[3] != d.n
            or stored[4] != d.action or stored[5] != d.status or stored[6] != (None if amount is None else fmt(amount))
            or stored[7] != d.currency or stored[8] != d.event or stored[10] != d.step or stored[11] != d.version):
        return False
    evidence = d.evidence
    if stored[9] != _text(evidence).decode() and tuple(_read(stored[9])) != tuple(evidence):
        return False
    params = d.params or {}
    if stored[12] == _text(params).decode() and all(type(v) in _PLAIN for v in params.values()):
        return True
    return bool(_read(stored[12]) == params)


_text = msgspec.json.Encoder().encode
_read = msgspec.json.Decoder().decode
_PLAIN = frozenset({str, int, float, bool, type(None)})
_STATUS = 5
_BATCH = 50_000
