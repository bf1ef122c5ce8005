"""What the engine remembers about one counterparty between events. Kept small: ~100k of them
live in memory during a replay, so containers are created only when first needed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from firmly.domain.engine.decision import Decision

STATUS_ORDER = ("terminated", "suspended", "restricted", "active")


class RuleState:
    __slots__ = ("broken", "kept", "needs_thanks", "step", "streak")

    def __init__(self) -> None:
        self.broken = 0
        self.kept = 0
        self.streak = 0
        self.step: str | None = None
        self.needs_thanks = False

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.broken, self.kept, self.streak, self.step, self.needs_thanks)

    def __setstate__(self, s: tuple[Any, ...]) -> None:
        self.broken, self.kept, self.streak, self.step, self.needs_thanks = s


class Restriction:
    __slots__ = ("decision", "rule", "type", "until")

    def __init__(self, type: str, until: int, rule: str, decision: str) -> None:
        self.type = type
        self.until = until
        self.rule = rule
        self.decision = decision

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.type, self.until, self.rule, self.decision)

    def __setstate__(self, s: tuple[Any, ...]) -> None:
        self.type, self.until, self.rule, self.decision = s


class Deadline:
    __slots__ = ("broken", "due", "event")

    def __init__(self, due: int, event: str) -> None:
        self.due = due
        self.event = event
        self.broken = False

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.due, self.event, self.broken)

    def __setstate__(self, s: tuple[Any, ...]) -> None:
        self.due, self.event, self.broken = s


class CounterpartyState:
    __slots__ = ("deadlines", "fired_until", "info", "key", "kind", "last_at", "n", "pending", "prices",
                 "proposals", "quota", "refs", "restrictions", "rulebooks", "rules", "strikes", "terminated",
                 "tier", "timers")

    def __init__(self, key: str, kind: str = "client") -> None:
        self.key = key
        self.kind = kind
        self.tier = "standard"
        self.info: dict[str, Any] | None = None  # name, email, locale, ... from counterparty.upserted
        self.rulebooks: tuple[str, ...] | None = None
        self.prices: dict[str, Decimal] | None = None
        self.rules: dict[str, RuleState] = {}
        self.strikes: dict[str, list[tuple[int, str]]] | None = None
        self.refs: dict[tuple[str, str], tuple[int, str]] | None = None  # (entity, id) -> (time, set by)
        self.pending: dict[str, Decision] | None = None  # scheduled reminders by id
        self.deadlines: dict[tuple[str, str], Deadline] | None = None  # (rule, entity id) -> deadline
        self.proposals: dict[str, Decision] | None = None
        self.restrictions: list[Restriction] | None = None
        self.quota: dict[tuple[str, str], Any] | None = None
        self.terminated: str | None = None  # the decision that ended the relationship
        self.timers: list[tuple[int, int, str, str, str]] | None = None  # heap: (at, n, kind, a, b)
        self.last_at = -(2**62)
        self.fired_until = -(2**62)
        self.n = 0

    def __getstate__(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __setstate__(self, s: tuple[Any, ...]) -> None:
        for name, value in zip(self.__slots__, s, strict=True):
            setattr(self, name, value)

    @property
    def name(self) -> str:
        return str((self.info or {}).get("name") or self.key)

    @property
    def locale(self) -> str | None:
        value = (self.info or {}).get("locale")
        return value if isinstance(value, str) else None

    def rule(self, rule_id: str) -> RuleState:
        state = self.rules.get(rule_id)
        if state is None:
            state = self.rules[rule_id] = RuleState()
        return state

    def active_strikes(self, group: str, window_us: int, now: int) -> list[tuple[int, str]]:
        """Strikes still in their window at `now`; expired ones are dropped for good."""
        if not self.strikes:
            return []
        strikes = self.strikes.get(group)
        if not strikes:
            return []
        horizon = now - window_us
        if strikes[0][0] <= horizon:
            strikes[:] = [s for s in strikes if s[0] > horizon]
        return strikes

    def status(self, now: int) -> str:
        if self.terminated:
            return "terminated"
        status = "active"
        for r in self.restrictions or ():
            if r.until > now:
                if r.type == "suspend":
                    return "suspended"
                status = "restricted"
        return status

    def next_wake(self) -> int | None:
        """The earliest pending timer, for the clock to know whom to wake."""
        return self.timers[0][0] if self.timers else None
