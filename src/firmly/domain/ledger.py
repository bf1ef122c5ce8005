"""The counterparty's account as a double-entry ledger.

Every posting moves one amount from a debited account to a credited one, and names the event (and,
for sanctions and bills, the decision) that caused it. The counterparty has two accounts: `balance`
(money paid in advance, held for them) and `due` (what they owe: sanctions the balance could not
cover; where no account is kept in advance, services and bills too). The business side has `cash`,
`revenue`, `sanctions` and `bonuses`. Balances are
sums of postings; the running figures on `Account` are a cache the fold keeps, checked against the
postings by the property tests.

Posting ids are derived from the counterparty, the causing event and the purpose, so the same event
never posts twice, on a re-ingest or a replay.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec

from firmly.domain.money import quantize
from firmly.domain.sections import AccountSection

BALANCE, DUE = "balance", "due"  # the counterparty's accounts
CASH, REVENUE, SANCTIONS, BONUSES = "cash", "revenue", "sanctions", "bonuses"  # the business's accounts
OWN = frozenset({BALANCE, DUE})
ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Terms:
    """A rulebook's `account:` section, resolved."""

    mode: str = "postpaid"
    low_balance: Decimal | None = None
    top_up: Decimal | None = None
    credit_limit: Decimal | None = None  # None: no limit (postpaid without one)
    currency: str = "RUB"


def terms(section: AccountSection | None, currency: str) -> Terms | None:
    """The account terms the fold keeps, from the rulebook's typed `account:` section."""
    if section is None:
        return None
    return Terms(section.mode, section.low_balance, section.top_up, section.credit_limit, currency)


class Account(msgspec.Struct, gc=False):
    currency: str
    balance: Decimal = ZERO
    due: Decimal = ZERO
    invoiced: bool = False  # a top-up invoice is out; the next only after the balance recovers
    postings: int = 0


class Posting(msgspec.Struct, gc=False, frozen=True):
    id: str
    counterparty: str
    at: int
    n: int  # order within the counterparty's ledger
    debit: str
    credit: str
    amount: Decimal
    currency: str
    event: str
    decision: str | None = None
    service: str | None = None
    memo: str = ""  # payment, settlement, service, bill, fee, surcharge, bonus

    def side(self) -> tuple[str, str] | None:
        """(the counterparty's account, "debit" | "credit") as its statement shows the posting."""
        if self.debit in OWN:
            return self.debit, "debit"
        if self.credit in OWN:
            return self.credit, "credit"
        return None


def posting_id(counterparty: str, event: str, purpose: str) -> str:
    key = f"{counterparty}\x1f{event}\x1f{purpose}".encode()
    return "p-" + hashlib.blake2b(key, digest_size=8).hexdigest()


class Book:
    """Posts to one counterparty's account and keeps its running figures; the fold owns one per call."""

    __slots__ = ("account", "key", "out")

    def __init__(self, key: str, account: Account, out: list[Posting]) -> None:
        self.key, self.account, self.out = key, account, out

    def _post(self, at: int, debit: str, credit: str, amount: Decimal, event: str, purpose: str, memo: str,
              decision: str | None = None, service: str | None = None) -> None:
        a = self.account
        a.postings += 1
        amount = quantize(amount)
        self.out.append(Posting(posting_id(self.key, event, purpose), self.key, at, a.postings, debit, credit,
                                amount, a.currency, event, decision, service, memo))
        if debit == BALANCE:
            a.balance -= amount
        elif credit == BALANCE:
            a.balance += amount
        if debit == DUE:
            a.due += amount
        elif credit == DUE:
            a.due -= amount

    def can_charge(self, amount: Decimal, limit: Decimal | None) -> bool:
        """Whether a service may be rendered without passing the credit limit."""
        return limit is None or self.account.balance - amount >= -limit

    def pay(self, at: int, amount: Decimal, event: str) -> None:
        """Money in: it settles what is due first, the rest is held on the balance."""
        settle = min(amount, max(self.account.due, ZERO))
        if settle > 0:
            self._post(at, CASH, DUE, settle, event, "settle", "settlement")
        if amount - settle > 0:
            self._post(at, CASH, BALANCE, amount - settle, event, "pay", "payment")

    def charge(self, at: int, amount: Decimal, event: str, purpose: str, memo: str, service: str | None,
               decision: str | None = None) -> None:
        """A service or a bill: from the balance (checked against the credit limit by the caller)."""
        self._post(at, BALANCE, REVENUE, amount, event, purpose, memo, decision, service)

    def owe(self, at: int, amount: Decimal, event: str, purpose: str, memo: str, service: str | None,
            decision: str | None) -> None:
        """A service or bill where no account is kept in advance: it is simply owed."""
        self._post(at, DUE, REVENUE, amount, event, purpose, memo, decision, service)

    def sanction(self, at: int, amount: Decimal, event: str, decision: str, memo: str) -> None:
        """A fee or surcharge is always posted: the balance covers what it can, the rest becomes due."""
        covered = min(amount, max(self.account.balance, ZERO))
        if covered > 0:
            self._post(at, BALANCE, SANCTIONS, covered, event, f"{memo}:{decision}", memo, decision)
        if amount - covered > 0:
            self._post(at, DUE, SANCTIONS, amount - covered, event, f"{memo}-due:{decision}", memo, decision)

    def waive(self, at: int, amount: Decimal, event: str, decision: str) -> None:
        """A fee forgiven on request: reversed, first from what is still due, the rest credited back to the
        balance; the postings name the request (`event`) and the decision that granted it."""
        off_due = min(amount, max(self.account.due, ZERO))
        if off_due > 0:
            self._post(at, SANCTIONS, DUE, off_due, event, f"waiver-due:{decision}", "waiver", decision)
        if amount - off_due > 0:
            self._post(at, SANCTIONS, BALANCE, amount - off_due, event, f"waiver:{decision}", "waiver", decision)

    def bonus(self, at: int, amount: Decimal, event: str, revoke: bool = False) -> None:
        """A partner's bonus for a clean booking is held for them; an incident on that booking takes it back."""
        if revoke:
            self._post(at, BALANCE, BONUSES, amount, event, "bonus-revoked", "bonus revoked")
        else:
            self._post(at, BONUSES, BALANCE, amount, event, "bonus", "bonus")

    def low(self, t: Terms) -> bool:
        """True once when the balance falls below the threshold; re-armed when it recovers."""
        a = self.account
        if t.low_balance is None or t.top_up is None:
            return False
        if a.balance >= t.low_balance:
            a.invoiced = False
            return False
        if a.invoiced:
            return False
        a.invoiced = True
        return True


def statement(postings: list[Posting]) -> tuple[Decimal, Decimal, list[dict[str, Any]]]:
    """(balance, due, entries) from the postings alone, oldest first: the balance is never stored."""
    balance, due = ZERO, ZERO
    entries = []
    for p in sorted(postings, key=lambda p: (p.at, p.n)):
        side = p.side()
        if side is None:
            continue
        account, kind = side
        sign = 1 if kind == "credit" else -1
        if account == BALANCE:
            balance += sign * p.amount
        else:
            due -= sign * p.amount
        entries.append({"id": p.id, "at": p.at, "amount": p.amount, "kind": kind, "account": account,
                        "event": p.event, "decision": p.decision, "service": p.service, "memo": p.memo})
    return balance, due, entries


def trial_balance(postings: list[Posting]) -> dict[str, Decimal]:
    """Each account's debits minus credits; double entry means they always add up to zero."""
    totals: dict[str, Decimal] = {}
    for p in postings:
        totals[p.debit] = totals.get(p.debit, ZERO) + p.amount
        totals[p.credit] = totals.get(p.credit, ZERO) - p.amount
    return totals
