"""deadline: the `expect:`ed event comes by a due time (a reference plus `grace`, or a daily `cutoff`).

A deadline is judged when its expected event comes, and by a timer when the due time passes first;
a missed one is remembered as a lapse, so a grace request about it can forgive the strike.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from firmly.domain.clock import TimeError, parse_instant, to_us
from firmly.domain.durations import to_us as duration_us
from firmly.domain.engine.kinds.base import Context, RuleKind, applies
from firmly.domain.engine.state import Deadline, Lapse, ref_key
from firmly.domain.scores import DAY_US

if TYPE_CHECKING:
    from firmly.domain.checker import Checker
    from firmly.domain.engine.decision import Decision
    from firmly.domain.engine.ladder import LadderFold as Engine
    from firmly.domain.engine.policy import Compiled, Table
    from firmly.domain.engine.state import CounterpartyState
    from firmly.domain.events import Event
    from firmly.domain.yamlmap import Path

_CUTOFF = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
LAPSES_KEPT_US = 365 * DAY_US  # how long a missed deadline may still be forgiven


def check(c: Checker, spec: dict[str, Any], path: Path, ctx: Context) -> dict[str, Any]:
    values: dict[str, Any] = {"expect": c.text(spec, path, "expect", required=True), "due": c.ref(spec, path, "due")}
    cutoff = c.text(spec, path, "cutoff")
    if cutoff is not None and not _CUTOFF.match(cutoff):
        c.add((*path, "cutoff"), "must be a time of day like \"14:00\", got {value}", value=repr(cutoff))
    values["cutoff"] = cutoff
    if values["due"] is None and cutoff is None:
        c.add((*path, "due"), "a deadline needs `due: <entity>.<field>` or `cutoff: \"HH:MM\"`")
    values["grace"] = c.duration(spec, path, "grace") or timedelta(0)
    return values


def prepare(c: Compiled) -> None:
    c.grace_us = duration_us(c.rule.grace)


def wire(c: Compiled, table: Table, refs: set[tuple[str, str]]) -> None:
    """Judged by its expected event, and timed from its due reference."""
    rule = c.rule
    if rule.expect:
        table.expected.setdefault(rule.expect, []).append(c)
    if rule.due:
        refs.add(rule.due)
        table.deadlines.setdefault(rule.due, []).append(c)


def start(engine: Engine, st: CounterpartyState, c: Compiled, entity_id: str, moment: int, ev: Event) -> None:
    """An event set (or moved) the time this deadline counts from: set its timer."""
    if c.rule.expect == ev.type or not applies(c, ev):
        return
    deadlines = st.deadlines if st.deadlines is not None else {}
    st.deadlines = deadlines
    due = moment + c.grace_us
    dl = deadlines.get(ref_key(c.id, entity_id))
    if dl is None:
        deadlines[ref_key(c.id, entity_id)] = Deadline(due, ev.id)
    elif dl.broken:
        return
    else:
        dl.due = due
    engine._push(st, due, "d", c.id, entity_id)


def judge(engine: Engine, st: CounterpartyState, c: Compiled, ev: Event, role: str, out: list[Decision]) -> None:
    """The expected event came: kept if in time, else a breach."""
    rule = c.rule
    data = ev.data
    if rule.due is not None and st.deadlines:
        # A deadline already set (its `when` held for the event that set it) is settled by its
        # expected event whatever that event's own fields are.
        entity_id = data.get(rule.due[0])
        dl = st.deadlines.pop(ref_key(c.id, str(entity_id)), None) if entity_id is not None else None
        if dl is not None:
            if not dl.broken:  # a late arrival after its timer adds no second strike
                _verdict(engine, st, c, ev, dl.due, out, str(entity_id))
            elif st.lapses:
                lapse = st.lapses.get(ref_key(rule.due[0], str(entity_id)))
                if lapse is not None and lapse.paid is None:
                    lapse.paid = ev.at
            return
    if c.when is not None and not applies(c, ev):
        return
    if rule.cutoff and data.get("for_date"):
        try:
            day = date.fromisoformat(str(data["for_date"])) - timedelta(days=1)
        except (ValueError, OverflowError):  # not a date, or the first day there is
            return
        hour, minute = (int(x) for x in rule.cutoff.split(":"))
        due = to_us(datetime.combine(day, time(hour, minute), tzinfo=c.tz)) + c.grace_us
        _verdict(engine, st, c, ev, due, out)
        return
    if rule.due is None:
        return
    own = data.get(rule.due[1])
    if own is not None:
        try:
            due = parse_instant(own) + c.grace_us
        except TimeError:
            return
        _verdict(engine, st, c, ev, due, out)


def fire(engine: Engine, st: CounterpartyState, c: Compiled, entity_id: str, at: int, out: list[Decision]) -> None:
    """The due time passed before the expected event: a breach, once."""
    dl = st.deadlines.get(ref_key(c.id, entity_id)) if st.deadlines else None
    if dl is not None and not dl.broken and dl.due == at:
        dl.broken = True
        _lapse(st, c, entity_id, dl.event, dl.due, None)
        engine._breach(st, c, dl.event, at, out, params={"late": True})


def _verdict(engine: Engine, st: CounterpartyState, c: Compiled, ev: Event, due: int, out: list[Decision],
             entity_id: str | None = None) -> None:
    if ev.at <= due:
        engine._kept(st, c, ev.id, ev.at, out)
    else:
        if entity_id is not None and c.rule.due is not None:
            _lapse(st, c, entity_id, ev.id, due, ev.at)
        engine._breach(st, c, ev.id, ev.at, out, params={"late_by": ev.at - due})


def _lapse(st: CounterpartyState, c: Compiled, entity_id: str, event: str, due: int, paid: int | None) -> None:
    """Remember a missed deadline by its entity, so a grace request about it can forgive the strike."""
    assert c.rule.due is not None
    lapses = st.lapses if st.lapses is not None else {}
    horizon = due - LAPSES_KEPT_US
    st.lapses = {k: v for k, v in lapses.items() if v.due > horizon}
    st.lapses[ref_key(c.rule.due[0], entity_id)] = Lapse(c.id, event, due, paid)


KIND = RuleKind("deadline", frozenset({"expect", "due", "cutoff", "grace"}), check, judge, wire=wire,
                prepare=prepare, fire=fire)
