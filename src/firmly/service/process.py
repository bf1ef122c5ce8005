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
    if late:
        for key, again in refold(store, engine, {key: roles[key] for key in late}, states, ws).items():
            rows.extend(again)  # a refold's decisions name older events: they are the late event's doing
            caused.update(str(row["event"]) if row["event"] in ids else late[key] for row in again)
    store.put_decisions(rows)
    store.put_postings(postings)
    outbox.letters(store, engine, rows, states, ws, wall)  # in the same transaction as the decisions
    store.save_states(states.values(), now)
    return caused


def refold(store: Store, engine: Engine, roles: dict[str, str], states: dict[str, CounterpartyState],
           ws: WorkspaceInfo) -> dict[str, list[dict[str, object]]]:
    """Recompute these counterparties (key -> role) from their whole histories, as replay would; their ledgers
    are posted anew. All of them at once: one search each for their events, their stored decisions and their
    postings, where a refold one by one cost a few random reads per counterparty."""
    keys = sorted(roles)
    fresh = {key: engine.new_state(key, roles[key]) for key in keys}
    out: dict[str, list[Decision]] = {key: [] for key in keys}
    history = store.events_about(keys)  # oldest first, as each history is folded
    for ev in standing(history, withdrawn(ev for ev in history if ev.type == RETRACTED)):
        for routed, routed_role in route(ev):
            if routed in fresh:
                engine.apply(fresh[routed], ev, out[routed], routed_role)
    ticked = ws.ticked if ws.ticked is not None else -(2**62)
    for key in keys:
        old = states.get(key)
        engine.advance(fresh[key], max(old.fired_until if old is not None else -(2**62), ticked), out[key])
    states.update(fresh)
    store.drop_postings(keys)
    store.put_postings(engine.take_postings())
    stored = store.decision_facts(keys)
    final: dict[str, dict[str, Decision]] = {key: {} for key in keys}
    rows: dict[str, list[dict[str, object]]] = {}
    for key in keys:
        mine = final[key]
        for d in out[key]:  # the last word on each decision
            mine[d.id] = d
        # Only the decisions the late event changed are written (and explained, and told): the rest of the
        # history's decisions come out of the refold as they were stored.
        rows[key] = [decision_row(engine, d, fresh[key], ws) for d in mine.values() if stored.get(d.id) != facts(d)]
    gone = {i: fact[_COUNTERPARTY] for i, fact in stored.items()  # decision id -> whose refold no longer makes it
            if i not in final[fact[_COUNTERPARTY]] and fact[_STATUS] != "superseded"}
    for row in store.decisions(ids=list(gone)) if gone else []:
        obsolete = row_to_decision(row)
        obsolete.status = "superseded"
        key = gone[str(row["id"])]
        rows[key].append(decision_row(engine, obsolete, fresh[key], ws))
    return rows


_COUNTERPARTY, _STATUS = 0, 5  # in a decision's facts
