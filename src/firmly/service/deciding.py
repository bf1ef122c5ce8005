"""Deciding on stored events: the half of an ingest after the events are known to be new. Both ways in call
it: an ingest that decides at once (`ingest.ingest`), and `settle`, which decides the events acknowledged
earlier (`Prefer: respond-async`) in the order they arrived, by the wall clock they arrived at."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from firmly.domain.engine import CounterpartyState, Engine, attribute
from firmly.domain.events import Event
from firmly.domain.ports import Store, WorkspaceInfo
from firmly.service.policy import load_policy
from firmly.service.process import process


def decide(store: Store, ws: WorkspaceInfo, new: list[Event], wall: int,
           log: Callable[[list[Event]], None], states: dict[str, CounterpartyState] | None = None,
           ) -> tuple[Counter[str], int]:
    """Inside a write transaction: name partners on `new`, put them in the log (`log`: `store.append_events`
    for events met just now, `store.admit_events` for acknowledged ones), fold them in. `wall`: the wall clock
    they arrived at. Returns the decisions written, by the event that caused each, and the engine clock after
    them, which the caller moves (`store.raise_clock`; deciders sharing a workspace, once at their end).
    `states`: those of the events' counterparties, if the caller read them in this transaction already."""
    clients = {ev.counterparty for ev in new}
    if states is None:
        states = store.load_states(clients)  # read once: for attribution and for the fold
    _attribute(states, new)
    log(new)
    engine = Engine(load_policy(store))
    # The engine clock follows the events, but never past the wall clock: an event dated a little ahead
    # (within the horizon) must not make everyone else's restrictions end or strikes expire early
    clock = max(ws.clock or -(2**62), min(max(ev.at for ev in new), wall))
    return process(store, engine, new, ws, clock, states, clients, wall=wall), clock


def _attribute(states: dict[str, CounterpartyState], new: list[Event]) -> None:
    """Name the partner on events about an appointment booked into one (before they enter the log, so a refold
    of the partner finds them): from earlier in this batch or from the client's bookings."""
    if not any(ev.partner is None and "appointment" in ev.data for ev in new):
        return
    booked: dict[str, dict[str, str]] = {k: dict(st.booked or {}) for k, st in states.items()}
    for ev in sorted(new, key=lambda e: (e.at, e.seq)):
        mine = booked.setdefault(ev.counterparty, {})
        attribute(mine, ev)
        if ev.partner is not None and "appointment" in ev.data:
            mine[str(ev.data["appointment"])] = ev.partner
