"""Reports over the whole workspace, one row per counterparty."""

from __future__ import annotations

from typing import Any

from firmly.domain.engine import Engine
from firmly.domain.ports import Store
from firmly.domain.scores import Cost, cost, cost_row, ratios
from firmly.service import workspace
from firmly.service.policy import load_policy


def cost_to_serve(store: Store) -> list[dict[str, Any]]:
    """Effort per unit of revenue over each counterparty's period up to the engine clock, against the
    median of its kind; the most expensive first."""
    with store.read():
        ws = workspace.current(store)
        engine = Engine(load_policy(store))
        costs: list[Cost] = []
        flags = {}
        clock = ws.clock
        for st in store.states():
            now = clock if clock is not None else st.last_at
            table = engine.table(st, now)
            currency = st.account.currency if st.account else table.currency
            costs.append(cost(st.key, st.name, st.kind, currency, st.days, now, table.cost_period_us))
            flags[st.key] = table.flag_ratio
    found = ratios(costs)
    rows = [cost_row(c, found[c.key], flags[c.key]) for c in costs]
    rows.sort(key=lambda r: (r["ratio"] is None, -(r["ratio"] or 0), r["key"]))
    return rows
