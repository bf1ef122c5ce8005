"""A top-up invoice as a document: what a person opens to pay (the HTML and PDF are drawn by an adapter)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class PriceLine:
    code: str
    title: str
    price: Decimal
    special: bool = False  # the counterparty's own price, not the rulebook's


@dataclass(frozen=True, slots=True)
class Invoice:
    number: str  # numbered per workspace in order of issue: "2026-0001"
    issued_at: int  # µs since the epoch, UTC
    locale: str  # "ru" | "en"
    timezone: str  # where dates are shown
    issuer: str  # the business: the rulebook's title
    counterparty: str  # key
    name: str  # the counterparty's name, e.g. "ООО «Мегастрой»"
    details: dict[str, str] = field(default_factory=dict)  # email, phone, ... as upserted
    amount: Decimal = Decimal(0)  # what the invoice asks for
    currency: str = "RUB"
    balance: Decimal = Decimal(0)  # the balance when it was issued
    low_balance: Decimal | None = None  # the threshold it fell below
    prices: tuple[PriceLine, ...] = ()
    decision: str = ""  # the top_up_invoice decision behind it
