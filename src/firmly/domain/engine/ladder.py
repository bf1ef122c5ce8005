"""The ladder: breaches climb it within its window, kept rules earn strikes back and are thanked."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from firmly.domain.durations import to_us as duration_us
from firmly.domain.engine.decision import Decision, decision_id
from firmly.domain.engine.money import MoneyFold
from firmly.domain.engine.policy import Compiled
from firmly.domain.engine.state import SANCTIONS_KEPT, CounterpartyState, Restriction, Sanction
from firmly.domain.ladders import Step

Out = list[Decision]


class LadderFold(MoneyFold):
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
        kept_before = rs.streak
        rs.streak = 0
        rs.needs_thanks = True
        if st.exemptions is not None and self._exempt(st, c, event, at, out, params):
            return
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
        self._remember(st, d, kept_before)
        if step.review:
            if st.proposals is None:
                st.proposals = {}
            st.proposals[d.id] = d
        else:
            self._apply_step(st, c.id, step, d, at, out)

    def _remember(self, st: CounterpartyState, d: Decision, kept_before: int) -> None:
        """Keep the recent steps a request for leniency may name (by the decision or by its breach)."""
        sanctions = st.sanctions if st.sanctions is not None else {}
        st.sanctions = sanctions
        sanctions[d.id] = Sanction(d.rule or "", d.event, d.at, d.action,
                                   d.amount if d.status == "applied" else None, kept_before)
        if len(sanctions) > SANCTIONS_KEPT:
            del sanctions[next(iter(sanctions))]

    def _exempt(self, st: CounterpartyState, c: Compiled, event: str, at: int, out: Out,
                params: dict[str, Any] | None) -> bool:
        """A personal exception holds for the rule: the breach is counted, exempt (no strike, no step)."""
        found = st.exempted(c.id, at)
        if found is None:
            return False
        exception, ex = found
        self._emit(st, c, "exempt", "applied", at, event, (event, exception), out,
                   params={**(params or {}), "exception": exception, "reason": ex.reason, "till": ex.until,
                           **({"set_at": ex.set_at} if ex.set_at is not None and at < ex.set_at else {})})
        return True

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

    def _grant(self, st: CounterpartyState, d: Decision, at: int, out: Out) -> None:
        """A request for leniency granted: the step it is about no longer counts. Its strike is taken back, its fee
        reversed (postings naming the request), a restriction it set lifted; the next breach is judged on the
        strikes that remain."""
        st.leniency = at
        params = d.params if d.params is not None else {}
        target = params.get("decision")
        s = (st.sanctions or {}).get(str(target)) if target is not None else None
        if s is None or s.forgiven:
            return
        s.forgiven = True
        c = self.table(st, at).rules.get(s.rule)
        if c is not None and st.strikes:
            strikes = st.strikes.get(c.group) or []
            for i, (_, struck) in enumerate(strikes):
                if struck == s.event:
                    del strikes[i]
                    break
            params["strikes"] = len(st.active_strikes(c.group, c.window_us, at))
        if s.amount is not None and s.amount > 0:
            book = self._book(st, self.table(st, at))
            book.waive(at, s.amount, d.event, d.id)
            params["waived"] = str(s.amount)
            d.amount, d.currency = s.amount, book.account.currency
        if st.restrictions:
            st.restrictions = [r for r in st.restrictions if r.decision != target] or None
        if st.terminated == target:
            st.terminated = None
        d.params = params

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
