"""incident: a reported incident is a breach weighted by its severity; a fatal one asks to terminate."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from firmly.domain.engine.kinds.base import Context, RuleKind, applies
from firmly.domain.events import SEVERITIES

if TYPE_CHECKING:
    from firmly.domain.checker import Checker
    from firmly.domain.engine.decision import Decision
    from firmly.domain.engine.ladder import LadderFold as Engine
    from firmly.domain.engine.policy import Compiled
    from firmly.domain.engine.state import CounterpartyState
    from firmly.domain.events import Event
    from firmly.domain.yamlmap import Path

MAX_STRIKES = 100  # strikes one incident may count


def check(c: Checker, spec: dict[str, Any], path: Path, ctx: Context) -> dict[str, Any]:
    raw = spec.get("weight")
    if raw is None:
        return {"weight": {"minor": 1, "major": 1, "fatal": "terminate"}}
    if not isinstance(raw, dict):
        c.add((*path, "weight"), "must map severity (minor, major, fatal) to strikes or `terminate`")
        return {"weight": {}}
    out: dict[str, int | str] = {}
    for severity, value in raw.items():
        where = (*path, "weight", str(severity))
        if severity not in SEVERITIES:
            c.add(where, "unknown severity; expected one of {choices}", choices=", ".join(SEVERITIES))
        elif value == "terminate" or (isinstance(value, int) and not isinstance(value, bool)
                                      and 0 <= value <= MAX_STRIKES):
            out[str(severity)] = value
        else:
            c.add(where, "must be a number of strikes from 0 to {max} or `terminate`, got {value}",
                  max=MAX_STRIKES, value=repr(value))
    return {"weight": out}


def judge(engine: Engine, st: CounterpartyState, c: Compiled, ev: Event, role: str, out: list[Decision]) -> None:
    if c.when is not None and not applies(c, ev):
        return
    severity = ev.data.get("severity")
    weight = c.rule.weight.get(str(severity), 1)
    if weight == "terminate":
        engine._breach(st, c, ev.id, ev.at, out, fatal=True, params={"severity": severity})
    elif isinstance(weight, int) and weight > 0:
        engine._breach(st, c, ev.id, ev.at, out, weight=weight, params={"severity": severity})


KIND = RuleKind("incident", frozenset({"weight"}), check, judge, default_event="incident.reported")
