"""The conduct engine: a pure fold (state, event | clock) -> (state, decisions).

Order is (occurred_at, arrival); at one instant events come before timers. Timers
(reminders, deadlines, restriction ends) fire at their own time whenever the clock passes
it, so advancing in one step or in many gives the same decisions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from operator import attrgetter
from typing import Any

from firmly.domain import contacts
from firmly.domain.clock import parse_instant
from firmly.domain.engine import values
from firmly.domain.engine.acts import ActsFold
from firmly.domain.engine.decision import Decision
from firmly.domain.engine.policy import Table
from firmly.domain.engine.state import CounterpartyState, Exemption
from firmly.domain.events import BUYER_DETAILS, TONE_EVENTS, Event

REVIEW_EVENT = "firmly.review"
MONEY_EVENTS = frozenset({"payment.received", "service.rendered"})  # invoices only set due dates
EFFORT_EVENTS = frozenset({"payment.received", "service.rendered", "work.logged", "request.received"})
TRACK_EVENTS = frozenset({"incident.reported", "review.received", "appointment.attended", "delivery.completed"})
FACT_EVENTS = TRACK_EVENTS | TONE_EVENTS | EFFORT_EVENTS
EXCEPTION_EVENTS = frozenset({"exception.set", "exception.ended"})
NO_RULES = frozenset({"counterparty.upserted", REVIEW_EVENT}) | EXCEPTION_EVENTS
Out = list[Decision]
_order = attrgetter("at", "seq")


APPOINTMENT_OVER = frozenset({"appointment.attended", "appointment.cancelled", "appointment.no_show"})


def attribute(booked: dict[str, str] | None, ev: Event) -> None:
    """An event about an appointment booked into a partner is the partner's too, even when it does not name
    the partner again (an attendance carries only the appointment)."""
    if ev.partner is None and booked and ev.type != REVIEW_EVENT:
        appointment = ev.data.get("appointment")
        if appointment is not None:
            ev.partner = booked.get(str(appointment))


def route(event: Event) -> Iterator[tuple[str, str]]:
    """Whom an event is about: its counterparty and, for a booking into a partner, the partner."""
    yield event.counterparty, "subject"
    partner = event.partner
    if partner is not None and event.type != REVIEW_EVENT:
        yield partner, "partner"


class Engine(ActsFold):
    """The fold's entry points. Its parts live beside it: core (tables, timers' heap), money, ladder,
    partners, timers and acts; each rule kind judges in its own module under `kinds/`."""

    def apply(self, st: CounterpartyState, ev: Event, out: Out, role: str = "subject") -> None:
        at = ev.at
        timers = st.timers
        if timers and timers[0][0] < at:  # the timers due before the event fire first
            self._fire(st, at - 1, out)
        if at - 1 > st.fired_until:
            st.fired_until = at - 1
        if at > st.last_at:
            st.last_at = at
        kind = ev.type
        if role == "subject" and (ev.partner is not None or st.booked):
            self._booking(st, ev)
        if kind in NO_RULES:
            self._outside_rules(st, ev, out, role)
            return
        table = self.table(st, at)
        handlers, closing = table.plans.get(kind) or table.plan(kind)
        data = ev.data
        for timed in table.timed:
            ref = timed[0]
            entity_id = data.get(ref[0])
            if entity_id is not None and data.get(ref[1]) is not None:
                self._set_ref(st, timed, str(entity_id), ev, out)
        if kind in FACT_EVENTS:
            self._facts(st, table, ev, role, out)
        for handle, c in handlers:
            handle(self, st, c, ev, role, out)
        if closing:
            self._close(st, table, kind, kind.partition(".")[0], data, at, out)

    def _outside_rules(self, st: CounterpartyState, ev: Event, out: Out, role: str) -> None:
        """A counterparty's own facts, or a person's act on a proposal: no rule judges these."""
        if ev.type == REVIEW_EVENT:
            self._act(st, ev, out)
        elif ev.type in EXCEPTION_EVENTS:
            if role == "subject":
                self._exception(st, ev)
        elif role == "subject":
            self._upsert(st, ev.data, ev.id)

    def _facts(self, st: CounterpartyState, table: Table, ev: Event, role: str, out: Out) -> None:
        """What an event tells beside the rules: a partner's record, the tone of messages, effort and money."""
        kind = ev.type
        if kind in TRACK_EVENTS:
            self._track(st, table, ev, role)
        if role != "subject":
            return
        if kind in TONE_EVENTS and isinstance(ev.data.get("text"), str):
            st.messages += 1
            if ev.tone is not None and ev.tone.tone == "hostile":
                st.hostile += 1
        if kind in EFFORT_EVENTS:
            self._effort(st, table, ev)
            if kind in MONEY_EVENTS:
                self._money(st, table, ev, out)

    def advance(self, st: CounterpartyState, until: int, out: Out) -> None:
        """Let the clock reach `until`: fire every timer due by then."""
        if st.timers and st.timers[0][0] <= until:
            self._fire(st, until, out)
        if until > st.fired_until:
            st.fired_until = until

    def run(self, events: Iterable[Event], states: dict[str, CounterpartyState] | None = None,
            until: int | None = None, ordered: bool = False) -> tuple[dict[str, CounterpartyState], Out]:
        """Fold events (sorted here, unless `ordered` says they come in (occurred_at, arrival) order
        already) and then the clock up to `until`."""
        states = {} if states is None else states
        out: Out = []
        apply = self.apply
        get = states.get
        for ev in events if ordered else sorted(events, key=_order):
            # routed as `route` does, written out: a generator per event shows on this hot path
            key = ev.counterparty
            st = get(key)
            if st is None:
                st = states[key] = CounterpartyState(key)
            apply(st, ev, out)
            partner = ev.partner
            if partner is not None and ev.type != REVIEW_EVENT:
                st = get(partner)
                if st is None:
                    st = states[partner] = CounterpartyState(partner, "partner")
                apply(st, ev, out, "partner")
        if until is not None:
            for st in states.values():
                self.advance(st, until, out)
        return states, out

    def _booking(self, st: CounterpartyState, ev: Event) -> None:
        """Which partner an appointment was booked into, until it is over."""
        if "appointment" not in ev.data:
            return
        attribute(st.booked, ev)
        appointment = str(ev.data["appointment"])
        if ev.type in APPOINTMENT_OVER:
            if st.booked:
                st.booked.pop(appointment, None)
                st.booked = st.booked or None
        elif ev.partner is not None and ev.type != REVIEW_EVENT:
            st.booked = {**(st.booked or {}), appointment: ev.partner}

    # -- counterparty facts -------------------------------------------------------------------
    def _upsert(self, st: CounterpartyState, data: dict[str, Any], event: str) -> None:
        info = dict(st.info or {})
        for name in ("name", "email", "phone", "locale", "timezone", "switching_cost", *BUYER_DETAILS):
            if data.get(name) is not None:
                info[name] = data[name]
        if isinstance(data.get("contacts"), dict):  # role by role over the earlier ones (domain/contacts.py)
            info["contacts"] = contacts.merge(info.get("contacts"), data["contacts"])
        st.info = info
        if isinstance(data.get("kind"), str):
            st.kind = data["kind"]
        if isinstance(data.get("tier"), str):
            st.tier = data["tier"]
        if isinstance(data.get("rulebooks"), list):
            st.rulebooks = tuple(sorted(str(b) for b in data["rulebooks"])) or None
        if isinstance(data.get("prices"), dict):
            prices = dict(st.prices or {})
            for code, price in data["prices"].items():
                if values.amount(price, event, f"prices.{code}") is not None:
                    prices[code] = Decimal(price)  # as written: "45" stays 45, not 45.00, as it always has
            st.prices = prices

    def _exception(self, st: CounterpartyState, ev: Event) -> None:
        """A person sets a personal exception to one rule, or ends one early (docs/discretion.md)."""
        data = ev.data
        if ev.type == "exception.set":
            start = parse_instant(data["from"]) if data.get("from") is not None else ev.at
            set_at = parse_instant(ev.occurred_at)
            by = data.get("by")
            st.exemptions = {**(st.exemptions or {}), ev.id: Exemption(
                str(data["rule"]), start, parse_instant(data["until"]), str(data["reason"]),
                str(by) if by is not None else None, set_at if set_at > start else None)}
        elif st.exemptions and str(data.get("exception")) in st.exemptions:
            st.exemptions = {k: v for k, v in st.exemptions.items() if k != data.get("exception")} or None

    # -- timed things: references, reminders, deadlines ---------------------------------------
