"""The review queue: a person approves, softens or dismisses a proposed step, with a reason.
Each act is recorded as an event at the engine clock, so replay reproduces it."""

from __future__ import annotations

from typing import Any

from firmly.domain.clock import iso
from firmly.domain.engine import REVIEW_EVENT, Engine
from firmly.domain.errors import Conflict, FirmlyError, NotFound
from firmly.domain.events import EventError, digest, validate
from firmly.domain.ports import Store
from firmly.service import explanations, wallclock, workspace
from firmly.service.policy import load_policy
from firmly.service.process import process

ACTS = ("approve", "soften", "dismiss")


def pending(store: Store) -> list[dict[str, Any]]:
    with store.read():
        return store.decisions(status="proposed")


def pending_for(store: Store, lang: str) -> list[dict[str, Any]]:
    """The queue for a reader of `lang`: each proposal explained in that language, its rule by its title."""
    return explanations.in_language(store, pending(store), lang)


def log(store: Store, counterparty: str | None = None) -> list[dict[str, Any]]:
    """The audit log of people's acts: who did what to which decision, when and why."""
    with store.read():
        acts = store.events_of_type(REVIEW_EVENT)
    return [{"at": iso(ev.at), "counterparty": ev.counterparty, "decision": ev.data.get("decision"),
             "act": ev.data.get("act"), "step": ev.data.get("step"), "author": ev.data.get("author"),
             "reason": ev.data.get("reason")}
            for ev in acts if counterparty is None or ev.counterparty == counterparty]


def act(store: Store, decision: str, act: str, reason: str, author: str, step: int | None = None
        ) -> dict[str, Any]:
    if act not in ACTS:
        raise FirmlyError(f"unknown act {act!r}; expected one of {', '.join(ACTS)}")
    if not reason.strip():
        raise FirmlyError("--reason is required: every act on the review queue keeps its reason")
    with store.write():
        ws = workspace.current(store)
        found = store.decisions(ids=[decision])
        if not found:
            raise NotFound(f"no decision {decision!r} in workspace {store.workspace!r}")
        row = found[0]
        if row["status"] != "proposed":
            raise Conflict(f"decision {decision} is {row['status']}, not waiting for review")
        if act == "soften":
            current = row["step"] or 1
            if step is None or not 1 <= step < current:
                raise FirmlyError(f"--step must name a lower step than {current} (1 to {current - 1})")
        at = ws.clock if ws.clock is not None else row["at"]
        data: dict[str, Any] = {"decision": decision, "act": act, "reason": reason, "author": author}
        if step is not None:
            data["step"] = step
        envelope = {"id": f"review-{decision}", "type": REVIEW_EVENT, "counterparty": row["counterparty"],
                    "occurred_at": iso(at), "data": data}
        try:
            event = validate(envelope, internal=True)
        except EventError as exc:  # a reason past the text limit: the act is refused, nothing changes
            raise FirmlyError(f"{exc.field.removeprefix('data.')}: {exc.message}") from None
        event.digest = digest(envelope)
        store.append_events([event])
        engine = Engine(load_policy(store))
        process(store, engine, [event], ws, at, wall=wallclock.now())
        return store.decisions(ids=[decision])[0]
