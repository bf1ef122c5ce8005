"""What the engine remembers about one counterparty between events.

Kept small: ~100k of them live in memory during a replay, so containers are created only
when first needed. msgspec Structs without GC tracking (they hold no cycles), which the
storage adapters encode as MessagePack.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from firmly.domain.engine.decision import Decision
from firmly.domain.ledger import Account
from firmly.domain.scores import Day, Track

NEVER = -(2**62)

Timer = tuple[int, int, str, str, str]  # (at, order, kind, a, b); kinds: r reminder, d deadline, x restriction end


def ref_key(entity: str, entity_id: str) -> str:
    return f"{entity}\x1f{entity_id}"


class RuleState(msgspec.Struct, gc=False):
    broken: int = 0
    kept: int = 0
    streak: int = 0
    step: str | None = None
    needs_thanks: bool = False


class Restriction(msgspec.Struct, gc=False):
    type: str
    until: int
    rule: str
    decision: str


class Deadline(msgspec.Struct, gc=False):
    due: int
    event: str
    broken: bool = False


class Lapse(msgspec.Struct, gc=False, array_like=True):
    rule: str
    event: str  # the event the strike was recorded under
    due: int
    paid: int | None = None  # when the expected event came after all


class Exemption(msgspec.Struct, gc=False):
    """A personal exception a person set (an `exception.set` event): a breach of `rule` from `start` until
    `until` is recorded as exempt."""

    rule: str
    start: int
    until: int
    reason: str
    by: str | None = None
    set_at: int | None = None  # when a person set it, where that is after `start` (applied from earlier)


class Sanction(msgspec.Struct, gc=False, array_like=True):
    """A ladder step the counterparty may ask to be forgiven (`exception.requested`): its rule, the breach it
    answered, the fee it posted, and the rule's kept streak before that breach."""

    rule: str
    event: str
    at: int
    action: str
    amount: Decimal | None = None
    streak: int = 0
    forgiven: bool = False


SANCTIONS_KEPT = 8  # the most recent steps a request may be about


class CounterpartyState(msgspec.Struct, gc=False):
    key: str
    kind: str = "client"
    tier: str = "standard"
    info: dict[str, Any] | None = None  # name, email, locale, ... from counterparty.upserted
    rulebooks: tuple[str, ...] | None = None
    prices: dict[str, Decimal] | None = None
    rules: dict[str, RuleState] = msgspec.field(default_factory=dict)
    strikes: dict[str, list[tuple[int, str]]] | None = None  # ladder group -> (time, event)
    refs: dict[str, tuple[int, str]] | None = None  # ref_key(entity, id) -> (time, event that set it)
    pending: dict[str, Decision] | None = None  # scheduled reminders by decision id
    deadlines: dict[str, Deadline] | None = None  # ref_key(rule, entity id) -> deadline
    proposals: dict[str, Decision] | None = None
    dismissed: dict[str, Decision] | None = None  # dismissed proposals, which a person may reopen
    restrictions: list[Restriction] | None = None
    quota: dict[str, Decimal] | None = None  # ref_key(rule, per value) -> used
    quota_window: dict[str, list[tuple[int, Decimal]]] | None = None  # rule -> recent (time, amount)
    terminated: str | None = None  # the decision that ended the relationship
    account: Account | None = None  # running figures of the ledger; the postings are the truth
    days: list[Day] | None = None  # effort and revenue per active day, for cost-to-serve
    track: Track | None = None  # incidents, late deliveries, karma and reviews (partners, suppliers)
    lapses: dict[str, Lapse] | None = None  # ref_key(entity, id) -> a missed deadline a grace request may forgive
    booked: dict[str, str] | None = None  # appointment -> the partner it was booked into, until it is over
    exemptions: dict[str, Exemption] | None = None  # the exception.set event -> the exception while it holds
    sanctions: dict[str, Sanction] | None = None  # decision -> the recent ladder steps, for requests about them
    leniency: int = NEVER  # when a request for leniency was last granted
    messages: int = 0  # messages and grace requests with a text
    hostile: int = 0  # of them, hostile
    timers: list[Timer] | None = None  # a heap
    last_at: int = NEVER
    fired_until: int = NEVER
    n: int = 0

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

    def exempted(self, rule_id: str, at: int) -> tuple[str, Exemption] | None:
        """The personal exception (its event, itself) that holds for the rule at `at`, if any."""
        for event, exemption in (self.exemptions or {}).items():
            if exemption.rule == rule_id and exemption.start <= at < exemption.until:
                return event, exemption
        return None

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


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(CounterpartyState)


def encode_state(state: CounterpartyState) -> bytes:
    return _encoder.encode(state)


def decode_state(blob: bytes) -> CounterpartyState:
    return _decoder.decode(blob)
