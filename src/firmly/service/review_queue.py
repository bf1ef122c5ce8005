"""The review queue as a person reads it: names instead of keys, rule titles instead of ids, ladder steps in
words, what approving would do, the dismissed proposals one may reopen, the relationships one may reinstate,
and the log of acts with when the person acted."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from firmly.domain.clock import parse_instant
from firmly.domain.durations import to_us as duration_us
from firmly.domain.engine import REVIEW_EVENT, CounterpartyState, Engine
from firmly.domain.ladders import Step
from firmly.domain.ports import Store
from firmly.domain.render import step_words
from firmly.service import explanations, workspace
from firmly.service.policy import load_policy

GRAVE = ("suspend", "terminate")  # approving these asks again, naming the consequence
SHOWN = 50  # dismissed proposals and acts listed, newest first


@dataclass(frozen=True, slots=True)
class Choice:
    step: int
    words: str


@dataclass(frozen=True, slots=True)
class Proposal:
    id: str
    counterparty: str
    name: str
    rule: str  # the rule's title
    action: str
    status: str
    at: int
    explanation: str
    evidence: tuple[str, ...]
    words: str  # the proposed step in words
    softer: tuple[Choice, ...]  # the lower steps it may be softened to, highest first
    grave: bool
    until: int | None  # where approving now would end a restriction


@dataclass(frozen=True, slots=True)
class Ended:
    decision: str
    counterparty: str
    name: str
    rule: str
    at: int


@dataclass(frozen=True, slots=True)
class Act:
    acted_at: int | None  # wall clock, when the person acted (older acts did not keep it)
    at: int  # the engine time it took effect at
    counterparty: str
    name: str
    decision: str
    act: str
    softened_to: str | None  # the step in words, for a soften
    author: str
    reason: str


@dataclass(frozen=True, slots=True)
class Queue:
    proposals: list[Proposal]
    dismissed: list[Proposal]
    ended: list[Ended]
    acts: list[Act]


def queue(store: Store, lang: str) -> Queue:
    with store.read():
        ws = workspace.current(store)
        pending = store.decisions(status="proposed")
        dismissed = store.decisions(status="dismissed")[-SHOWN:]
        ended = [r.key for r in store.counterparties(status="terminated")]
        acts = store.events_of_type(REVIEW_EVENT)[-SHOWN:]
        keys = {r["counterparty"] for r in (*pending, *dismissed)} | set(ended) | {ev.counterparty for ev in acts}
        states = store.load_states(keys)
        endings = store.decisions(ids=[st.terminated for k in ended if (st := states.get(k)) and st.terminated])
        acted_on = {r["id"]: r for r in store.decisions(ids={str(ev.data.get("decision")) for ev in acts})}
        engine = Engine(load_policy(store))
    pending = explanations.in_language(store, pending, lang)  # each sentence in the reader's language
    dismissed = explanations.in_language(store, dismissed, lang)
    now = ws.clock if ws.clock is not None else 0
    reader = _Reader(engine, states, lang, now)
    return Queue(
        proposals=[reader.proposal(r) for r in pending],
        dismissed=[reader.proposal(r) for r in dismissed[::-1]
                   if (st := states.get(r["counterparty"])) is not None and r["id"] in (st.dismissed or {})],
        ended=[Ended(r["id"], r["counterparty"], reader.name(r["counterparty"]), reader.title(r), r["at"])
               for r in endings],
        acts=[reader.act(ev.at, ev.counterparty, ev.data, acted_on.get(str(ev.data.get("decision"))))
              for ev in acts[::-1]])


class _Reader:
    """Names, titles and steps of one queue's decisions, from the counterparties' states and rulebooks."""

    def __init__(self, engine: Engine, states: dict[str, CounterpartyState], lang: str, now: int) -> None:
        self.engine, self.states, self.lang, self.now = engine, states, lang, now

    def name(self, key: str) -> str:
        st = self.states.get(key)
        return st.name if st is not None else key

    def _rule(self, row: dict[str, Any]) -> Any:
        st = self.states.get(row["counterparty"])
        if st is None or not row["rule"]:
            return None
        return self.engine.table(st, row["at"]).rules.get(row["rule"])

    def title(self, row: dict[str, Any]) -> str:
        c = self._rule(row)
        return str(c.rule.title) if c is not None else str(row["rule"] or "")

    def steps(self, row: dict[str, Any]) -> tuple[tuple[Step, ...], str]:
        c = self._rule(row)
        if c is None or c.ladder is None:
            return (), ""
        return c.ladder.steps, c.book.currency

    def words(self, row: dict[str, Any], number: int | None) -> str:
        steps, currency = self.steps(row)
        if number is not None and 1 <= number <= len(steps) and steps[number - 1].action == row["action"]:
            return step_words(steps[number - 1], self.lang, currency)
        amount = Decimal(row["amount"]) if row.get("amount") is not None else None
        return step_words(Step(row["action"], amount), self.lang, row.get("currency") or currency)

    def proposal(self, row: dict[str, Any]) -> Proposal:
        steps, currency = self.steps(row)
        number = row["step"] or 0
        softer = tuple(Choice(n, step_words(steps[n - 1], self.lang, currency))
                       for n in range(min(number, len(steps) + 1) - 1, 0, -1))
        proposed = steps[number - 1] if 1 <= number <= len(steps) else None
        until = (self.now + duration_us(proposed.duration)
                 if proposed is not None and proposed.duration is not None else None)
        words = self.words(row, number) if row["action"] in _STEP_ACTIONS else ""
        return Proposal(row["id"], row["counterparty"], self.name(row["counterparty"]), self.title(row),
                        row["action"], row["status"], row["at"], row["explanation"], tuple(row["evidence"]),
                        words, softer, row["action"] in GRAVE, until)

    def act(self, at: int, counterparty: str, data: dict[str, Any], row: dict[str, Any] | None) -> Act:
        step = data.get("step")
        softened_to = None
        if data.get("act") == "soften" and isinstance(step, int) and row is not None:
            steps, currency = self.steps(row)
            softened_to = step_words(steps[step - 1], self.lang, currency) if 1 <= step <= len(steps) else str(step)
        acted = data.get("acted_at")
        return Act(parse_instant(acted) if isinstance(acted, str) else None, at, counterparty, self.name(counterparty),
                   str(data.get("decision")), str(data.get("act")), softened_to, str(data.get("author") or ""),
                   str(data.get("reason") or ""))


_STEP_ACTIONS = frozenset({"feedback", "warning", "fee", "require_prepayment", "suspend", "terminate"})
