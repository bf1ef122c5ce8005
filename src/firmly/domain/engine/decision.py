"""A decision: what the engine did about an event or a timer, and why."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

import msgspec

# Every action a decision can take, in the order reports list them.
ACTIONS = ("reminder", "thanks", "feedback", "warning", "fee", "surcharge", "require_prepayment", "suspend",
           "terminate", "grace_approved", "grace_denied", "earn_back", "bill", "top_up_invoice", "refused",
           "reinstate", "exempt", "exception_granted", "exception_denied")
# Decisions in these states did not (or no longer) happen; simulation and totals leave them out.
INACTIVE = frozenset({"cancelled", "dismissed", "superseded"})

_blake2b = hashlib.blake2b


def decision_id(counterparty: str, rule: str, action: str, event: str, extra: str = "") -> str:
    """Deterministic: the same counterparty, rule, action and event give the same id on every replay,
    so a person's act stays attached to its decision, also under a simulated rulebook."""
    key = f"{counterparty}\x1f{rule}\x1f{action}\x1f{event}\x1f{extra}".encode()
    return "d-" + _blake2b(key, digest_size=8).hexdigest()


class Decision(msgspec.Struct, gc=False):
    """Mutable while its counterparty is folded (a scheduled reminder becomes applied); frozen in storage.
    A msgspec Struct: cheap to create by the million and left alone by the garbage collector."""

    id: str
    counterparty: str
    rule: str | None
    at: int
    action: str
    status: str
    event: str
    evidence: tuple[str, ...]
    n: int  # order within its counterparty's fold
    amount: Decimal | None = None
    currency: str | None = None
    step: int | None = None
    version: str | None = None
    params: dict[str, Any] | None = None

    def key(self) -> tuple[Any, ...]:
        """Everything stored about it, for comparing two folds."""
        return (self.id, self.counterparty, self.rule, self.at, self.action, self.status, self.event,
                self.evidence, self.amount, self.currency, self.step, self.version)
