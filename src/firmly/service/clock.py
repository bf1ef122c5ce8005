"""The engine clock: `tick` fires what is due (reminders, deadlines, the end of restrictions).

It moves up to a moment that has come (the wall clock, plus the horizon an event may be ahead of it): a tick
into the future would fire deadlines that have not passed."""

from __future__ import annotations

from dataclasses import dataclass

from firmly.domain.buckets import bucket_of
from firmly.domain.clock import iso
from firmly.domain.engine import Decision, Engine
from firmly.domain.errors import FirmlyError
from firmly.domain.ports import Store
from firmly.service import connectors, outbox, settle, wallclock, workspace
from firmly.service.future import span
from firmly.service.policy import decision_rows, load_policy


@dataclass(frozen=True, slots=True)
class TickReport:
    as_of: int
    woken: int
    decisions: int


def tick(store: Store, as_of: int, now: int | None = None) -> TickReport:
    """Fire what is due up to `as_of`; `now` is the wall clock (default: the installed one)."""
    wall = wallclock.now() if now is None else now
    horizon = wallclock.horizon()
    if as_of > wall + horizon:
        raise FirmlyError(f"the clock cannot move to {iso(as_of)}: that is {span(as_of - wall)} in the future, and "
                          f"deadlines that have not passed would fire (up to {span(horizon)} ahead is accepted, "
                          "FIRMLY_FUTURE_HORIZON)")
    connectors.attend(store, as_of)  # visits a connector records as attended when due, before the clock passes them
    # What was acknowledged is decided before the clock passes it: a chunk here (a backlog is the deciders'
    # work), and below, before each bucket's timers fire, whatever of that bucket still waits
    settle.share_out(store, None, settle.CHUNK)
    with store.read():
        due: dict[int, list[str]] = {}
        for key in store.states_due(as_of):
            due.setdefault(bucket_of(key), []).append(key)
    woken = decided = 0
    clock = as_of
    # Bucket by bucket, each in a transaction that shares the workspace with deciders and appends (settle.py):
    # a counterparty's timers fire at their own time, whichever bucket goes first. Where writers take turns
    # anyway (SQLite, memory), all buckets in one transaction.
    parts: list[tuple[set[int] | None, list[str]]] = [({b}, keys) for b, keys in sorted(due.items())] \
        if store.parallel_workspaces else [(None, [key for keys in due.values() for key in keys])] if due else []
    for buckets, keys in parts:
        with store.deciding():
            if buckets is not None:
                store.claim_buckets(buckets, wait=True)
            while settle.decide_waiting(store, settle.CHUNK, buckets, shared=True):
                pass  # the bucket's events that arrived before the tick, decided before the clock passes them
            ws = workspace.current(store)
            engine = Engine(load_policy(store))
            states = store.load_states(keys)
            out: list[Decision] = []
            for st in states.values():
                engine.advance(st, as_of, out)
            clock = max(ws.clock or as_of, as_of)
            rows = decision_rows(engine, out, states, ws)
            store.put_decisions(rows)
            store.put_postings(engine.take_postings())  # fees that fell due with a timer
            outbox.letters(store, engine, rows, states, ws, wall)  # reminders that fell due, in this transaction
            store.save_states(states.values(), clock)
            store.raise_clock(clock)
            woken, decided = woken + len(states), decided + len(rows)
    with store.deciding():
        store.raise_clock(clock, as_of)  # ticked: a timer an event sets before it fires as the event is decided
    return TickReport(as_of, woken, decided)
