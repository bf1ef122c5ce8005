"""The conduct engine: a pure fold (state, event | clock) -> (state, decisions).

Order is (occurred_at, arrival); at one instant events come before timers. Timers
(reminders, deadlines, restriction ends) fire at their own time whenever the clock passes
it, so advancing in one step or in many gives the same decisions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from heapq import heappop, heappush
from operator import attrgetter
from typing import Any

from firmly.domain.clock import TimeError, parse_instant, to_us
from firmly.domain.durations import to_us as duration_us
from firmly.domain.engine import values
from firmly.domain.engine.decision import Decision, decision_id
from firmly.domain.engine.policy import CLOSING, Compiled, Policy, Table, Timed
from firmly.domain.engine.state import CounterpartyState, Deadline, Lapse, Restriction, ref_key
from firmly.domain.events import Event
from firmly.domain.ledger import Account, Book, Posting
from firmly.domain.rulebook import Rule, Step
from firmly.domain.scores import DAY_US, Day, Incident, KarmaTerms, Track, count, day_of
from firmly.domain.tone import Tone

REVIEW_EVENT = "firmly.review"
MONEY_EVENTS = frozenset({"payment.received", "service.rendered"})  # invoices only set due dates
EFFORT_EVENTS = frozenset({"payment.received", "service.rendered", "work.logged", "request.received"})
TONE_EVENTS = frozenset({"message.received", "grace.requested"})
TRACK_EVENTS = frozenset({"incident.reported", "review.received", "appointment.attended", "delivery.completed"})
YEAR_US = 365 * DAY_US
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


def _hostile_to(rule: Rule, tone: Tone) -> bool:
    """Whether a message counts as hostile under a grace or courtesy rule: swearing aimed at nobody
    ("мне на процессы насрать") counts unless the rule says `undirected_profanity: civil`."""
    if tone.tone != "hostile":
        return False
    return not (tone.undirected and rule.undirected_profanity == "civil")


def route(event: Event) -> Iterator[tuple[str, str]]:
    """Whom an event is about: its counterparty and, for a booking into a partner, the partner."""
    yield event.counterparty, "subject"
    partner = event.partner
    if partner is not None and event.type != REVIEW_EVENT:
        yield partner, "partner"


class Engine:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        # kind -> table, when the rules never change over time and a counterparty follows its kind
        self._by_kind: dict[str, Table] | None = {} if policy.single_epoch else None
        self.postings: list[Posting] = []  # ledger postings made by the fold; the caller takes them

    def take_postings(self) -> list[Posting]:
        postings, self.postings = self.postings, []
        return postings

    # -- entry points -------------------------------------------------------------------------
    def new_state(self, key: str, role: str = "subject") -> CounterpartyState:
        return CounterpartyState(key, "partner" if role == "partner" else "client")

    def table(self, st: CounterpartyState, at: int) -> Table:
        by_kind = self._by_kind
        if by_kind is not None and st.rulebooks is None:
            table = by_kind.get(st.kind)
            if table is None:
                table = by_kind[st.kind] = self.policy.table(st.kind, None, at)
            return table
        return self.policy.table(st.kind, st.rulebooks, at)

    def apply(self, st: CounterpartyState, ev: Event, out: Out, role: str = "subject") -> None:
        at = ev.at
        timers = st.timers
        if timers and timers[0][0] < at:
            self._fire(st, at - 1, out)
        if at - 1 > st.fired_until:
            st.fired_until = at - 1
        if at > st.last_at:
            st.last_at = at
        kind = ev.type
        if role == "subject" and (ev.partner is not None or st.booked) and "appointment" in ev.data:
            self._booking(st, ev)
        if kind == "counterparty.upserted":
            if role == "subject":
                self._upsert(st, ev.data, ev.id)
            return
        if kind == REVIEW_EVENT:
            self._act(st, ev, out)
            return
        table = self.table(st, at)
        judged, expected, kept, closing = table.plans.get(kind) or table.plan(kind)
        data = ev.data
        for timed in table.timed:
            ref = timed[0]
            entity_id = data.get(ref[0])
            if entity_id is not None and data.get(ref[1]) is not None:
                self._set_ref(st, timed, str(entity_id), ev, out)
        if kind in TRACK_EVENTS:
            self._track(st, table, ev, role)
        if kind in TONE_EVENTS and role == "subject" and isinstance(ev.data.get("text"), str):
            st.messages += 1
            if ev.tone is not None and ev.tone.tone == "hostile":
                st.hostile += 1
        if kind in EFFORT_EVENTS and role == "subject":
            self._effort(st, table, ev)
            if kind in MONEY_EVENTS:
                self._money(st, table, ev, out)
        for c in judged:
            self._judge(st, c, ev, role, out)
        for c in expected:
            self._expected(st, c, ev, out)
        for c in kept:
            if c.when is None or c.applies(kind, ev.counterparty, ev.id, data):
                self._kept(st, c, ev.id, at, out)
        if closing:
            self._close(st, table, kind, kind.partition(".")[0], data, at, out)

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
        for name in ("name", "email", "phone", "locale", "timezone", "switching_cost"):
            if data.get(name) is not None:
                info[name] = data[name]
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

    # -- timed things: references, reminders, deadlines ---------------------------------------
    def _push(self, st: CounterpartyState, at: int, kind: str, a: str = "", b: str = "") -> None:
        if st.timers is None:
            st.timers = []
        st.n += 1
        heappush(st.timers, (at, st.n, kind, a, b))

    def _set_ref(self, st: CounterpartyState, timed: Timed, entity_id: str, ev: Event, out: Out) -> None:
        ref, reminders, deadlines_from_here = timed
        try:
            moment = parse_instant(ev.data[ref[1]])
        except TimeError:
            return
        refs = st.refs if st.refs is not None else {}
        st.refs = refs
        key = ref_key(ref[0], entity_id)
        previous = refs.get(key)
        set_by = previous[1] if previous else ev.id
        refs[key] = (moment, set_by)
        for c in reminders:
            if c.when is None or c.applies(ev.type, ev.counterparty, ev.id, ev.data):
                self._schedule(st, c, ref[0], entity_id, moment, set_by, ev.at, previous is None, out)
        for c in deadlines_from_here:
            if c.rule.expect == ev.type or not (c.when is None or c.applies(ev.type, ev.counterparty, ev.id,
                                                                               ev.data)):
                continue
            deadlines = st.deadlines if st.deadlines is not None else {}
            st.deadlines = deadlines
            due = moment + c.grace_us
            dl = deadlines.get(ref_key(c.id, entity_id))
            if dl is None:
                deadlines[ref_key(c.id, entity_id)] = Deadline(due, ev.id)
            elif dl.broken:
                continue
            else:
                dl.due = due
            self._push(st, due, "d", c.id, entity_id)

    def _schedule(self, st: CounterpartyState, c: Compiled, entity: str, entity_id: str, moment: int,
                  set_by: str, now: int, first: bool, out: Out) -> None:
        pending = st.pending if st.pending is not None else {}
        st.pending = pending
        rule_id = c.id
        for offset in c.remind_us:
            did = decision_id(st.key, rule_id, "reminder", set_by, str(offset))
            when = moment - offset
            d = pending.get(did)
            if d is not None:  # a moved appointment moves its reminders
                if when > now:
                    d.at = when
                    d.params = {**(d.params or {}), "due": moment}
                    self._push(st, when, "r", did)
                else:
                    d.status = "cancelled"
                    del pending[did]
                out.append(d)
            elif first and when > now:  # a reminder already due when scheduled is not created
                n = st.n + 1
                d = Decision(did, st.key, rule_id, when, "reminder", "scheduled", set_by, (set_by,), n,
                             version=c.version, params={"entity": entity, "ref": entity_id, "due": moment,
                                                        "offset": offset})
                pending[did] = d
                if st.timers is None:
                    st.timers = []
                st.n = n + 1
                heappush(st.timers, (when, n + 1, "r", did, ""))
                out.append(d)

    def _close(self, st: CounterpartyState, table: Table, kind: str, noun: str, data: dict[str, Any], at: int,
               out: Out) -> None:
        """An entity that is done (cancelled, attended, paid) cancels its pending reminders."""
        if st.pending:
            entities = {(noun, str(data[noun]))} if data.get(noun) is not None else set()
            for c in table.expected.get(kind, ()):
                if c.rule.due and data.get(c.rule.due[0]) is not None:
                    entities.add((c.rule.due[0], str(data[c.rule.due[0]])))
            for did, d in list(st.pending.items()):
                params = d.params or {}
                if (params.get("entity"), params.get("ref")) in entities and d.at >= at:
                    d.status = "cancelled"
                    del st.pending[did]
                    out.append(d)
        if st.refs and data.get(noun) is not None and kind.rpartition(".")[2] in CLOSING:
            st.refs.pop(ref_key(noun, str(data[noun])), None)
            if not st.refs:
                st.refs = None
        if st.pending is not None and not st.pending:
            st.pending = None

    def _fire(self, st: CounterpartyState, until: int, out: Out) -> None:
        timers = st.timers
        assert timers is not None
        while timers and timers[0][0] <= until:
            at, _, kind, a, b = heappop(timers)
            if kind == "r":
                d = st.pending.get(a) if st.pending else None
                if d is not None and d.at == at and st.pending is not None:
                    d.status = "applied"
                    del st.pending[a]
                    out.append(d)
                    if not st.pending:
                        st.pending = None  # an empty dict costs more than the state's other fields
            elif kind == "d":
                dl = st.deadlines.get(ref_key(a, b)) if st.deadlines else None
                if dl is not None and not dl.broken and dl.due == at:
                    c = self.table(st, at).rules.get(a)
                    if c is not None:
                        dl.broken = True
                        self._lapse(st, c, b, dl.event, dl.due, None)
                        self._breach(st, c, dl.event, at, out, params={"late": True})
            # kind "x": a restriction ends; status is derived from time, the timer only wakes the clock
        if not timers:
            st.timers = None

    # -- rule kinds ---------------------------------------------------------------------------
    def _judge(self, st: CounterpartyState, c: Compiled, ev: Event, role: str, out: Out) -> None:
        rule = c.rule
        data = ev.data
        kind = rule.kind
        if kind in ("notice", "forbidden"):
            by = data.get("by")
            if by in ("provider", "unknown") or (role == "partner") != (by == "partner"):
                return  # not this counterparty's doing, or nobody knows whose: never counted against them
        if c.when is not None and not c.applies(ev.type, ev.counterparty, ev.id, data):
            return
        if kind == "notice":
            assert rule.before is not None
            reference: int | None = None
            own = data.get(rule.before[1])
            if own is not None:
                try:
                    reference = parse_instant(own)
                except TimeError:
                    reference = None
            elif st.refs and data.get(rule.before[0]) is not None:
                found = st.refs.get(ref_key(rule.before[0], str(data[rule.before[0]])))
                reference = found[0] if found else None
            if reference is None:
                return  # nothing to measure the notice against
            notice = reference - ev.at
            if notice < c.min_notice_us:
                self._breach(st, c, ev.id, ev.at, out, params={"notice": notice})
            else:
                self._kept(st, c, ev.id, ev.at, out)
        elif kind == "forbidden":
            self._breach(st, c, ev.id, ev.at, out)
        elif kind == "channel":
            channel = data.get("channel")
            if channel is None:
                return
            if channel in rule.allowed:
                self._kept(st, c, ev.id, ev.at, out)
            else:
                self._day(st, self.table(st, ev.at), ev.at).off_channel += 1
                self._breach(st, c, ev.id, ev.at, out, params={"channel": channel})
        elif kind == "quota":
            self._quota(st, c, ev, out)
        elif kind == "incident":
            weight = rule.weight.get(str(data.get("severity")), 1)
            if weight == "terminate":
                self._breach(st, c, ev.id, ev.at, out, fatal=True, params={"severity": data.get("severity")})
            elif isinstance(weight, int) and weight > 0:
                self._breach(st, c, ev.id, ev.at, out, weight=weight, params={"severity": data.get("severity")})
        elif kind == "courtesy":
            t = ev.tone
            if t is not None and _hostile_to(rule, t):
                self._breach(st, c, ev.id, ev.at, out, params={"phrases": list(t.phrases), "kinds": list(t.kinds)})
            elif t is not None:
                self._kept(st, c, ev.id, ev.at, out)
        elif kind == "grace":
            self._grace(st, c, ev, out)

    def _expected(self, st: CounterpartyState, c: Compiled, ev: Event, out: Out) -> None:
        rule = c.rule
        data = ev.data
        if rule.due is not None and st.deadlines:
            # A deadline already set (its `when` held for the event that set it) is settled by its
            # expected event whatever that event's own fields are.
            entity_id = data.get(rule.due[0])
            dl = st.deadlines.pop(ref_key(c.id, str(entity_id)), None) if entity_id is not None else None
            if dl is not None:
                if not dl.broken:  # a late arrival after its timer adds no second strike
                    self._verdict(st, c, ev, dl.due, out, str(entity_id))
                elif st.lapses:
                    lapse = st.lapses.get(ref_key(rule.due[0], str(entity_id)))
                    if lapse is not None and lapse.paid is None:
                        lapse.paid = ev.at
                return
        if c.when is not None and not c.applies(ev.type, ev.counterparty, ev.id, data):
            return
        if rule.cutoff and data.get("for_date"):
            try:
                day = date.fromisoformat(str(data["for_date"])) - timedelta(days=1)
            except (ValueError, OverflowError):  # not a date, or the first day there is
                return
            hour, minute = (int(x) for x in rule.cutoff.split(":"))
            due = to_us(datetime.combine(day, time(hour, minute), tzinfo=c.tz)) + c.grace_us
            self._verdict(st, c, ev, due, out)
            return
        if rule.due is None:
            return
        own = data.get(rule.due[1])
        if own is not None:
            try:
                due = parse_instant(own) + c.grace_us
            except TimeError:
                return
            self._verdict(st, c, ev, due, out)

    def _verdict(self, st: CounterpartyState, c: Compiled, ev: Event, due: int, out: Out,
                 entity_id: str | None = None) -> None:
        if ev.at <= due:
            self._kept(st, c, ev.id, ev.at, out)
        else:
            if entity_id is not None and c.rule.due is not None:
                self._lapse(st, c, entity_id, ev.id, due, ev.at)
            self._breach(st, c, ev.id, ev.at, out, params={"late_by": ev.at - due})

    def _lapse(self, st: CounterpartyState, c: Compiled, entity_id: str, event: str, due: int,
               paid: int | None) -> None:
        """Remember a missed deadline by its entity, so a grace request about it can forgive the strike."""
        assert c.rule.due is not None
        lapses = st.lapses if st.lapses is not None else {}
        horizon = due - YEAR_US
        st.lapses = {k: v for k, v in lapses.items() if v.due > horizon}
        st.lapses[ref_key(c.rule.due[0], entity_id)] = Lapse(c.id, event, due, paid)

    def _quota(self, st: CounterpartyState, c: Compiled, ev: Event, out: Out) -> None:
        rule = c.rule
        data = ev.data
        amount = Decimal(1)
        if rule.sum:
            summed = values.number(data.get(rule.sum, 0), ev.id, rule.sum)
            if summed is None:
                return  # not a number: the rule does not count this event
            amount = summed
        if c.per_us is not None:
            windows = st.quota_window if st.quota_window is not None else {}
            st.quota_window = windows
            history = [h for h in windows.get(c.id, []) if h[0] > ev.at - c.per_us]
            history.append((ev.at, amount))
            windows[c.id] = history
            used = sum((h[1] for h in history), Decimal(0))
        else:
            quota = st.quota if st.quota is not None else {}
            st.quota = quota
            key = ref_key(c.id, str(data.get(rule.per or "", "")))
            used = quota.get(key, Decimal(0)) + amount
            quota[key] = used
        limit = rule.max if rule.max is not None else Decimal(0)
        if used <= limit:
            self._kept(st, c, ev.id, ev.at, out)
            return
        if rule.bill:
            price = (st.prices or {}).get(rule.bill)
            currency = c.book.currency
            if price is None:
                found = c.book.prices.get(rule.bill)
                price = found.price if found else None
            if price is not None:
                over = min(used - limit, amount) if rule.sum else Decimal(1)
                charge = price * over
                table = self.table(st, ev.at)
                book = self._book(st, table)
                if not self._refused(st, table, book, charge, ev, rule.bill, out, c.id):
                    d = self._emit(st, c, "bill", "applied", ev.at, ev.id, (ev.id,), out, amount=charge,
                                   params={"used": str(used), "max": str(limit), "service": rule.bill},
                                   currency=currency)
                    if table.account is None:  # no account kept in advance: the bill is owed
                        book.owe(ev.at, charge, ev.id, f"bill:{c.id}", "bill", rule.bill, d.id)
                    else:
                        book.charge(ev.at, charge, ev.id, f"bill:{c.id}", "bill", rule.bill, d.id)
                        self._low(st, table, book, ev.id, ev.at, out)
        self._breach(st, c, ev.id, ev.at, out, params={"used": str(used), "max": str(limit)})

    # -- the ladder -----------------------------------------------------------------------------
    def _emit(self, st: CounterpartyState, c: Compiled, action: str, status: str, at: int, event: str,
              evidence: tuple[str, ...], out: Out, *, amount: Decimal | None = None, step: int | None = None,
              extra: str = "", params: dict[str, Any] | None = None, currency: str | None = None) -> Decision:
        st.n += 1
        d = Decision(decision_id(st.key, c.id, action, event, extra), st.key, c.id, at, action, status, event,
                     evidence, st.n, amount=amount,
                     currency=(currency or c.book.currency) if amount is not None else None,
                     step=step, version=c.version, params=params)
        out.append(d)
        return d

    def _breach(self, st: CounterpartyState, c: Compiled, event: str, at: int, out: Out, *, weight: int = 1,
                fatal: bool = False, params: dict[str, Any] | None = None) -> None:
        rs = st.rule(c.id)
        rs.broken += 1
        rs.streak = 0
        rs.needs_thanks = True
        tier = c.book.tiers.get(st.tier)
        if tier is not None and c.id in tier.exempt:
            surcharge = tier.surcharge.get(c.id)
            if surcharge is not None:
                d = self._emit(st, c, "surcharge", "applied", at, event, (event,), out, amount=surcharge,
                               params={"tier": st.tier, **(params or {})})
                self._sanction(st, d, at, out)
            return
        ladder = c.ladder
        if ladder is None:
            return
        strikes_by_group = st.strikes if st.strikes is not None else {}
        st.strikes = strikes_by_group
        strikes = strikes_by_group.setdefault(c.group, [])
        st.active_strikes(c.group, c.window_us, at)
        strikes.extend([(at, event)] * weight)
        steps = ladder.steps
        if fatal:
            index = next((i for i, s in enumerate(steps) if s.action == "terminate"), len(steps) - 1)
            step = steps[index]
            if step.action != "terminate" or not step.review:
                step = Step("terminate", review=True)
        else:
            index = min(len(strikes), len(steps)) - 1
            step = steps[index]
        evidence = tuple(dict.fromkeys(e for _, e in strikes))
        number = index + 1
        for open_one in (st.proposals or {}).values():
            if open_one.step == number and self._group(st, open_one, at) == c.group:  # add evidence, ask once
                open_one.evidence = tuple(dict.fromkeys((*open_one.evidence, *evidence)))
                out.append(open_one)
                return
        d = self._emit(st, c, step.action, "proposed" if step.review else "applied", at, event, evidence, out,
                       amount=step.amount, step=number,
                       params={"strikes": len(strikes), **(params or {}), "fatal": fatal})
        if step.review:
            if st.proposals is None:
                st.proposals = {}
            st.proposals[d.id] = d
        else:
            self._apply_step(st, c.id, step, d, at, out)

    def _group(self, st: CounterpartyState, d: Decision, at: int) -> str | None:
        c = self.table(st, at).rules.get(d.rule or "")
        return c.group if c is not None else d.rule

    def _apply_step(self, st: CounterpartyState, rule_id: str, step: Step, d: Decision, at: int,
                    out: Out) -> None:
        st.rule(rule_id).step = step.action
        if d.amount is not None:
            self._sanction(st, d, at, out)
        if step.duration is not None:
            until = at + duration_us(step.duration)
            # One restriction of a kind at a time: a later step of the same kind (a softened one, or the last
            # step repeating) replaces the one in force, unless that one would last longer anyway.
            same = [r for r in st.restrictions or () if r.type == step.action]
            if any(r.until > until for r in same):
                return
            st.restrictions = [r for r in st.restrictions or () if r.type != step.action]
            st.restrictions.append(Restriction(step.action, until, rule_id, d.id))
            self._push(st, until, "x")
        elif step.action == "terminate":
            st.terminated = d.id

    def _kept(self, st: CounterpartyState, c: Compiled, event: str, at: int, out: Out) -> None:
        rs = st.rule(c.id)
        rs.kept += 1
        rs.streak += 1
        ladder = c.ladder
        if ladder is not None and ladder.earn_back and rs.streak >= ladder.earn_back:
            strikes = st.active_strikes(c.group, c.window_us, at)
            if strikes:
                removed = strikes.pop(0)
                rs.streak = 0
                rs.needs_thanks = False
                self._emit(st, c, "earn_back", "applied", at, event, (removed[1], event), out,
                           params={"strikes": len(strikes)})
                return
        if rs.needs_thanks:
            rs.needs_thanks = False
            self._emit(st, c, "thanks", "applied", at, event, (event,), out, params={"after_breach": True})
        elif c.thank_from is not None and c.thank_until is not None and c.thank_from <= at < c.thank_until:
            self._emit(st, c, "thanks", "applied", at, event, (event,), out, params={"new_rule": True})

    # -- people's acts --------------------------------------------------------------------------
    def _act(self, st: CounterpartyState, ev: Event, out: Out) -> None:
        data = ev.data
        if data.get("act") == "reopen":
            self._reopen(st, str(data.get("decision")), out)
            return
        if data.get("act") == "reinstate":
            self._reinstate(st, ev, out)
            return
        d = (st.proposals or {}).get(str(data.get("decision")))
        if d is None or d.rule is None:
            return  # the proposal was made obsolete by a late event; the act is kept in the log
        act = data.get("act")
        if act == "soften" and not 1 <= int(data.get("step") or 0) < (d.step or 0):
            return  # not a lower step: the proposal stays open for a valid act
        assert st.proposals is not None
        del st.proposals[d.id]
        c = self.table(st, ev.at).rules.get(d.rule)
        if d.action in ("grace_approved", "grace_denied") and act != "dismiss":
            d.status = "approved"  # a person granted (or confirmed the denial of) the grace
            out.append(d)
            if d.action == "grace_approved":
                self._forgive(st, d, ev.at)
            return
        if act == "dismiss" or c is None or c.ladder is None:
            d.status = "dismissed"
            out.append(d)
            if st.dismissed is None:
                st.dismissed = {}
            st.dismissed[d.id] = d  # kept so that a person may reopen it
            if (d.params or {}).get("fatal") and st.track is not None:  # a person judged the fatal incidents
                fatal = {i.event for i in st.track.incidents if i.severity == "fatal"}
                judged = [e for e in dict.fromkeys((d.event, *d.evidence)) if e in fatal]
                st.track.excused = [*(st.track.excused or []), *judged]
            return
        steps = c.ladder.steps
        number = d.step or len(steps)
        if act == "approve":
            d.status = "approved"
            step = steps[number - 1] if steps[number - 1].action == d.action else Step(d.action)
            self._apply_step(st, d.rule, step, d, ev.at, out)
            out.append(d)
        elif act == "soften":
            lower = int(data.get("step") or 0)
            if not 1 <= lower < number:
                return
            d.status = "softened"
            out.append(d)
            step = steps[lower - 1]
            softened = self._emit(st, c, step.action, "applied", ev.at, d.event, d.evidence, out,
                                  amount=step.amount, step=lower, extra=f"softened:{d.id}",
                                  params={"softened_from": d.action, "reason": data.get("reason")})
            self._apply_step(st, d.rule, step, softened, ev.at, out)

    def _reopen(self, st: CounterpartyState, decision: str, out: Out) -> None:
        """A dismissed proposal goes back to the queue as it was; the dismissal stays in the log."""
        d = (st.dismissed or {}).pop(decision, None)
        if d is None:
            return  # never dismissed (or reopened already): the act is kept in the log and changes nothing
        d.status = "proposed"
        if st.proposals is None:
            st.proposals = {}
        st.proposals[d.id] = d
        if (d.params or {}).get("fatal") and st.track is not None and st.track.excused:
            judged = {d.event, *d.evidence}  # the fatal incidents count again until a person judges them anew
            st.track.excused = [e for e in st.track.excused if e not in judged]
        out.append(d)

    def _reinstate(self, st: CounterpartyState, ev: Event, out: Out) -> None:
        """RULEBOOK.md: termination lasts "until a person reinstates it". Strikes still in their window
        stay counted, so a next breach proposes the last step again, for a person to judge."""
        ended = str(ev.data.get("decision"))
        if st.terminated != ended:
            return  # not the decision that ended this relationship: nothing to reinstate
        st.terminated = None
        st.n += 1
        out.append(Decision(decision_id(st.key, "", "reinstate", ev.id), st.key, None, ev.at, "reinstate",
                            "applied", ev.id, (ev.id,), st.n,
                            params={"decision": ended, "reason": ev.data.get("reason")}))

    # -- money: the account, services, bills, sanctions ---------------------------------------
    def _book(self, st: CounterpartyState, table: Table) -> Book:
        if st.account is None:
            st.account = Account(table.account.currency if table.account else table.currency)
        return Book(st.key, st.account, self.postings)

    def _price(self, st: CounterpartyState, table: Table, code: str) -> Decimal | None:
        """The counterparty's own price from the moment it was set, else the rulebook's."""
        own = (st.prices or {}).get(code)
        if own is not None:
            return own
        found = table.prices.get(code)
        return found.price if found else None

    def _money(self, st: CounterpartyState, table: Table, ev: Event, out: Out) -> None:
        data = ev.data
        if ev.type == "service.rendered":
            code = str(data.get("service"))
            price = self._price(st, table, code)
            if price is None:
                return  # not on any price list: a service that is not sold separately
            quantity = values.number(data.get("quantity") or 1, ev.id, "quantity")
            if quantity is None:
                return
            amount = price * quantity
            if amount <= 0:
                return  # a free service posts nothing
            book = self._book(st, table)
            if table.account is None:  # no account kept in advance: the service is owed
                book.owe(ev.at, amount, ev.id, "service", "service", code, None)
            elif not self._refused(st, table, book, amount, ev, code, out, None):
                book.charge(ev.at, amount, ev.id, "service", "service", code)
                self._low(st, table, book, ev.id, ev.at, out)
        elif ev.type == "payment.received":
            paid = values.amount(data.get("amount"), ev.id, "amount")
            if paid is None:
                return
            amount = paid
            if table.account is None:  # no account to hold money: a payment only settles what is owed here
                amount = min(amount, st.account.due if st.account is not None else Decimal(0))
                if amount <= 0:
                    return
            book = self._book(st, table)
            book.pay(ev.at, amount, ev.id)
            self._low(st, table, book, ev.id, ev.at, out)

    def _refused(self, st: CounterpartyState, table: Table, book: Book, amount: Decimal, ev: Event, code: str,
                 out: Out, rule: str | None) -> bool:
        """A service or bill that would pass the credit limit is not rendered on credit: a decision says so."""
        terms = table.account
        if terms is None or book.can_charge(amount, terms.credit_limit):
            return False
        found = table.prices.get(code)
        self._account_decision(st, "refused", ev.id, ev.at, amount, book.account.currency, out, rule, params={
            "service": code, "title": found.title if found else code, "balance": str(book.account.balance),
            "limit": str(terms.credit_limit)})
        return True

    def _low(self, st: CounterpartyState, table: Table, book: Book, event: str, at: int, out: Out) -> None:
        terms = table.account
        if terms is not None and terms.mode == "prepaid" and book.low(terms):
            assert terms.top_up is not None
            self._account_decision(st, "top_up_invoice", event, at, terms.top_up, book.account.currency, out, None,
                                   params={"balance": str(book.account.balance), "low": str(terms.low_balance)})

    def _account_decision(self, st: CounterpartyState, action: str, event: str, at: int, amount: Decimal,
                          currency: str, out: Out, rule: str | None, params: dict[str, Any]) -> None:
        st.n += 1
        out.append(Decision(decision_id(st.key, rule or "", action, event), st.key, rule, at, action, "applied",
                            event, (event,), st.n, amount=amount, currency=currency, params=params))

    def _sanction(self, st: CounterpartyState, d: Decision, at: int, out: Out) -> None:
        """Fees and surcharges always post; what the balance cannot cover becomes due."""
        assert d.amount is not None
        table = self.table(st, at)
        book = self._book(st, table)
        book.sanction(at, d.amount, d.event, d.id, d.action)
        self._low(st, table, book, d.event, at, out)  # a fee can take the balance below the threshold too

    def _day(self, st: CounterpartyState, table: Table, at: int) -> Day:
        if st.days is None:
            st.days = []
        return day_of(st.days, at, table.cost_period_us)

    def _effort(self, st: CounterpartyState, table: Table, ev: Event) -> None:
        data = ev.data
        bucket = self._day(st, table, ev.at)
        kind = ev.type
        if kind == "work.logged":
            minutes = values.whole(data.get("minutes") or 0, ev.id, "minutes")
            if minutes is not None:
                bucket.minutes += minutes
                if data.get("in_tariff") is False:
                    bucket.out_of_tariff += minutes
        elif kind == "request.received":
            minutes = values.whole(data.get("effort_minutes") or 0, ev.id, "effort_minutes")
            bucket.minutes += minutes or 0
            bucket.topics = count(bucket.topics, str(data.get("topic") or "other"))
        elif kind == "service.rendered":
            quantity = values.whole(data.get("quantity") or 1, ev.id, "quantity")
            if quantity is not None:
                bucket.services = count(bucket.services, str(data.get("service")), quantity)
        else:
            revenue = values.amount(data.get("amount"), ev.id, "amount")
            if revenue is not None:
                bucket.revenue += revenue

    # -- partners and suppliers: incidents, clean bookings, karma, reviews, deliveries --------------
    def _track(self, st: CounterpartyState, table: Table, ev: Event, role: str) -> None:
        data = ev.data
        kind = ev.type
        karma = table.karma
        if kind == "appointment.attended":
            if role != "partner":
                return  # a clean booking is the partner's; the client's attendance is its own rule
            track = self._record(st, karma)
            appointment = str(data.get("appointment"))
            if any(i.appointment == appointment for i in track.incidents):
                return  # an incident was already reported for it: not clean
            track.clean += 1
            recent = track.recent if track.recent is not None else {}
            within = karma.revoke_within_us if karma is not None else YEAR_US
            if recent and min(recent.values()) <= ev.at - within:
                recent = {a: t for a, t in recent.items() if t > ev.at - within}
            recent[appointment] = ev.at
            track.recent = recent
            if karma is not None and karma.enabled:
                self._karma(track, ev.at, karma.clean_booking)
                if karma.bonus:
                    self._book(st, table).bonus(ev.at, karma.bonus, ev.id)
                    track.bonus += karma.bonus
            return
        if role == "partner" and kind not in ("incident.reported", "review.received"):
            return
        track = self._record(st, karma)
        if kind == "incident.reported":
            severity = str(data.get("severity") or "minor")
            about = data.get("appointment")
            keep = table.scorecard.window_us if table.scorecard else YEAR_US
            if track.incidents and track.incidents[0].at <= ev.at - keep:
                track.incidents = [i for i in track.incidents if i.at > ev.at - keep]
            track.incidents.append(Incident(ev.at, ev.id, severity, data.get("category"),
                                            None if about is None else str(about)))
            track.incidents_total += 1
            if karma is not None and karma.enabled:
                self._karma(track, ev.at, -(karma.incident or {}).get(severity, 0))
                clean_at = (track.recent or {}).pop(str(about), None) if about is not None else None
                if clean_at is not None and clean_at > ev.at - karma.revoke_within_us:  # not clean after all
                    track.clean -= 1
                    self._karma(track, ev.at, -karma.clean_booking)
                    if karma.bonus:
                        self._book(st, table).bonus(ev.at, karma.bonus, ev.id, revoke=True)
                        track.bonus -= karma.bonus
        elif kind == "review.received":
            rating = values.whole(data.get("rating"), ev.id, "rating") if data.get("publish") is True else None
            if rating is not None:
                track.rating_sum += rating
                track.rating_n += 1
        elif kind == "delivery.completed" and data.get("due_at") is not None:
            try:
                due = parse_instant(data["due_at"])
            except TimeError:
                return
            if ev.at > due:
                keep = table.scorecard.window_us if table.scorecard else YEAR_US
                track.late = [*(x for x in track.late or () if x[0] > ev.at - keep), (ev.at, ev.id)]

    def _record(self, st: CounterpartyState, karma: KarmaTerms | None) -> Track:
        if st.track is None:
            st.track = Track()
        if karma is not None and karma.enabled and st.track.karma is None:
            st.track.karma = karma.start
        return st.track

    def _karma(self, track: Track, at: int, change: int) -> None:
        track.karma = (track.karma or 0) + change
        day = at // DAY_US
        history = track.history if track.history is not None else []
        if history and history[-1][0] == day:
            history[-1] = (day, track.karma)
        else:
            history.append((day, track.karma))
        track.history = history

    # -- grace: leniency for a polite request ------------------------------------------------------
    def _grace(self, st: CounterpartyState, c: Compiled, ev: Event, out: Out) -> None:
        rule, data, t = c.rule, ev.data, ev.tone
        lapse_key, lapse = None, None
        for name, value in data.items():  # the request names what it is about: invoice, appointment, ...
            if isinstance(value, str) and st.lapses and ref_key(name, value) in st.lapses:
                lapse_key, lapse = ref_key(name, value), st.lapses[ref_key(name, value)]
                break
        late_by: int | None = None
        if data.get("late_by") is not None:  # not a duration: as if it were not given
            late_by = values.duration(data["late_by"], ev.id, "late_by")
        if late_by is None and lapse is not None:
            late_by = (lapse.paid if lapse.paid is not None else ev.at) - lapse.due
        hostile = t is not None and _hostile_to(rule, t)
        params: dict[str, Any] = {"late_by": late_by, "max_late": c.max_late_us, "tone": t.tone if t else None,
                                  "phrases": list(t.phrases) if t else [], "kinds": list(t.kinds) if t else [],
                                  "lapse": lapse_key and lapse_key.replace("\x1f", ":"),
                                  "strike": lapse.event if lapse else None,
                                  "strike_rule": lapse.rule if lapse else None}
        evidence = (ev.id, lapse.event) if lapse is not None else (ev.id,)
        if hostile and rule.polite_only:
            status = "proposed" if rule.hostile == "review" else "applied"
            d = self._emit(st, c, "grace_denied", status, ev.at, ev.id, evidence, out, params=params)
        elif late_by is not None and c.max_late_us is not None and late_by <= c.max_late_us:
            d = self._emit(st, c, "grace_approved", "applied", ev.at, ev.id, evidence, out, params=params)
            self._forgive(st, d, ev.at)
            return
        else:  # too late, or lateness unknown: a person decides
            d = self._emit(st, c, "grace_approved", "proposed", ev.at, ev.id, evidence, out, params=params)
        if d.status == "proposed":
            if st.proposals is None:
                st.proposals = {}
            st.proposals[d.id] = d

    def _forgive(self, st: CounterpartyState, d: Decision, at: int) -> None:
        """An approved grace takes back the strike of the deadline it is about."""
        params = d.params or {}
        event, rule_id = params.get("strike"), params.get("strike_rule")
        c = self.table(st, at).rules.get(str(rule_id)) if rule_id else None
        if c is None or not st.strikes or event is None:
            return
        strikes = st.strikes.get(c.group) or []
        for i, (_, struck) in enumerate(strikes):
            if struck == event:
                del strikes[i]
                break
