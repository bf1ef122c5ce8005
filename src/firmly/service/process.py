"""Feeding stored events through the engine: in order when they are new, by refolding a
counterparty's whole history when one arrives late (its obsolete decisions are superseded)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection

from firmly.domain.engine import CounterpartyState, Decision, Engine, route
from firmly.domain.engine.retraction import RETRACTED, standing, withdrawn
from firmly.domain.events import Event
from firmly.domain.ports import Store, WorkspaceInfo
from firmly.service import outbox
from firmly.service.policy import decision_row, decision_rows, row_to_decision
from firmly.service.replay import facts


def process(store: Store, engine: Engine, new: list[Event], ws: WorkspaceInfo, now: int,
            loaded: dict[str, CounterpartyState] | None = None, looked: Collection[str] = (), *,
            wall: int) -> Counter[str]:
    """Apply newly stored events; returns how many decisions were written or changed, by the new event that
    caused each. `now`: the engine clock after them; `wall`: the wall clock, by which a decision is fresh
    enough to be told. `loaded`: the states the caller read in this transaction already, of the keys it
    `looked` up (those not found are new)."""
    roles: dict[str, str] = {}
    for ev in new:
        for key, role in route(ev):
            roles.setdefault(key, role)
    loaded = loaded or {}
    states = {k: loaded[k] for k in roles if k in loaded}
    states.update(store.load_states([k for k in roles if k not in loaded and k not in looked]))
    late: dict[str, str] = {}  # counterparty -> the new event that arrived late for it
    out: list[Decision] = []
    for ev in sorted(new, key=lambda e: (e.at, e.seq)):
        for key, role in route(ev):
            if key in late:
                continue
            st = states.get(key)
            if st is None:
                st = states[key] = engine.new_state(key, role)
            if ev.at <= st.fired_until or ev.at < st.last_at or ev.type == RETRACTED:
                late[key] = ev.id  # a retraction, too, changes what came before it: the history is folded again
                continue
            engine.apply(st, ev, out, role)
    ticked = ws.ticked
    if ticked is not None:  # the clock was ticked past timers these events set: they fire now, as in replay
        for key, st in states.items():
            # only a state with such a timer: moving the others to the tick would make their next event dated
            # before it a late one, refolded (a file of past events ingested a chunk at a time)
            if st.timers and st.timers[0][0] <= ticked and key not in late:
                engine.advance(st, ticked, out)
    postings = engine.take_postings()
    if late:
        out = [d for d in out if d.counterparty not in late]
        postings = [p for p in postings if p.counterparty not in late]
    rows = decision_rows(engine, out, states, ws)
    ids = {ev.id for ev in new}
    caused = Counter(str(row["event"]) for row in rows)
    for key in sorted(late):
        again = refold(store, engine, key, roles[key], states, ws)
        rows.extend(again)  # a refold's decisions name older events: they are the late event's doing
        caused.update(str(row["event"]) if row["event"] in ids else late[key] for row in again)
    store.put_decisions(rows)
    store.put_postings(postings)
    outbox.letters(store, engine, rows, states, ws, wall)  # in the same transaction as the decisions
    store.save_states(states.values(), now)
    return caused


def refold(store: Store, engine: Engine, key: str, role: str, states: dict[str, CounterpartyState],
           ws: WorkspaceInfo) -> list[dict[str, object]]:
    """Recompute one counterparty from its whole history, as replay would; its ledger is posted anew."""
    old = states.get(key)
    fresh = engine.new_state(key, role)
    out: list[Decision] = []
    history = store.events_about([key])
    for ev in standing(history, withdrawn(ev for ev in history if ev.type == RETRACTED)):
        for routed, routed_role in route(ev):
            if routed == key:
                engine.apply(fresh, ev, out, routed_role)
    until = max(old.fired_until if old is not None else -(2**62), ws.ticked if ws.ticked is not None else -(2**62))
    engine.advance(fresh, until, out)
    states[key] = fresh
    store.drop_postings(key)
    store.put_postings(engine.take_postings())
    final: dict[str, Decision] = {}
    for d in out:  # the last word on each decision
        final[d.id] = d
    # Only the decisions the late event changed are written (and explained, and told): the rest of the
    # history's decisions come out of the refold as they were stored.
    stored = store.decision_facts(counterparty=key)
    rows = [decision_row(engine, d, fresh, ws) for d in final.values() if stored.get(d.id) != facts(d)]
    gone = [i for i, fact in stored.items() if i not in final and fact[_STATUS] != "superseded"]
    for row in store.decisions(ids=gone) if gone else []:
        obsolete = row_to_decision(row)
        obsolete.status = "superseded"
        rows.append(decision_row(engine, obsolete, fresh, ws))
    return rows


_STATUS = 5  # in a decision's facts
