"""The review queue: a person approves, softens or dismisses a proposed step, reopens a dismissed one or
reinstates a terminated relationship, always with a reason. Each act is recorded as an event at the engine
clock, so replay reproduces it, and keeps the wall-clock time the person acted at, for people to read."""

from __future__ import annotations

from typing import Any

from firmly.domain.clock import iso
from firmly.domain.engine import REVIEW_EVENT, Engine
from firmly.domain.errors import Conflict, FirmlyError, NotFound
from firmly.domain.events import EventError, digest, validate
from firmly.domain.ports import Store
from firmly.service import explanations, settle, wallclock
from firmly.service.policy import load_policy
from firmly.service.process import process

ACTS = ("approve", "soften", "dismiss", "reopen", "reinstate")
ON_PROPOSALS = ("approve", "soften", "dismiss")


def pending(store: Store) -> list[dict[str, Any]]:
    with store.read():
        return store.decisions(status="proposed")


def pending_for(store: Store, lang: str) -> list[dict[str, Any]]:
    """The queue for a reader of `lang`: each proposal explained in that language, its rule by its title."""
    return explanations.in_language(store, pending(store), lang)


def log(store: Store, counterparty: str | None = None) -> list[dict[str, Any]]:
    """The audit log of people's acts: who did what to which decision, when and why. `at` is the engine's time
    the act took effect at; `acted_at` the wall-clock time the person acted (absent for older acts)."""
    with store.read():
        acts = store.events_of_type(REVIEW_EVENT)
    return [{"at": iso(ev.at), "acted_at": ev.data.get("acted_at"), "counterparty": ev.counterparty,
             "decision": ev.data.get("decision"), "act": ev.data.get("act"), "step": ev.data.get("step"),
             "author": ev.data.get("author"), "reason": ev.data.get("reason")}
            for ev in acts if counterparty is None or ev.counterparty == counterparty]


def act(store: Store, decision: str, act: str, reason: str, author: str, step: int | None = None
        ) -> dict[str, Any]:
    """Record one act and fold it in. Returns the decision after the act; for `reinstate`, the new decision
    that reinstated the relationship."""
    if act not in ACTS:
        raise FirmlyError(f"unknown act {act!r}; expected one of {', '.join(ACTS)}")
    if not reason.strip():
        raise FirmlyError("--reason is required: every act on the review queue keeps its reason")
    with store.write():
        ws = settle.caught_up(store)  # the act follows every event acknowledged before it
        found = store.decisions(ids=[decision])
        if not found:
            raise NotFound(f"no decision {decision!r} in workspace {store.workspace!r}")
        row = found[0]
        _check(store, row, act, step)
        at = ws.clock if ws.clock is not None else row["at"]
        wall = wallclock.now()
        data: dict[str, Any] = {"decision": decision, "act": act, "reason": reason, "author": author,
                                "acted_at": iso(wall)}
        if step is not None and act == "soften":
            data["step"] = step
        envelope = {"id": _event_id(store, decision, act), "type": REVIEW_EVENT,
                    "counterparty": row["counterparty"], "occurred_at": iso(at), "data": data}
        try:
            event = validate(envelope, internal=True)
        except EventError as exc:  # a reason past the text limit: the act is refused, nothing changes
            raise FirmlyError(f"{exc.field.removeprefix('data.')}: {exc.message}") from None
        event.digest = digest(envelope)
        store.append_events([event])
        engine = Engine(load_policy(store))
        process(store, engine, [event], ws, at, wall=wall)
        if act == "reinstate":
            made = [r for r in store.decisions(counterparty=row["counterparty"], action="reinstate")
                    if r["event"] == event.id]
            if made:
                return made[-1]
        return store.decisions(ids=[decision])[0]


def act_on_many(store: Store, decisions: list[str], what: str, reason: str, author: str
                ) -> list[tuple[str, str | None]]:
    """One reason for many proposals (approve or dismiss). Each is its own act, so one that cannot be acted on
    (decided meanwhile by someone else) is reported and the others still go through: (id, error or None)."""
    if what not in ("approve", "dismiss"):
        raise FirmlyError("only approve and dismiss can be done in bulk")
    if not reason.strip():
        raise FirmlyError("--reason is required: every act on the review queue keeps its reason")
    done: list[tuple[str, str | None]] = []
    for decision in dict.fromkeys(decisions):
        try:
            act(store, decision, what, reason, author)
        except FirmlyError as exc:
            done.append((decision, str(exc)))
        else:
            done.append((decision, None))
    return done


def _check(store: Store, row: dict[str, Any], act: str, step: int | None) -> None:
    """Refuse an act the decision is not open to, naming what it is instead."""
    decision = row["id"]
    if act in ON_PROPOSALS and row["status"] != "proposed":
        raise Conflict(f"decision {decision} is {row['status']}, not waiting for review")
    if act == "reopen" and row["status"] != "dismissed":
        raise Conflict(f"decision {decision} is {row['status']}; only a dismissed proposal can be reopened")
    st = store.load_states([row["counterparty"]]).get(row["counterparty"])
    if act == "reopen" and (st is None or decision not in (st.dismissed or {})):
        raise Conflict(f"decision {decision} was dismissed before proposals could be reopened; run `firmly replay` "
                       "once so that the engine remembers it")
    if act == "reinstate" and (row["action"] != "terminate" or st is None or st.terminated != decision):
        raise Conflict(f"decision {decision} did not end the relationship with {row['counterparty']}; "
                       "only the termination in force can be reinstated")
    if act == "soften":
        current = row["step"] or 1
        if step is None or not 1 <= step < current:
            raise FirmlyError(f"--step must name a lower step than {current} (1 to {current - 1})")


def _event_id(store: Store, decision: str, act: str) -> str:
    """`review-<decision>` for the first act on a decision (as before reopening existed); a decision dismissed,
    reopened and dismissed again gets a new id for every later act."""
    first = f"review-{decision}"
    candidates = [first, *(f"{first}-{act}-{n}" for n in range(1, 100))]
    taken = store.digests(candidates)
    return next(c for c in candidates if c not in taken)
