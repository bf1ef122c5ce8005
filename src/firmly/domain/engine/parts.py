"""The fold of a whole history split into parts by counterparty, each part folding only its own counterparties.

Counterparties are independent: a state changes only by the events about it, as the subject or as the partner
named, in (occurred_at, arrival) order. So the part that owns a counterparty folds exactly the events about it,
each in the role it has, and leaves the same state and decisions as the whole fold. One thing crosses parts:
an event that names no partner can be attributed to one by its subject's bookings (`fold.attribute`); a part
that does not own the subject keeps a shadow of that subject's bookings only, updated by the same code, so it
routes the event to the partner as the whole fold would.

Pure: which part runs where (processes) is the service's business.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

from firmly.domain.engine.fold import REVIEW_EVENT, Engine, Out
from firmly.domain.engine.state import CounterpartyState
from firmly.domain.events import Event


def part_of(key: str, parts: int) -> int:
    """The part a counterparty belongs to: stable across processes and runs (not Python's salted hash)."""
    return zlib.crc32(key.encode()) % parts


class PartFold:
    """One part of a split fold. `wants` says, before an event is decoded, whether this part must see it."""

    def __init__(self, engine: Engine, part: int, parts: int) -> None:
        self.engine = engine
        self.part = part
        self.parts = parts
        self._mine: dict[str, bool] = {}
        self._shadows: dict[str, CounterpartyState] = {}  # other parts' subjects with an open booking

    def mine(self, key: str) -> bool:
        found = self._mine.get(key)
        if found is None:
            found = self._mine[key] = part_of(key, self.parts) == self.part
        return found

    def wants(self, counterparty: str, partner: str | None) -> bool:
        """Whether an event about `counterparty` (naming `partner`, or none) matters here: about a counterparty
        of this part, naming a partner (of this part, or booked for a subject's later events), or about a
        subject whose bookings may attribute it to a partner. Asked of each event as it comes, after the events
        before it were folded (a booking folded here makes its subject's later events wanted)."""
        if partner is not None or self.mine(counterparty):
            return True
        shadow = self._shadows.get(counterparty)
        return shadow is not None and bool(shadow.booked)

    def run(self, events: Iterable[Event], until: int | None = None
            ) -> tuple[dict[str, CounterpartyState], Out]:
        """`Engine.run` over events in order, for this part's counterparties only."""
        engine = self.engine
        apply = engine.apply
        mine = self.mine
        shadows = self._shadows
        states: dict[str, CounterpartyState] = {}
        get = states.get
        out: Out = []
        for ev in events:
            key = ev.counterparty
            if mine(key):
                st = get(key)
                if st is None:
                    st = states[key] = CounterpartyState(key)
                apply(st, ev, out)
            else:  # the subject's bookings, as `Engine.apply` keeps them: they may name this event's partner
                shadow = shadows.get(key)
                if ev.partner is not None or (shadow is not None and shadow.booked):
                    if shadow is None:
                        shadow = shadows[key] = CounterpartyState(key)
                    engine._booking(shadow, ev)
            partner = ev.partner
            if partner is not None and ev.type != REVIEW_EVENT and mine(partner):
                st = get(partner)
                if st is None:
                    st = states[partner] = CounterpartyState(partner, "partner")
                apply(st, ev, out, "partner")
        if until is not None:
            for st in states.values():
                engine.advance(st, until, out)
        return states, out
