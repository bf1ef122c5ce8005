"""Personal exceptions (docs/discretion.md): a person exempts one counterparty from one rule until a time, with a
reason, or ends one early. Each is an event (`exception.set`, `exception.ended`), so replay and what-if reproduce
it; one applied from an earlier time is folded there, and the counterparty's history is folded again."""

from __future__ import annotations

import hashlib
from typing import Any

from firmly.domain.clock import iso, parse_instant
from firmly.domain.engine import Engine
from firmly.domain.errors import Conflict, FirmlyError, NotFound
from firmly.domain.events import Event, EventError, validate
from firmly.domain.ports import Store
from firmly.service import settle, wallclock, workspace
from firmly.service.policy import load_policy
from firmly.service.process import process

SET, ENDED = "exception.set", "exception.ended"


def _refused(exc: EventError) -> FirmlyError:
    return FirmlyError(f"{exc.field.removeprefix('data.')}: {exc.message}")


def _record(store: Store, envelope: dict[str, Any], at: int) -> Event:
    """Store one event of a person's and fold it in (a late one refolds its counterparty)."""
    try:
        event = validate(envelope)
    except EventError as exc:
        raise _refused(exc) from None
    ws = settle.caught_up(store)  # it follows every event acknowledged before it
    store.append_events([event])
    engine = Engine(load_policy(store))
    process(store, engine, [event], ws, max(at, ws.clock or at), wall=wallclock.now())
    return event


def _new_id(store: Store, prefix: str, *parts: str) -> str:
    base = prefix + hashlib.blake2b("\x1f".join(parts).encode(), digest_size=6).hexdigest()
    candidates = [base, *(f"{base}-{n}" for n in range(1, 100))]
    taken = store.digests(candidates)
    return next(c for c in candidates if c not in taken)


def set_exception(store: Store, key: str, rule: str, until: str, reason: str, by: str,
                  start: str | None = None) -> dict[str, Any]:
    """Exempt `key` from `rule` until `until` (RFC 3339), from now or from `start`; returns the exception."""
    if not reason.strip():
        raise FirmlyError("--reason is required: every exception keeps its reason")
    with store.write():
        ws = workspace.current(store)
        st = store.load_states([key]).get(key)
        if st is None:
            raise NotFound(f"no counterparty {key!r} in workspace {store.workspace!r}")
        at = ws.clock if ws.clock is not None else max(st.last_at, 0)
        rules = Engine(load_policy(store)).table(st, at).rules
        if rule not in rules:
            known = ", ".join(sorted(rules)) or "none"
            raise FirmlyError(f"rule: {key} has no rule {rule!r} (its rules: {known})")
        data: dict[str, Any] = {"rule": rule, "until": until, "reason": reason, "by": by}
        if start is not None:
            data["from"] = start
        envelope = {"id": _new_id(store, "exception-", key, rule, until, str(at)), "type": SET,
                    "counterparty": key, "occurred_at": iso(at), "data": data}
        event = _record(store, envelope, at)
    return listing(store, key, ids={event.id})[0]


def end_exception(store: Store, exception: str, reason: str, by: str) -> dict[str, Any]:
    """End an exception before its time; returns it, ended."""
    if not reason.strip():
        raise FirmlyError("--reason is required: ending an exception keeps its reason")
    with store.write():
        found = [r for r in _rows(store) if r["id"] == exception]
        if not found:
            raise NotFound(f"no exception {exception!r} in workspace {store.workspace!r}")
        row = found[0]
        if row["ended"] is not None:
            raise Conflict(f"exception {exception} was ended already ({row['ended']['at']})")
        ws = workspace.current(store)
        at = max(ws.clock if ws.clock is not None else 0, parse_instant(row["set_at"]))
        envelope = {"id": _new_id(store, "exception-end-", exception), "type": ENDED,
                    "counterparty": row["counterparty"], "occurred_at": iso(at),
                    "data": {"exception": exception, "reason": reason, "by": by}}
        _record(store, envelope, at)
    return listing(store, row["counterparty"], ids={exception})[0]


def _rows(store: Store, key: str | None = None) -> list[dict[str, Any]]:
    """Every exception (of one counterparty), oldest first, with its end if a person ended it."""
    events = store.events_about([key], (SET, ENDED)) if key is not None else \
        [*store.events_of_type(SET), *store.events_of_type(ENDED)]
    ended = {str(ev.data.get("exception")): ev for ev in events if ev.type == ENDED}
    rows = []
    for ev in sorted((e for e in events if e.type == SET and e.counterparty == (key or e.counterparty)),
                     key=lambda e: (e.at, e.seq)):
        data, end = ev.data, ended.get(ev.id)
        rows.append({"id": ev.id, "counterparty": ev.counterparty, "rule": data.get("rule"), "from": iso(ev.at),
                     "until": iso(parse_instant(data["until"])), "reason": data.get("reason"), "by": data.get("by"),
                     "set_at": iso(parse_instant(ev.occurred_at)),
                     "ended": None if end is None else {"at": iso(end.at), "reason": end.data.get("reason"),
                                                        "by": end.data.get("by")}})
    return rows


def listing(store: Store, key: str | None = None, ids: set[str] | None = None) -> list[dict[str, Any]]:
    """The exceptions, each with its state at the engine clock: upcoming, active, expired or ended."""
    with store.read():
        ws = workspace.current(store)
        if key is not None and not store.load_states([key]):
            raise NotFound(f"no counterparty {key!r} in workspace {store.workspace!r}")
        rows = _rows(store, key)
    now = ws.clock if ws.clock is not None else wallclock.now()
    for row in rows:
        if row["ended"] is not None:
            row["state"] = "ended"
        elif parse_instant(row["until"]) <= now:
            row["state"] = "expired"
        elif parse_instant(row["from"]) > now:
            row["state"] = "upcoming"
        else:
            row["state"] = "active"
    return [r for r in rows if ids is None or r["id"] in ids]
