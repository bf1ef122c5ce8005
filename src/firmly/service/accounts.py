"""A counterparty's account: the statement derived from its postings, and its price list."""

from __future__ import annotations

from typing import Any

from firmly.domain.clock import iso
from firmly.domain.engine import CounterpartyState, Engine, Table
from firmly.domain.errors import NotFound
from firmly.domain.ledger import statement
from firmly.domain.money import fmt
from firmly.domain.ports import Store
from firmly.service import workspace
from firmly.service.policy import load_policy


def summary(store: Store, st: CounterpartyState) -> dict[str, Any] | None:
    """`counterparty show`'s `account`: balance and due from the postings, or None without an account."""
    if st.account is None:
        return None
    balance, due, _ = statement(store.postings(st.key))
    return {"balance": fmt(balance), "currency": st.account.currency, "due": fmt(due)}


def price_list(st: CounterpartyState, table: Table) -> dict[str, dict[str, Any]]:
    """The prices this counterparty pays now: the rulebook's, with its own prices over them."""
    own = st.prices or {}
    out = {code: {"title": p.title, "price": fmt(own.get(code, p.price)), "special": code in own}
           for code, p in sorted(table.prices.items())}
    for code in sorted(own.keys() - out.keys()):
        out[code] = {"title": code, "price": fmt(own[code]), "special": True}
    return out


def show(store: Store, key: str) -> dict[str, Any]:
    """`account show --json` (INTERFACES.md): balance, due and the entries, oldest first."""
    with store.read():
        ws = workspace.current(store)
        st = store.load_states([key]).get(key)
        if st is None:
            raise NotFound(f"no counterparty {key!r} in workspace {store.workspace!r}")
        if st.account is None:
            raise NotFound(f"{key!r} has no account: none of its rulebooks keeps one and nothing was posted")
        balance, due, entries = statement(store.postings(key))
        now = ws.clock if ws.clock is not None else st.last_at
        table = Engine(load_policy(store)).table(st, now)
        terms = table.account
    return {
        "key": key, "name": st.name, "balance": fmt(balance), "currency": st.account.currency, "due": fmt(due),
        "mode": terms.mode if terms else None,
        "low_balance": fmt(terms.low_balance) if terms else None,
        "top_up": fmt(terms.top_up) if terms else None,
        "credit_limit": fmt(terms.credit_limit) if terms else None,
        "entries": [{**e, "at": iso(e["at"]), "amount": fmt(e["amount"])} for e in entries],
        "prices": price_list(st, table),
    }
