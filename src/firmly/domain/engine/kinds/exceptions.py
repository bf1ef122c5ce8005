"""exceptions: a request for leniency (`exception.requested`) about a step, decided by how it is asked and how
the counterparty has behaved: granted when polite and every `approve_if` holds, else denied or sent to a person.

```yaml
forgive_on_request:
  kind: exceptions
  event: exception.requested
  approve_if: {first_in: 365d, kept_streak_at_least: 3, amount_at_most: "2000.00"}
  hostile: deny          # deny | review
  otherwise: review      # review | deny
```
A change to a booking (`ask: change_booking`) is never granted by the engine: a person decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from firmly.domain.checker import MAX_COUNT, finite
from firmly.domain.durations import to_us
from firmly.domain.engine.kinds.base import Context, RuleKind, applies, hostile_to, undirected

if TYPE_CHECKING:
    from firmly.domain.checker import Checker
    from firmly.domain.engine.decision import Decision
    from firmly.domain.engine.ladder import LadderFold as Engine
    from firmly.domain.engine.policy import Compiled
    from firmly.domain.engine.state import CounterpartyState, Sanction
    from firmly.domain.events import Event
    from firmly.domain.yamlmap import Path

ASKS = ("waive_fee", "forgive_strike", "change_booking")
CONDITIONS = ("first_in", "kept_streak_at_least", "amount_at_most")


@dataclass(frozen=True, slots=True)
class Leniency:
    """The rule's spec: when a polite request is granted without a person."""

    first_in_us: int | None = None  # no leniency granted within this period before
    kept_streak_at_least: int | None = None  # the rule was kept so many times in a row before the breach
    amount_at_most: Decimal | None = None  # the fee is at most this
    hostile: str = "deny"
    otherwise: str = "review"


def check(c: Checker, spec: dict[str, Any], path: Path, ctx: Context) -> dict[str, Any]:
    where = (*path, "approve_if")
    conditions = spec.get("approve_if")
    if conditions is None:
        conditions = {}
    elif not isinstance(conditions, dict):
        c.add(where, "must be a mapping of names to settings")
        conditions = {}
    for name in conditions:
        if name not in CONDITIONS:
            c.unknown((*where, name), "is not a condition of approve_if (it has {conditions})", CONDITIONS,
                      conditions=", ".join(CONDITIONS))
    first_in = c.duration(conditions, where, "first_in")
    streak = conditions.get("kept_streak_at_least")
    if streak is not None and (not finite(streak) or isinstance(streak, float) or not 0 <= streak <= MAX_COUNT):
        c.add((*where, "kept_streak_at_least"), "must be a whole number from 0 to {max}, got {value}",
              max=f"{MAX_COUNT:,}", value=repr(streak))
        streak = None
    most = conditions.get("amount_at_most")
    amount = c.money(most, (*where, "amount_at_most")) if most is not None else None
    return {"spec": Leniency(to_us(first_in) if first_in is not None else None,
                             int(streak) if streak is not None else None, amount,
                             c.choice(spec, path, "hostile", ("deny", "review")),
                             c.choice(spec, path, "otherwise", ("review", "deny"))),
            **undirected(c, spec, path)}


def prepare(c: Compiled) -> None:
    c.spec = c.rule.spec


def _about(st: CounterpartyState, about: str) -> tuple[str, Sanction] | None:
    """The step a request names: the decision itself, or the event that caused it (its latest step)."""
    sanctions = st.sanctions
    if not sanctions:
        return None
    found = sanctions.get(about)
    if found is not None:
        return about, found
    for decision, sanction in reversed(sanctions.items()):
        if sanction.event == about:
            return decision, sanction
    return None


def _unmet(spec: Leniency, st: CounterpartyState, s: Sanction, at: int) -> list[str]:
    unmet = []
    if spec.first_in_us is not None and st.leniency > at - spec.first_in_us:
        unmet.append("first_in")
    if spec.kept_streak_at_least is not None and s.streak < spec.kept_streak_at_least:
        unmet.append("kept_streak_at_least")
    if spec.amount_at_most is not None and s.amount is not None and s.amount > spec.amount_at_most:
        unmet.append("amount_at_most")
    return unmet


def judge(engine: Engine, st: CounterpartyState, c: Compiled, ev: Event, role: str, out: list[Decision]) -> None:
    if role != "subject" or (c.when is not None and not applies(c, ev)):
        return
    spec: Leniency = c.spec
    data, t = ev.data, ev.tone
    about, ask = str(data.get("about") or ""), str(data.get("ask") or "")
    found = _about(st, about)
    params: dict[str, Any] = {"about": about, "ask": ask, "tone": t.tone if t else None,
                              "phrases": list(t.phrases) if t else [], "kinds": list(t.kinds) if t else []}
    evidence: tuple[str, ...] = (ev.id,)
    sanction = None
    if found is not None:
        decision, sanction = found
        evidence = (ev.id, sanction.event)
        params.update({"decision": decision, "step_action": sanction.action, "step_rule": sanction.rule,
                       "fee": str(sanction.amount) if sanction.amount is not None else None,
                       "currency": c.book.currency,
                       "streak": sanction.streak, "broken": st.rule(sanction.rule).broken})
    if t is not None and hostile_to(c.rule, t):
        params["reason"] = "hostile"
        action, status = "exception_denied", "proposed" if spec.hostile == "review" else "applied"
    elif ask == "change_booking":
        params["reason"] = "booking"
        action, status = "exception_granted", "proposed"
    elif sanction is None or sanction.forgiven:
        params["reason"] = "forgiven" if sanction is not None else "unknown"
        action, status = "exception_granted", "proposed"
    else:
        unmet = _unmet(spec, st, sanction, ev.at)
        if not unmet:
            action, status = "exception_granted", "applied"
        else:
            params.update({"reason": "unmet", "unmet": unmet, "need_streak": spec.kept_streak_at_least,
                           "most": str(spec.amount_at_most) if spec.amount_at_most is not None else None})
            action, status = ("exception_denied", "applied") if spec.otherwise == "deny" else \
                ("exception_granted", "proposed")
    d = engine._emit(st, c, action, status, ev.at, ev.id, evidence, out, params=params)
    if status == "proposed":
        if st.proposals is None:
            st.proposals = {}
        st.proposals[d.id] = d
    elif action == "exception_granted":
        engine._grant(st, d, ev.at, out)


KIND = RuleKind("exceptions", frozenset({"approve_if", "hostile", "otherwise", "undirected_profanity"}), check,
                judge, prepare=prepare, default_event="exception.requested")
