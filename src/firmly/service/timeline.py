"""A counterparty's whole story on one page: events and decisions in time, strikes against each rule's
ladder, restrictions, the account statement, scores and the tone of what it wrote."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from firmly.domain.engine import REVIEW_EVENT
from firmly.domain.engine.retraction import RETRACTED, withdrawn
from firmly.domain.ledger import statement
from firmly.domain.ports import Store
from firmly.service import accounts, queries, wording
from firmly.service.policy import explanation, row_to_decision

LIMIT = 400  # timeline entries shown, newest first; the CLI and API give the rest


@dataclass(frozen=True, slots=True)
class Rung:
    action: str
    amount: str | None
    days: int | None
    review: bool


@dataclass(frozen=True, slots=True)
class RuleView:
    id: str
    title: str
    kind: str
    strikes: int
    step: str | None
    broken: int
    kept: int
    kept_streak: int
    ladder: str | None
    window_days: int | None
    earn_back: int | None
    rungs: list[Rung]
    currency: str


@dataclass(frozen=True, slots=True)
class Entry:
    at: int
    kind: str  # "event" | "decision"
    item: dict[str, Any]


@dataclass(slots=True)
class Page:
    key: str
    name: str
    kind: str
    tier: str
    status: str
    email: str | None
    locale: str | None
    clock: int | None
    restrictions: list[dict[str, Any]]
    rules: list[RuleView]
    account: dict[str, Any] | None
    scores: dict[str, Any]
    timeline: list[Entry]
    total: int  # entries in all, of which the newest LIMIT are in `timeline`
    messages: list[dict[str, Any]]  # what it wrote, with the tone found in it
    acts: list[dict[str, Any]]  # people's acts on its proposals
    karma: list[tuple[int, int]] = field(default_factory=list)  # (day, karma): partners
    tier_name: str = ""  # the tier as its rulebook (or the vocabulary) names it for the reader
    timezone: str = "UTC"  # the workspace's: every time on the page is shown in it
    contacts: dict[str, dict[str, str]] = field(default_factory=dict)  # role -> {name, email}


def page(store: Store, key: str, lang: str | None = None) -> Page:
    """The page for a reader of `lang` (the workspace's language by default): decisions explained in it,
    events by their names and their data in words, rules by their titles."""
    with store.read():
        found = queries.present(store, key)
        ws, st, engine, now, table, shown = found.ws, found.st, found.engine, found.now, found.table, found.conduct
        scores = queries.scores(store, st, table, now)
        events = store.events_about([key])
        decisions = store.decisions(counterparty=key)
        account: dict[str, Any] | None = None
        if st.account is not None:
            balance, due, entries = statement(store.postings(key))
            account = {"balance": balance, "due": due, "currency": st.account.currency, "entries": entries,
                       "prices": accounts.price_list(st, table), "invoiced": st.account.invoiced}
    rules = []
    for rule_id, c in table.rules.items():
        figures = shown["rules"][rule_id]
        ladder = c.ladder
        rungs = [Rung(s.action, None if s.amount is None else str(s.amount),
                      None if s.duration is None else s.duration.days, s.review)
                 for s in (ladder.steps if ladder else ())]
        rules.append(RuleView(rule_id, c.rule.title, c.rule.kind, figures["strikes"], figures["step"],
                              figures["broken"], figures["kept"], figures["kept_streak"],
                              ladder.name if ladder else None, ladder.window.days if ladder else None,
                              ladder.earn_back if ladder else None, rungs,
                              c.book.currency))
    lang = lang or ws.locale
    words = wording.words(lang, table.books)
    if account is not None:
        account["service_names"] = {e["service"]: words.service(e["service"])
                                    for e in account["entries"] if e.get("service")}
    currency = table.books[0].currency if table.books else None
    titles = {rule_id: c.rule.title for rule_id, c in table.rules.items()}
    gone = withdrawn(ev for ev in events if ev.type == RETRACTED)
    # A withdrawn fact and a cancellation nobody is known to have made stay on the page, marked as such
    shown_events = sorted((ev for ev in events if ev.type != REVIEW_EVENT), key=lambda ev: (ev.at, ev.seq),
                          reverse=True)[:LIMIT]  # only what is shown is put in words
    merged = [Entry(ev.at, "event", {**ev.envelope(), "seq": ev.seq, "tone": ev.tone, "withdrawn": ev.id in gone,
                                     "unattributed": ev.data.get("by") == "unknown", "title": words.event(ev.type),
                                     "facts": words.facts(ev.data, ws.timezone, currency)}) for ev in shown_events]
    shown_decisions = sorted(decisions, key=lambda d: d["at"], reverse=True)[:LIMIT]
    merged += [Entry(d["at"], "decision", {**queries.public(d), "rule_title": titles.get(d["rule"] or "", ""),
                                           "explanation": explanation(engine, row_to_decision(d), st, ws, lang)})
               for d in shown_decisions]
    merged.sort(key=lambda e: (e.at, e.kind == "decision", e.item.get("seq", 0)), reverse=True)
    messages = [{"at": ev.at, "id": ev.id, "type": ev.type, "text": ev.data.get("text"), "tone": ev.tone}
                for ev in events if ev.tone is not None and ev.counterparty == key]
    acts = [{"at": ev.at, "decision": ev.data.get("decision"), "act": ev.data.get("act"), "step": ev.data.get("step"),
             "author": ev.data.get("author"), "reason": ev.data.get("reason")}
            for ev in events if ev.type == REVIEW_EVENT]
    history = list(st.track.history or []) if st.track is not None else []
    restrictions = [{"type": r.type, "until": r.until, "rule": r.rule, "rule_title": titles.get(r.rule, "")}
                    for r in st.restrictions or () if r.until > now]
    total = len(events) - sum(ev.type == REVIEW_EVENT for ev in events) + len(decisions)
    return Page(st.key, st.name, st.kind, st.tier, shown["status"], shown["email"], st.locale, ws.clock,
                restrictions, rules, account, scores, merged[:LIMIT], total, messages[::-1], acts[::-1],
                history, words.tier(st.tier), ws.timezone, shown["contacts"])
