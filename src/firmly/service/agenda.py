"""The agenda: what is coming for a day or a week — appointments, orders and other timed things, and the
deadlines rules count — each with its reminders and the counterparty's standing, so whoever is at the desk
sees today's risks (a client who must prepay, one who is suspended)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from firmly.domain.clock import from_us, to_us
from firmly.domain.engine import CounterpartyState, Engine
from firmly.domain.ports import Store
from firmly.service import wallclock, workspace
from firmly.service.policy import load_policy

SPANS = {"day": 1, "week": 7}


@dataclass(frozen=True, slots=True)
class Item:
    at: int
    kind: str  # the entity (appointment, order, …) or "deadline"
    ref: str  # the entity's id
    rule: str  # a deadline's rule title; empty for an entity
    counterparty: str
    name: str
    standing: str  # active, restricted, suspended, terminated
    restrictions: tuple[tuple[str, int], ...]  # (type, until) in force
    reminders: tuple[int, ...]  # when the reminders still to go out will, oldest first


@dataclass(frozen=True, slots=True)
class Agenda:
    span: str
    start: int
    end: int
    now: int
    items: list[Item]


def agenda(store: Store, span: str) -> Agenda:
    """From the start of the workspace's day (its engine clock, else the wall clock) for a day or a week."""
    days = SPANS.get(span, 1)
    with store.read():
        ws = workspace.current(store)
        now = ws.clock if ws.clock is not None else wallclock.now()
        local = from_us(now).astimezone(ZoneInfo(ws.timezone))
        start = to_us(datetime.combine(local.date(), time(), ZoneInfo(ws.timezone)))
        end = to_us(datetime.combine(local.date() + timedelta(days=days), time(), ZoneInfo(ws.timezone)))
        engine = Engine(load_policy(store))
        items = [item for st in store.states() for item in _items(engine, st, start, end, now)]
    items.sort(key=lambda i: (i.at, i.name, i.ref))
    return Agenda(span if span in SPANS else "day", start, end, now, items)


def _items(engine: Engine, st: CounterpartyState, start: int, end: int, now: int) -> list[Item]:
    if not st.refs and not st.deadlines:
        return []
    found: list[tuple[int, str, str, str]] = []
    for key, (moment, _) in (st.refs or {}).items():
        if start <= moment < end:
            entity, _, ref = key.partition("\x1f")
            found.append((moment, entity, ref, ""))
    if st.deadlines:
        rules = engine.table(st, now).rules
        for key, deadline in st.deadlines.items():
            if start <= deadline.due < end and not deadline.broken:
                rule, _, ref = key.partition("\x1f")
                found.append((deadline.due, "deadline", ref, rules[rule].rule.title if rule in rules else rule))
    if not found:
        return []
    restrictions = tuple((r.type, r.until) for r in st.restrictions or () if r.until > now)
    reminders: dict[tuple[str, str], list[int]] = {}
    for d in (st.pending or {}).values():
        params = d.params or {}
        reminders.setdefault((str(params.get("entity")), str(params.get("ref"))), []).append(d.at)
    return [Item(at, kind, ref, rule, st.key, st.name, st.status(now), restrictions,
                 tuple(sorted(reminders.get((kind, ref), ()))) if kind != "deadline" else ())
            for at, kind, ref, rule in found]
