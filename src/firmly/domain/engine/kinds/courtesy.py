"""courtesy: messages and grace requests are civil; a hostile one is a breach, a civil one keeps the rule."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from firmly.domain.engine.kinds.base import Context, RuleKind, applies, hostile_to, undirected

if TYPE_CHECKING:
    from firmly.domain.checker import Checker
    from firmly.domain.engine.decision import Decision
    from firmly.domain.engine.ladder import LadderFold as Engine
    from firmly.domain.engine.policy import Compiled, Table
    from firmly.domain.engine.state import CounterpartyState
    from firmly.domain.events import Event
    from firmly.domain.yamlmap import Path

SPOKEN = ("message.received", "grace.requested", "exception.requested")  # the events whose text has a tone


def check(c: Checker, spec: dict[str, Any], path: Path, ctx: Context) -> dict[str, Any]:
    return undirected(c, spec, path)


def wire(c: Compiled, table: Table, refs: set[tuple[str, str]]) -> None:
    for kind in SPOKEN:
        table.judged.setdefault(kind, []).append(c)


def judge(engine: Engine, st: CounterpartyState, c: Compiled, ev: Event, role: str, out: list[Decision]) -> None:
    if c.when is not None and not applies(c, ev):
        return
    t = ev.tone
    if t is not None and hostile_to(c.rule, t):
        engine._breach(st, c, ev.id, ev.at, out, params={"phrases": list(t.phrases), "kinds": list(t.kinds)})
    elif t is not None:
        engine._kept(st, c, ev.id, ev.at, out)


KIND = RuleKind("courtesy", frozenset({"undirected_profanity"}), check, judge, wire=wire)
