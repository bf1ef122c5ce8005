"""notice: an act (a cancellation) needs at least `min_notice` before the moment it is about."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from firmly.domain.clock import TimeError, parse_instant
from firmly.domain.durations import to_us
from firmly.domain.engine.kinds.base import Context, RuleKind, applies, counts_against, on_its_event
from firmly.domain.engine.state import ref_key

if TYPE_CHECKING:
    from firmly.domain.checker import Checker
    from firmly.domain.engine.decision import Decision
    from firmly.domain.engine.ladder import LadderFold as Engine
    from firmly.domain.engine.policy import Compiled, Table
    from firmly.domain.engine.state import CounterpartyState
    from firmly.domain.events import Event
    from firmly.domain.yamlmap import Path


def check(c: Checker, spec: dict[str, Any], path: Path, ctx: Context) -> dict[str, Any]:
    remind = ctx.remind
    return {"min_notice": c.duration(spec, path, "min_notice", required=True),
            "before": c.ref(spec, path, "before") or (
                (remind.entity, remind.field) if remind else ("appointment", "starts_at"))}


def prepare(c: Compiled) -> None:
    c.min_notice_us = to_us(c.rule.min_notice) if c.rule.min_notice else 0


def wire(c: Compiled, table: Table, refs: set[tuple[str, str]]) -> None:
    on_its_event(c, table, refs)
    if c.rule.before:
        refs.add(c.rule.before)


def judge(engine: Engine, st: CounterpartyState, c: Compiled, ev: Event, role: str, out: list[Decision]) -> None:
    data = ev.data
    if not counts_against(data, role) or (c.when is not None and not applies(c, ev)):
        return
    before = c.rule.before
    assert before is not None
    reference: int | None = None
    own = data.get(before[1])
    if own is not None:
        try:
            reference = parse_instant(own)
        except TimeError:
            reference = None
    elif st.refs and data.get(before[0]) is not None:
        found = st.refs.get(ref_key(before[0], str(data[before[0]])))
        reference = found[0] if found else None
    if reference is None:
        return  # nothing to measure the notice against
    notice = reference - ev.at
    if notice < c.min_notice_us:
        engine._breach(st, c, ev.id, ev.at, out, params={"notice": notice})
    else:
        engine._kept(st, c, ev.id, ev.at, out)


KIND = RuleKind("notice", frozenset({"min_notice", "before"}), check, judge, wire=wire, prepare=prepare,
                needs_event=True)
