"""Top-up invoices as documents: numbered in order of issue, with the counterparty's details and prices."""

from __future__ import annotations

from decimal import Decimal

from firmly.domain import seller
from firmly.domain.clock import from_us
from firmly.domain.engine import Engine
from firmly.domain.errors import NotFound
from firmly.domain.invoice import BUYER_FIELDS, Invoice, MissingDetails, PriceLine
from firmly.domain.money import parse_amount
from firmly.domain.ports import Store
from firmly.service import workspace
from firmly.service.policy import load_policy

ACTION = "top_up_invoice"


def invoice(store: Store, key: str, decision: str | None = None) -> Invoice:
    """The counterparty's latest top-up invoice, or the one of `decision`; MissingDetails while the business
    has not given the details a payer needs (never the rulebook's title in the seller's place)."""
    with store.read():
        ws = workspace.current(store)
        settings = store.settings()
        st = store.load_states([key]).get(key)
        if st is None:
            raise NotFound(f"no counterparty {key!r} in workspace {store.workspace!r}")
        issued = [r for r in store.decisions(action=ACTION) if r["status"] != "superseded"]
        mine = [r for r in issued if r["counterparty"] == key and (decision is None or r["id"] == decision)]
        if not mine:
            what = f"top-up invoice {decision!r}" if decision else "top-up invoice"
            raise NotFound(f"{key!r} has no {what}: one is issued when a prepaid balance falls below its threshold")
        row = mine[-1]
        table = Engine(load_policy(store)).table(st, row["at"])
    own_details = {k: v for k, v in settings.items() if k in seller.SETTINGS and v}
    lacking, wrong = seller.missing(own_details), seller.mismatches(own_details)
    if lacking or wrong:
        raise MissingDetails(lacking, wrong)
    year = from_us(row["at"]).year
    # numbered per workspace and year in order of issue: the n-th invoice of 2026 is 2026-000n
    ordinal = sum(1 for r in issued if from_us(r["at"]).year == year and (r["at"], r["id"]) <= (row["at"], row["id"]))
    own = st.prices or {}
    # a price without a title of its own is named by its code in words: "late_cancel" -> "Late cancel"
    prices = tuple(PriceLine(code, p.title if p.title != code else code.replace("_", " ").capitalize(),
                             own.get(code, p.price), code in own)
                   for code, p in sorted(table.prices.items()))
    params = row["params"] or {}
    info = st.info or {}
    book = table.books[0] if table.books else None
    return Invoice(
        number=f"{year}-{ordinal:04d}", issued_at=row["at"], locale=st.locale or (book.locale if book else ws.locale),
        timezone=str(info.get("timezone") or (book.timezone if book else ws.timezone)),
        seller=own_details, counterparty=key, name=st.name,
        details={k: str(info[k]) for k in BUYER_FIELDS if info.get(k)},
        amount=parse_amount(row["amount"]), currency=row["currency"] or "RUB",
        balance=Decimal(str(params.get("balance", "0"))),
        low_balance=Decimal(str(params["low"])) if params.get("low") not in (None, "None") else None,
        prices=prices, decision=row["id"])
