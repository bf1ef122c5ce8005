"""A decision: what the engine did about an event or a timer, and why."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

ACTIONS = ("reminder", "thanks", "feedback", "warning", "fee", "surcharge", "require_prepayment", "suspend",
           "terminate", "grace_approved", "grace_denied", "earn_back", "bill", "top_up_invoice", "refused")
STATUSES = ("applied", "scheduled", "cancelled", "proposed", "approved", "softened", "dismissed", "superseded")
# Decisions in these states did not (or no longer) happen; simulation and totals leave them out.
INACTIVE = frozenset({"cancelled", "dismissed", "superseded"})


def decision_id(counterparty: str, rule: str, action: str, event: str, extra: str = "") -> str:
    """Deterministic: the same counterparty, rule, action and event give the same id on every replay,
    so a person's act stays attached to its decision, also under a simulated rulebook."""
    key = "\x1f".join((counterparty, rule, action, event, extra)).encode()
    return "d-" + hashlib.blake2b(key, digest_size=8).hexdigest()


class Decision:
    """Mutable while its counterparty is folded (a scheduled reminder becomes applied); frozen in storage."""

    __slots__ = ("action", "amount", "at", "counterparty", "currency", "event", "evidence", "id", "n", "params",
                 "rule", "status", "step", "version")

    def __init__(self, id: str, counterparty: str, rule: str | None, at: int, action: str, status: str,
                 event: str, evidence: tuple[str, ...], n: int, *, amount: Decimal | None = None,
                 currency: str | None = None, step: int | None = None, version: str | None = None,
                 params: dict[str, Any] | None = None) -> None:
        self.id = id
        self.counterparty = counterparty
        self.rule = rule
        self.at = at
        self.action = action
        self.status = status
        self.event = event
        self.evidence = evidence
        self.n = n
        self.amount = amount
        self.currency = currency
        self.step = step
        self.version = version
        self.params = params

    def __getstate__(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for name, value in zip(self.__slots__, state, strict=True):
            setattr(self, name, value)

    def copy(self) -> Decision:
        clone = Decision.__new__(Decision)
        clone.__setstate__(self.__getstate__())
        return clone

    def key(self) -> tuple[Any, ...]:
        """Everything stored about it, for comparing two folds."""
        return (self.id, self.counterparty, self.rule, self.at, self.action, self.status, self.event,
                self.evidence, self.amount, self.currency, self.step, self.version)

    def __repr__(self) -> str:
        return f"Decision({self.id} {self.counterparty} {self.rule} {self.action} {self.status} {self.event})"
