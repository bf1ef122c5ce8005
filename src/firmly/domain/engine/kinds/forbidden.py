"""forbidden: every event of its type, done by the counterparty, is a breach."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from firmly.domain.engine.kinds.base import Context, RuleKind, applies, counts_against

if TYPE_CHECKING:
    from firmly.domain.checker import Checker
    from firmly.domain.engine.decision import Decision
    from firmly.domain.engine.ladder import LadderFold as Engine
    from firmly.domain.engine.policy import Compiled
    from firmly.domain.engine.state import CounterpartyState
    from firmly.domain.events import Event
    from firmly.domain.yamlmap import Path


def check(c: Checker, spec: dict[str, Any], path: Path, ctx: Context) -> dict[str, Any]:
    return {}


def judge(engine: Engine, st: CounterpartyState, c: Compiled, ev: Event, role: str, out: list[Decision]) -> None:
    if counts_against(ev.data, role) and (c.when is None or applies(c, ev)):
        engine._breach(st, c, ev.id, ev.at, out)


KIND = RuleKind("forbidden", frozenset(), check, judge, needs_event=True)
