"""Timed things: references an event sets, the reminders and deadlines counted from them, and the timers
that fire when the clock passes them (at one instant, events come before timers)."""

from __future__ import annotations

from heapq import heappop, heappush
from typing import Any

from firmly.domain.clock import TimeError, parse_instant
from firmly.domain.engine.decision import Decision, decision_id
from firmly.domain.engine.kinds import deadline
from firmly.domain.engine.partners import PartnerFold
from firmly.domain.engine.policy import CLOSING, Compiled, Table, Timed
from firmly.domain.engine.state import CounterpartyState, ref_key
from firmly.domain.events import Event

Out = list[Decision]


class TimerFold(PartnerFold):
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
            deadline.start(self, st, c, entity_id, moment, ev)

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
            elif kind == "d":  # a rule's own timer: `a` names the rule, `b` what it is about
                c = self.table(st, at).rules.get(a)
                if c is not None and c.fire is not None:
                    c.fire(self, st, c, b, at, out)
            # kind "x": a restriction ends; status is derived from time, the timer only wakes the clock
        if not timers:
            st.timers = None

