"""`event.retracted`: a later event that withdraws an earlier fact (a no-show mark taken back). Both stay in the
log; the counterparty is folded as if the withdrawn fact had never come."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from firmly.domain.events import Event

RETRACTED = "event.retracted"


def withdrawn(retractions: Iterable[Event]) -> frozenset[str]:
    """The ids of the events withdrawn by these retractions; a retraction that is itself withdrawn withdraws
    nothing (a mark taken back and then restored)."""
    named = {ev.id: str(ev.data.get("event")) for ev in retractions if ev.type == RETRACTED}
    undone = set(named.values())
    return frozenset(target for rid, target in named.items() if rid not in undone)


def standing(events: Iterable[Event], gone: frozenset[str]) -> Iterator[Event]:
    """The events that still count."""
    if not gone:
        yield from events
        return
    for ev in events:
        if ev.id not in gone:
            yield ev
