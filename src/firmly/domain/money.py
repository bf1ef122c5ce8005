"""Money is a Decimal amount with a currency; rounding lives here and nowhere else."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")
_MONEY = re.compile(r"^-?\d{1,15}(\.\d{1,2})?$")


class MoneyError(ValueError):
    """A value that is not a decimal money string."""


def parse_amount(value: object) -> Decimal:
    """A money amount from its decimal string ("1500.00"). Floats are refused: they lose cents."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MoneyError(f"must be a decimal string like \"1500.00\", not {type(value).__name__} {value!r}")
    text = str(value).strip()
    if not _MONEY.match(text):
        raise MoneyError(f"must be a decimal string like \"1500.00\", got {value!r}")
    return quantize(Decimal(text))


def quantize(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def fmt(amount: Decimal | None) -> str | None:
    """The canonical string of an amount, as JSON carries it."""
    return None if amount is None else str(quantize(amount))


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return f"{fmt(self.amount)} {self.currency}"
