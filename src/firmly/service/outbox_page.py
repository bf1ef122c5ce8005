"""The outbox as a person reads it: each message with the counterparty's name, whether it waits, went out or
failed (and why), newest first; failed ones can be sent again."""

from __future__ import annotations

from dataclasses import dataclass

from firmly.domain.ports import OutboxRow, Store
from firmly.service import workspace

SHOWN = 200  # messages per state on the page
STATES = {"waiting": ("pending", "sending"), "sent": ("sent",), "failed": ("failed",)}


@dataclass(frozen=True, slots=True)
class Letters:
    rows: list[tuple[OutboxRow, str]]  # the message and the counterparty's name
    counts: dict[str, int]  # waiting, sent, failed (of the newest SHOWN each)


def letters(store: Store, state: str) -> Letters:
    with store.read():
        workspace.current(store)
        found = {name: [r for status in statuses for r in store.outbox(status, SHOWN)]
                 for name, statuses in STATES.items()}
        shown = [r for name, rows in found.items() if state in ("", name) for r in rows]
        states = store.load_states({r.counterparty for r in shown})
    shown.sort(key=lambda r: (r.sent_at or r.next_at, r.id), reverse=True)
    names = {key: st.name for key, st in states.items()}
    return Letters([(r, names.get(r.counterparty, r.counterparty)) for r in shown[:SHOWN]],
                   {name: len(rows) for name, rows in found.items()})
