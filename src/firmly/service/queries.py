"""Read-only views: a counterparty's conduct page, the list, the decisions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from firmly.domain.clock import iso
from firmly.domain.engine import CounterpartyState, Engine, Table, conduct
from firmly.domain.errors import NotFound
from firmly.domain.ports import CounterpartyRow, Store, WorkspaceInfo
from firmly.service import accounts, reports, workspace
from firmly.service.policy import load_policy


@dataclass(frozen=True, slots=True)
class Present:
    """A counterparty as it stands at the engine clock: what every page about it starts from."""

    ws: WorkspaceInfo
    st: CounterpartyState
    engine: Engine
    now: int  # the engine clock, or the counterparty's last event before the clock first ticks
    table: Table
    conduct: dict[str, Any]  # the stable view of `counterparty show`


def present(store: Store, key: str) -> Present:
    """Within the caller's read transaction: the counterparty `key`, or NotFound naming it and the workspace."""
    ws = workspace.current(store)
    st = store.load_states([key]).get(key)
    if st is None:
        raise NotFound(f"no counterparty {key!r} in workspace {store.workspace!r}")
    engine = Engine(load_policy(store))
    now = ws.clock if ws.clock is not None else st.last_at
    table = engine.table(st, now)
    return Present(ws, st, engine, now, table, conduct(st, table, now))


def counterparty(store: Store, key: str) -> dict[str, Any]:
    with store.read():
        found = present(store, key)
        page = found.conduct
        page["account"] = accounts.summary(store, found.st)
        page["scores"] = scores(store, found.st, found.table, found.now, found.ws)
        return page


def scores(store: Store, st: CounterpartyState, table: Table, now: int,
           ws: WorkspaceInfo | None = None) -> dict[str, Any]:
    """The scores that apply to one counterparty (INTERFACES.md: a score that does not apply is absent)."""
    out: dict[str, Any] = {}
    if st.kind == "partner":
        found = reports.partner_scores(st, table)
        out.update({k: found[k] for k in ("karma", "rating", "bonus") if found[k] is not None})
    if st.kind == "supplier" and table.scorecard is not None:
        card = reports.supplier_scores(st, table, now)
        out.update({"class": card["class"], "weighted": card["weighted"], "evidence": card["evidence"]})
    if st.messages:
        out["courtesy"] = reports.courtesy_scores(st)["courtesy"]
    ratio, flagged = reports.cost_ratio(store, st, table, now, ws)
    if ratio is not None:
        out["cost_to_serve_ratio"] = ratio
    if flagged:
        out["cost_to_serve_flagged"] = True
    return out


def counterparties(store: Store, kind: str | None, status: str | None) -> list[CounterpartyRow]:
    with store.read():
        workspace.current(store)
        return store.counterparties(kind, status)


def decisions(store: Store, counterparty: str | None = None, rule: str | None = None,
              status: str | None = None) -> list[dict[str, Any]]:
    with store.read():
        workspace.current(store)
        rows = store.decisions(counterparty=counterparty, rule=rule, status=status)
    return [public(r) for r in rows]


def public(row: dict[str, Any]) -> dict[str, Any]:
    """The stable JSON of a decision (INTERFACES.md)."""
    return {"id": row["id"], "counterparty": row["counterparty"], "rule": row["rule"], "at": iso(row["at"]),
            "action": row["action"], "status": row["status"], "amount": row["amount"],
            "currency": row["currency"], "event": row["event"], "evidence": row["evidence"],
            "step": row["step"], "explanation": row["explanation"]}
