"""Events an operator records by hand: the envelope, with an id made for it, ready for the same validation and
ingest as the API's (`ingest.parsed`, then the writer)."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from firmly.domain import limits
from firmly.domain.clock import iso

# The types a person records from the web UI (EVENTS.md); the rest arrive from systems.
BY_HAND = ("incident.reported", "request.received", "work.logged", "payment.received", "message.received",
           "review.received", "counterparty.upserted")


def event_id(kind: str, key: str) -> str:
    """A new id: the type and the counterparty, made unique by the microsecond (the wall clock may be fixed by
    FIRMLY_NOW, so the system clock); a long key is named by its hash so the id still fits its column."""
    unique = time.time_ns() // 1000
    short = kind.split(".", maxsplit=1)[0]
    made = f"ui-{short}-{key}-{unique}"
    if len(made) > limits.ID:
        named = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
        made = f"ui-{short}-{named}-{unique}"
    return made


def envelope(kind: str, key: str, occurred_at: int, data: dict[str, Any]) -> dict[str, Any]:
    """The event as the API would receive it: `occurred_at` in UTC microseconds, written as RFC 3339."""
    return {"id": event_id(kind, key), "type": kind, "counterparty": key, "occurred_at": iso(occurred_at),
            "data": data}
