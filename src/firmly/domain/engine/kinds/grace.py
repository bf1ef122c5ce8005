"""grace: leniency for a polite request about a missed deadline, up to `max_late`; a person decides beyond."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from firmly.domain.durations import to_us
from firmly.domain.engine import values
from firmly.domain.engine.kinds.base import Context, RuleKind, applies, hostile_to, undirected
from firmly.domain.engine.state import ref_key

if TYPE_CHECKING:
    from firmly.domain.checker import Checker
    from firmly.domain.engine.decision import Decision
    from firmly.domain.engine.ladder import LadderFold as Engine
    from firmly.domain.engine.policy import Compiled
    from firmly.domain.engine.state import CounterpartyState
    from firmly.domain.events import Event
    from firmly.domain.yamlmap import Path


def check(c: Checker, spec: dict[str, Any], path: Path, ctx: Context) -> dict[str, Any]:
    return {"max_late": c.duration(spec, path, "max_late", required=True),
            "polite_only": c.flag(spec, path, "polite_only", True),
            "hostile": c.choice(spec, path, "hostile", ("deny", "review")),
            **undirected(c, spec, path)}


def prepare(c: Compiled) -> None:
    c.max_late_us = to_us(c.rule.max_late) if c.rule.max_late is not None else None


def judge(engine: Engine, st: CounterpartyState, c: Compiled, ev: Event, role: str, out: list[Decision]) -> None:
    if c.when is not None and not applies(c, ev):
        return
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
    hostile = t is not None and hostile_to(rule, t)
    params: dict[str, Any] = {"late_by": late_by, "max_late": c.max_late_us, "tone": t.tone if t else None,
                              "phrases": list(t.phrases) if t else [], "kinds": list(t.kinds) if t else [],
                              "lapse": lapse_key and lapse_key.replace("\x1f", ":"),
                              "strike": lapse.event if lapse else None,
                              "strike_rule": lapse.rule if lapse else None}
    evidence = (ev.id, lapse.event) if lapse is not None else (ev.id,)
    if hostile and rule.polite_only:
        status = "proposed" if rule.hostile == "review" else "applied"
        d = engine._emit(st, c, "grace_denied", status, ev.at, ev.id, evidence, out, params=params)
    elif late_by is not None and c.max_late_us is not None and late_by <= c.max_late_us:
        d = engine._emit(st, c, "grace_approved", "applied", ev.at, ev.id, evidence, out, params=params)
        engine._forgive(st, d, ev.at)
        return
    else:  # too late, or lateness unknown: a person decides
        d = engine._emit(st, c, "grace_approved", "proposed", ev.at, ev.id, evidence, out, params=params)
    if d.status == "proposed":
        if st.proposals is None:
            st.proposals = {}
        st.proposals[d.id] = d


KIND = RuleKind("grace", frozenset({"max_late", "polite_only", "hostile", "undirected_profanity"}), check, judge,
                prepare=prepare, default_event="grace.requested")
