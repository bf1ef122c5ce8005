"""channel: requests come through the channels the rule allows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from firmly.domain.engine.kinds.base import Context, RuleKind, applies

if TYPE_CHECKING:
    from firmly.domain.checker import Checker
    from firmly.domain.engine.decision import Decision
    from firmly.domain.engine.ladder import LadderFold as Engine
    from firmly.domain.engine.policy import Compiled
    from firmly.domain.engine.state import CounterpartyState
    from firmly.domain.events import Event
    from firmly.domain.yamlmap import Path


def check(c: Checker, spec: dict[str, Any], path: Path, ctx: Context) -> dict[str, Any]:
    allowed = c.names(spec, path, "allowed")
    if not allowed:
        c.add((*path, "allowed"), "is required: the channels requests may come through")
    return {"allowed": allowed}


def judge(engine: Engine, st: CounterpartyState, c: Compiled, ev: Event, role: str, out: list[Decision]) -> None:
    if c.when is not None and not applies(c, ev):
        return
    channel = ev.data.get("channel")
    if channel is None:
        return
    if channel in c.rule.allowed:
        engine._kept(st, c, ev.id, ev.at, out)
    else:
        engine._day(st, engine.table(st, ev.at), ev.at).off_channel += 1
        engine._breach(st, c, ev.id, ev.at, out, params={"channel": channel})


KIND = RuleKind("channel", frozenset({"allowed"}), check, judge, default_event="request.received")
