"""People's acts on proposals: approve, soften, dismiss, reopen, reinstate, and grace decided by a person."""

from __future__ import annotations

from firmly.domain.engine.decision import Decision, decision_id
from firmly.domain.engine.state import CounterpartyState
from firmly.domain.engine.timers import TimerFold
from firmly.domain.events import Event
from firmly.domain.ladders import Step

Out = list[Decision]
LENIENCY = frozenset({"grace_approved", "grace_denied", "exception_granted", "exception_denied"})


class ActsFold(TimerFold):
    def _act(self, st: CounterpartyState, ev: Event, out: Out) -> None:
        if ev.data.get("act") == "reopen":
            self._reopen(st, str(ev.data.get("decision")), out)
        elif ev.data.get("act") == "reinstate":
            self._reinstate(st, ev, out)
        else:
            self._on_proposal(st, ev, out)

    def _on_proposal(self, st: CounterpartyState, ev: Event, out: Out) -> None:
        """Approve, soften or dismiss a proposal that waits for a person."""
        data = ev.data
        d = (st.proposals or {}).get(str(data.get("decision")))
        if d is None or d.rule is None:
            return  # the proposal was made obsolete by a late event; the act is kept in the log
        act = data.get("act")
        if act == "soften" and not 1 <= int(data.get("step") or 0) < (d.step or 0):
            return  # not a lower step: the proposal stays open for a valid act
        assert st.proposals is not None
        del st.proposals[d.id]
        c = self.table(st, ev.at).rules.get(d.rule)
        if d.action in LENIENCY and act != "dismiss":
            d.status = "approved"  # a person granted (or confirmed the denial of) the grace or the request
            out.append(d)
            if d.action == "grace_approved":
                self._forgive(st, d, ev.at)
            elif d.action == "exception_granted":
                self._grant(st, d, ev.at, out)
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
