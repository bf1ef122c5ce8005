"""Money is a Decimal amount with a currency; rounding lives here and nowhere else."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from firmly.domain.errors import ValueProblem
from firmly.domain.limits import shown

CENT = Decimal("0.01")
_MONEY = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,2})?")  # below 10^15, in cents; ASCII digits only
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


class MoneyError(ValueProblem):
    """A value that is not a decimal money string."""




def parse_amount(value: object) -> Decimal:
    """A money amount from its decimal string ("1500.00"), below 10^15 with at most two decimals (cents).
    Floats are refused: they lose cents."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MoneyError("must be a decimal string like \"1500.00\", not {type} {value}", type=type(value).__name__,
                         value=shown(value))
    if isinstance(value, int) and abs(value) >= 10**15:  # before str(): a 5,000-digit int is slow to write out
        raise MoneyError("must be below 1000000000000000 (10^15), got {value}", value=shown(value))
    text = value.strip() if isinstance(value, str) else str(value)
    if not _MONEY.fullmatch(text):
        if _NUMBER.fullmatch(text):
            cents = text.partition(".")[2]
            if len(cents) > 2:
                raise MoneyError("must have at most two decimals (cents), got {value}", value=shown(value))
            raise MoneyError("must be below 1000000000000000 (10^15), got {value}", value=shown(value))
        raise MoneyError("must be a decimal string like \"1500.00\", got {value}", value=shown(value))
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
