"""Replay: rebuild all derived state (counterparty states, decisions) from the event log."""

from __future__ import annotations

from dataclasses import dataclass

from firmly.domain.engine import CounterpartyState, Decision, Engine, route
from firmly.domain.errors import FirmlyError
from firmly.domain.ports import Store
from firmly.service.bulk import quiet_gc
from firmly.service.policy import decision_row, load_policy, row_to_decision


@dataclass(frozen=True, slots=True)
class ReplayReport:
    events: int
    counterparties: int
    decisions: int


def replay(store: Store) -> ReplayReport:
    with quiet_gc(), store.write():
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
    final: dict[str, Decision] = {}
    for d in out:  # the last word on each decision
        final[d.id] = d
    del out
    # Decisions that history no longer produces stay, superseded, for the audit (as after a late event).
    kept: list[dict[str, object]] = []
    gone = store.decision_ids() - final.keys()
    for old in store.decisions(ids=gone) if gone else []:
        if old["status"] != "superseded":
            obsolete = row_to_decision(old)
            obsolete.status = "superseded"
            old = decision_row(engine, obsolete, states.get(obsolete.counterparty), ws)  # noqa: PLW2901
        kept.append(old)
    store.clear_derived()
    store.put_decisions(kept)
    batch = list(final.values())
    for i in range(0, len(batch), _BATCH):  # rows are written a batch at a time to bound memory
        store.put_decisions([decision_row(engine, d, states.get(d.counterparty), ws) for d in batch[i:i + _BATCH]])
    store.save_states(states.values(), ws.clock if ws.clock is not None else 0)
    return ReplayReport(count, len(states), len(final) + len(kept))


_BATCH = 50_000
