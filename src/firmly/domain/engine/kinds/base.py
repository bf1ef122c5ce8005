"""What a rule kind is: its fields and their validation, how it is compiled and wired, how it judges.

A kind is one module under `engine/kinds/` that builds one `RuleKind`, and one line in
`kinds/__init__.py` that registers it. The rulebook validates a rule's own fields with the kind's
`check`; the policy compiles the rule with `prepare` and routes event types to it with `wire`; the fold
calls the handler the compiled rule holds (`Compiled.judge`, `Compiled.fire`): dispatch is one call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from firmly.domain.checker import Checker
    from firmly.domain.engine.decision import Decision
    from firmly.domain.engine.ladder import LadderFold as Engine  # what a kind may use: ladder, money, tables
    from firmly.domain.engine.policy import Compiled, Table
    from firmly.domain.engine.state import CounterpartyState
    from firmly.domain.events import Event
    from firmly.domain.rulebook import Price, Remind, Rule
    from firmly.domain.tone import Tone
    from firmly.domain.yamlmap import Path


@dataclass(frozen=True, slots=True)
class Context:
    """What a kind's validation may need beyond the rule's own fields."""

    event: str | None  # the event type the rule watches, as written or the kind's default
    remind: Remind | None
    prices: dict[str, Price]


# The rule's own fields, validated: keyword arguments of `Rule` (a kind of its own puts a typed spec in `spec`).
Check = Callable[["Checker", dict[str, Any], "Path", Context], dict[str, Any]]
# Judge one event for one compiled rule: (engine, state, rule, event, role, decisions out).
Judge = Callable[["Engine", "CounterpartyState", "Compiled", "Event", str, "list[Decision]"], None]
# A timer the rule set fires: (engine, state, rule, what it is about, when, decisions out).
Fire = Callable[["Engine", "CounterpartyState", "Compiled", str, int, "list[Decision]"], None]
# Put a compiled rule in the dispatch table: which event types it judges, which references it times from.
Wire = Callable[["Compiled", "Table", "set[tuple[str, str]]"], None]
Prepare = Callable[["Compiled"], None]


def on_its_event(c: Compiled, table: Table, refs: set[tuple[str, str]]) -> None:
    """The usual wiring: the rule judges the events of its `event:` type."""
    if c.rule.event:
        table.judged.setdefault(c.rule.event, []).append(c)


def nothing(c: Compiled) -> None:
    """Nothing to compile beyond what every rule has."""


@dataclass(frozen=True, slots=True)
class RuleKind:
    name: str
    fields: frozenset[str]  # the rule fields this kind reads, beyond the ones every rule has
    check: Check
    judge: Judge
    wire: Wire = on_its_event
    prepare: Prepare = nothing
    fire: Fire | None = None
    default_event: str | None = None  # the event type when the rule names none
    needs_event: bool = False  # a rule of this kind must say which event type it watches


def kept_by(engine: Engine, st: CounterpartyState, c: Compiled, ev: Event, role: str, out: list[Decision]) -> None:
    """An event the rule names in `kept_by:` keeps it, where its `when:` holds."""
    if c.when is None or c.applies(ev.type, ev.counterparty, ev.id, ev.data):
        engine._kept(st, c, ev.id, ev.at, out)


def counts_against(data: dict[str, Any], role: str) -> bool:
    """Whether an act was this counterparty's doing: not the provider's, not unknown, and the partner's
    only when it says `by: partner`."""
    by = data.get("by")
    return by not in ("provider", "unknown") and (role == "partner") == (by == "partner")


def applies(c: Compiled, ev: Event) -> bool:
    """Whether the rule's `when:` holds for the event (a rule without one always applies)."""
    return c.when is None or c.applies(ev.type, ev.counterparty, ev.id, ev.data)


def hostile_to(rule: Rule, tone: Tone) -> bool:
    """Whether a message counts as hostile under a grace or courtesy rule: swearing aimed at nobody
    ("мне на процессы насрать") counts unless the rule says `undirected_profanity: civil`."""
    if tone.tone != "hostile":
        return False
    return not (tone.undirected and rule.undirected_profanity == "civil")


def undirected(c: Checker, spec: dict[str, Any], path: Path) -> dict[str, Any]:
    """`undirected_profanity:` of the kinds that read a message's tone."""
    return {"undirected_profanity": c.choice(spec, path, "undirected_profanity", ("hostile", "civil"))}
