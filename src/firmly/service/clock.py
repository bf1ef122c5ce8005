"""The engine clock: `tick` fires what is due (reminders, deadlines, the end of restrictions)."""

from __future__ import annotations

from dataclasses import dataclass

from firmly.domain.engine import Decision, Engine
from firmly.domain.ports import Store
from firmly.service import connectors, outbox, workspace
from firmly.service.policy import decision_rows, load_policy


@dataclass(frozen=True, slots=True)
class TickReport:
    as_of: int
    woken: int
    decisions: int


def tick(store: Store, as_of: int) -> TickReport:
    connectors.attend(store, as_of)  # visits a connector records as attended when due, before the clock passes them
    with store.write():
        ws = workspace.current(store)
        engine = Engine(load_policy(store))
        keys = store.states_due(as_of)
        states = store.load_states(keys)
        out: list[Decision] = []
        for st in states.values():
            engine.advance(st, as_of, out)
        clock = max(ws.clock or as_of, as_of)
        rows = decision_rows(engine, out, states, ws)
        store.put_decisions(rows)
        store.put_postings(engine.take_postings())  # fees that fell due with a timer
        outbox.letters(store, engine, rows, states, ws, clock)  # reminders that fell due, in this transaction
        store.save_states(states.values(), clock)
        store.set_clock(clock, max(ws.ticked or as_of, as_of))
        return TickReport(as_of, len(states), len(rows))
