"""People's acts on proposals: approve, soften, dismiss, and grace decided by a person."""

from __future__ import annotations

from firmly.domain.engine.decision import Decision
from firmly.domain.engine.state import CounterpartyState
from firmly.domain.engine.timers import TimerFold
from firmly.domain.events import Event
from firmly.domain.ladders import Step

Out = list[Decision]


class ActsFold(TimerFold):
    def _act(self, st: CounterpartyState, ev: Event, out: Out) -> None:
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
        if d.action in ("grace_approved", "grace_denied") and act != "dismiss":
            d.status = "approved"  # a person granted (or confirmed the denial of) the grace
            out.append(d)
            if d.action == "grace_approved":
                self._forgive(st, d, ev.at)
            return
        if act == "dismiss" or c is None or c.ladder is None:
            d.status = "dismissed"
            out.append(d)
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
