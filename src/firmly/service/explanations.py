"""Decisions explained for one reader: the stored facts, the sentence in the reader's language.

The stored `explanation` (the counterparty's language) is what `--json` and the API return; a person at
a screen or a terminal reads the sentence again in their own (service.policy.explanation)."""

from __future__ import annotations

from typing import Any

from firmly.domain.engine import Engine
from firmly.domain.ports import Store
from firmly.domain.vocabulary import Words
from firmly.service import queries, wording, workspace
from firmly.service.policy import as_rulebook, explanation, load_policy, row_to_decision


def in_language(store: Store, rows: list[dict[str, Any]], lang: str | None = None) -> list[dict[str, Any]]:
    """The rows with `explanation` for a reader of `lang` (the workspace's language when None) and
    `rule_title`, the rule as its rulebook names it, `action_name` and `status_name`, their names in `lang`."""
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
        table = engine.table(st, d.at) if st is not None else None
        c = table.rules.get(d.rule or "") if table is not None else None
        words = wording.words(reader, table.books if table is not None else ())
        out.append({**row, "rule_title": c.rule.title if c is not None else "",
                    "action_name": words.action(row["action"]), "status_name": words.status(row["status"]),
                    "explanation": explanation(engine, d, st, ws, reader)})
    return out


def counterparty_words(store: Store, key: str, lang: str | None = None) -> tuple[Words, dict[str, str]]:
    """The words a reader of `lang` (the workspace's by default) reads one counterparty's page in, and its
    rules' titles by id, under the rulebooks that apply to it now."""
    with store.read():
        ws = workspace.current(store)
        st = store.load_states([key]).get(key)
        engine = Engine(load_policy(store))
    if st is None:
        return wording.words(lang or ws.locale), {}
    table = engine.table(st, ws.clock if ws.clock is not None else st.last_at)
    return (wording.words(lang or ws.locale, table.books),
            {rule_id: c.rule.title for rule_id, c in table.rules.items()})


def decisions(store: Store, counterparty: str | None, rule: str | None, status: str | None,
              lang: str | None = None) -> list[dict[str, Any]]:
    """queries.decisions for a person: the same rows, explained in `lang` (the workspace's by default)."""
    with store.read():
        workspace.current(store)
        rows = store.decisions(counterparty=counterparty, rule=rule, status=status)
    return for_reader(store, rows, lang)


def for_reader(store: Store, rows: list[dict[str, Any]], lang: str | None = None) -> list[dict[str, Any]]:
    """Stored decision rows as a person reads them: the stable JSON's fields, with the names in `lang`."""
    named = ("explanation", "rule_title", "action_name", "status_name")
    return [{**queries.public(r), **{k: r[k] for k in named}} for r in in_language(store, rows, lang)]


def workspace_words(store: Store, lang: str) -> Words:
    """The words of a reader of `lang` under every rulebook the workspace holds: for a page about many
    counterparties at once (a report), where no one counterparty's rulebooks apply."""
    with store.read():
        stored = store.rulebooks()
    return wording.words(lang, [as_rulebook(s) for s in stored])
