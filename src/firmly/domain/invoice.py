"""A top-up invoice as a document: what a person opens to pay (the HTML and PDF are drawn by an adapter)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from firmly.domain.errors import FirmlyError
from firmly.domain.events import BUYER_DETAILS


class MissingDetails(FirmlyError):
    """An invoice the business cannot send yet: its own details are not (all) given."""

    def __init__(self, missing: list[str], wrong: list[str]) -> None:
        self.missing, self.wrong = missing, wrong
        said = []
        if missing:
            said.append(f"the invoice needs the business's details, and these settings are not set: "
                        f"{', '.join(missing)}; set each with `firmly workspace set {missing[0]} VALUE` "
                        "(`firmly workspace show` lists them)")
        said += wrong
        super().__init__("; ".join(said))


@dataclass(frozen=True, slots=True)
class PriceLine:
    code: str
    title: str
    price: Decimal
    special: bool = False  # the counterparty's own price, not the rulebook's


BUYER_FIELDS = (*BUYER_DETAILS, "email", "phone")  # from counterparty.upserted, in the order an invoice shows them


@dataclass(frozen=True, slots=True)
class Invoice:
    number: str  # numbered per workspace in order of issue: "2026-0001"
    issued_at: int  # µs since the epoch, UTC
    locale: str  # "ru" | "en"
    timezone: str  # where dates are shown
    seller: dict[str, str]  # the business's details from workspace settings (domain/seller.py), by setting name
    counterparty: str  # key
    name: str  # the counterparty's name, e.g. "ООО «Мегастрой»"
    details: dict[str, str] = field(default_factory=dict)  # legal name, address, INN, email, ... as upserted
    amount: Decimal = Decimal(0)  # what the invoice asks for
    currency: str = "RUB"
    balance: Decimal = Decimal(0)  # the balance when it was issued
    low_balance: Decimal | None = None  # the threshold it fell below
    prices: tuple[PriceLine, ...] = ()
    decision: str = ""  # the top_up_invoice decision behind it
