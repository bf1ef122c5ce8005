"""Decisions explained for one reader: the stored facts, the sentence in the reader's language.

The stored `explanation` (the counterparty's language) is what `--json` and the API return; a person at
a screen or a terminal reads the sentence again in their own (service.policy.explanation)."""

from __future__ import annotations

from typing import Any

from firmly.domain.engine import Engine
from firmly.domain.ports import Store
from firmly.service import queries, workspace
from firmly.service.policy import explanation, load_policy, row_to_decision


def in_language(store: Store, rows: list[dict[str, Any]], lang: str | None = None) -> list[dict[str, Any]]:
    """The rows with `explanation` for a reader of `lang` (the workspace's language when None) and
    `rule_title`, the rule as its rulebook names it."""
    if not rows:
        return rows
    with store.read():
        ws = workspace.current(store)
        states = store.load_states(list({r["counterparty"] for r in rows}))
        engine = Engine(load_policy(store))
    reader = lang or ws.locale
    out = []
    for row in rows:
        st = states.get(row["counterparty"])
        d = row_to_decision(row)
        c = engine.table(st, d.at).rules.get(d.rule or "") if st is not None else None
        out.append({**row, "rule_title": c.rule.title if c is not None else "",
                    "explanation": explanation(engine, d, st, ws, reader)})
    return out


def decisions(store: Store, counterparty: str | None, rule: str | None, status: str | None,
              lang: str | None = None) -> list[dict[str, Any]]:
    """queries.decisions for a person: the same rows, explained in `lang` (the workspace's by default)."""
    with store.read():
        workspace.current(store)
        rows = store.decisions(counterparty=counterparty, rule=rule, status=status)
    return [{**queries.public(r), "explanation": r["explanation"]} for r in in_language(store, rows, lang)]
