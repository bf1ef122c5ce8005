"""Replay: rebuild all derived state (counterparty states, decisions) from the event log."""

from __future__ import annotations

from dataclasses import dataclass

from firmly.domain.engine import CounterpartyState, Decision, Engine, route
from firmly.domain.errors import FirmlyError
from firmly.domain.ports import Store
from firmly.service.policy import decision_row, decision_rows, load_policy, row_to_decision


@dataclass(frozen=True, slots=True)
class ReplayReport:
    events: int
    counterparties: int
    decisions: int


def replay(store: Store) -> ReplayReport:
    with store.write():
        return replay_in_transaction(store)


def replay_in_transaction(store: Store) -> ReplayReport:
    ws = store.workspace_info()
    if ws is None:
        raise FirmlyError(f"workspace {store.workspace!r} does not exist: run `firmly init` first")
    engine = Engine(load_policy(store))
    states: dict[str, CounterpartyState] = {}
    out: list[Decision] = []
    count = 0
    for ev in store.all_events():  # already in (occurred_at, arrival) order
        count += 1
        for key, role in route(ev):
            st = states.get(key)
            if st is None:
                st = states[key] = engine.new_state(key, role)
            engine.apply(st, ev, out, role)
    if ws.ticked is not None:
        for st in states.values():
            engine.advance(st, ws.ticked, out)
    rows = decision_rows(engine, out, states, ws)
    # Decisions that history no longer produces stay, superseded, for the audit (as after a late event).
    gone = store.decision_ids() - {row["id"] for row in rows}
    for old in store.decisions(ids=gone) if gone else []:
        if old["status"] != "superseded":
            obsolete = row_to_decision(old)
            obsolete.status = "superseded"
            old = decision_row(engine, obsolete, states.get(obsolete.counterparty), ws)  # noqa: PLW2901
        rows.append(old)
    store.clear_derived()
    store.put_decisions(rows)
    store.save_states(states.values(), ws.clock if ws.clock is not None else 0)
    return ReplayReport(count, len(states), len(rows))
