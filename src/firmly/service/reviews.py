"""A partner's public page: karma, the rating and the reviews its patients agreed to publish."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from firmly.domain.engine import Engine
from firmly.domain.errors import NotFound
from firmly.domain.ports import Store
from firmly.service import reports, workspace
from firmly.service.policy import load_policy

REVIEW = "review.received"


@dataclass(frozen=True, slots=True)
class PartnerPage:
    key: str
    name: str
    karma: int | None
    rating: float | None
    reviews: list[dict[str, Any]]  # published only, newest first: at, rating, text, author
    clean_bookings: int
    history: list[tuple[int, int]]  # (day, karma at its end)


def partner_page(store: Store, key: str) -> PartnerPage:
    """Only a partner has a public page: anything else (or nothing) is NotFound, so the page tells a stranger
    nothing about clients or suppliers."""
    with store.read():
        ws = workspace.current(store)
        st = store.load_states([key]).get(key)
        if st is None or st.kind != "partner":
            raise NotFound(f"no partner {key!r}")
        now = ws.clock if ws.clock is not None else st.last_at
        table = Engine(load_policy(store)).table(st, now)
        events = store.events_about([key], types=(REVIEW,))  # its reviews only: an index search, not its history
    scores = reports.partner_scores(st, table)
    published = [{"at": ev.at, "rating": ev.data.get("rating"), "text": ev.data.get("text") or "",
                  "author": ev.data.get("author") or ""}
                 for ev in events if ev.data.get("publish") is True
                 and key in (ev.counterparty, ev.data.get("partner"))]
    return PartnerPage(st.key, st.name, scores["karma"], scores["rating"], published[::-1], scores["clean_bookings"],
                       list(st.track.history or []) if st.track is not None else [])
