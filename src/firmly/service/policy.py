"""The workspace's rulebooks as the engine's Policy, and decisions turned into stored rows."""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import Any

from firmly.domain.engine import CounterpartyState, Decision, Engine, Policy
from firmly.domain.explain import explain
from firmly.domain.money import fmt, parse_amount
from firmly.domain.ports import Store, StoredRulebook, WorkspaceInfo
from firmly.domain.rulebook import Rulebook, parse_rulebook
from firmly.service import wording


@lru_cache(maxsize=64)
def _parsed(source: str, name: str) -> Rulebook:
    return parse_rulebook(source, name)


def as_rulebook(stored: StoredRulebook) -> Rulebook:
    book = _parsed(stored.source, f"{stored.id}@{stored.version}")
    effective = stored.effective_from if stored.effective_from is not None else book.effective_from
    return dataclasses.replace(book, effective_from=effective)


_policies: dict[tuple[Any, ...], Policy] = {}


def load_policy(store: Store, replace: Rulebook | None = None) -> Policy:
    """Every stored version; `replace` stands in for all versions of its id (simulation).

    The same stored versions give the same Policy object, kept between calls: a server answers many
    requests under one set of rules, and a Policy compiles its tables (and `when:` expressions) once."""
    stored = store.rulebooks()
    key = (tuple((s.id, s.version, s.hash, s.loaded_at, s.effective_from) for s in stored),
           None if replace is None else replace.hash)
    found = _policies.get(key)
    if found is not None:
        return found
    books = [as_rulebook(s) for s in stored]
    if replace is not None:
        books = [b for b in books if b.id != replace.id]
        books.append(dataclasses.replace(replace, effective_from=None))
    policy = Policy(books)
    if len(_policies) >= 32:
        _policies.clear()
    _policies[key] = policy
    return policy


def decision_rows(engine: Engine, decisions: list[Decision], states: dict[str, CounterpartyState],
                  ws: WorkspaceInfo) -> list[dict[str, Any]]:
    """The last word on each decision id, with its explanation written out."""
    final: dict[str, Decision] = {}
    for d in decisions:
        final[d.id] = d
    return [decision_row(engine, d, states.get(d.counterparty), ws) for d in final.values()]


def decision_row(engine: Engine, d: Decision, st: CounterpartyState | None, ws: WorkspaceInfo
                 ) -> dict[str, Any]:
    amount = d.amount
    return {
        "id": d.id, "counterparty": d.counterparty, "rule": d.rule, "at": d.at, "n": d.n, "action": d.action,
        "status": d.status, "amount": None if amount is None else fmt(amount), "currency": d.currency,
        "event": d.event, "evidence": d.evidence, "step": d.step, "version": d.version, "params": d.params,
        "explanation": explanation(engine, d, st, ws),
    }


def explanation(engine: Engine, d: Decision, st: CounterpartyState | None, ws: WorkspaceInfo,
                lang: str | None = None) -> str:
    """The decision's sentence for a reader of `lang`; by default the counterparty's language (else the
    rulebook's), which is the one stored with the decision and sent in its messages."""
    title, why, next_step, locale, timezone, duration = d.rule or "", "", None, ws.locale, ws.timezone, None
    books: tuple[Rulebook, ...] = ()
    if st is not None and d.rule is not None:
        c = engine.table(st, d.at).rules.get(d.rule)
        if c is not None:
            title, why, timezone, books = c.rule.title, c.rule.why, c.book.timezone, (c.book,)
            locale = st.locale or c.book.locale
            if c.ladder is not None and d.step is not None:
                steps = c.ladder.steps
                next_step = steps[min(d.step, len(steps) - 1)].action
                duration = steps[d.step - 1].duration if d.step <= len(steps) else None
    locale = lang or locale
    return explain(d, title=title, why=why, next_step=next_step, locale=locale, timezone=timezone,
                   duration=duration, words=wording.words(locale, books))


def row_to_decision(row: dict[str, Any]) -> Decision:
    """A stored decision back as the engine's object (to re-explain it, e.g. once superseded)."""
    return Decision(row["id"], row["counterparty"], row["rule"], row["at"], row["action"], row["status"],
                    row["event"], tuple(row["evidence"]), row["n"],
                    amount=parse_amount(row["amount"]) if row["amount"] is not None else None,
                    currency=row["currency"], step=row["step"], version=row["version"],
                    params=row.get("params") or {})
