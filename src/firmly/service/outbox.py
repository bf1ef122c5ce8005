"""The outbox: the messages a decision means, written in the decision's own transaction.

One message per decision and recipient (its id is a hash of both), so writing a decision again, a
replay or a second worker never makes a second message. The worker sends them (service.worker).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from datetime import time
from decimal import Decimal
from typing import Any

from firmly import redact
from firmly.domain import contacts, seller
from firmly.domain.clock import iso
from firmly.domain.engine import CounterpartyState, Engine
from firmly.domain.errors import FirmlyError, InvalidInput, Problem
from firmly.domain.explain import STEP_NAMES
from firmly.domain.formats import format_money
from firmly.domain.messages import COMMUNICATED, Fields, compose, template_problem
from firmly.domain.ports import OutboxRow, Store, WorkspaceInfo
from firmly.domain.rulebook import Rulebook
from firmly.domain.vocabulary import N_
from firmly.domain.yamlmap import YamlProblem, load_with_lines
from firmly.service import own_page, workspace
from firmly.service.policy import explanation, row_to_decision
from firmly.service.queries import public

SENT_STATES = frozenset({"applied", "approved", "softened"})  # what actually happened (not proposals)
# A decision about a moment more than this before the wall clock when it is made (an import of history, a
# catch-up after a pause) is not sent; a fresh one is, whatever other counterparties' events say
MAX_AGE_US = 7 * 86_400_000_000
SETTINGS = {
    "sender_name": N_("who the messages are from, e.g. \"Клиника «Улыбка»\""),
    "signature": N_("the last lines of every email (default: the sender name)"),
    "reply_to": N_("the address replies go to"),
    "senders": N_("several people the messages come from, as [{name, email}]; each counterparty hears one of them "
                  "about one rule, and replies go back to that one"),
    "quiet_hours": N_("when nothing is sent, in the workspace time zone (default 21:00-09:00; \"off\" for none)"),
    "daily_limit": N_("at most this many messages a day to one counterparty (default 3; later ones wait a day)"),
    "webhook_url": N_("where every decision is posted as a Standard Webhooks request"),
    "webhook_secret": N_("the whsec_… secret webhooks are signed with (firmly webhook secret makes one)"),
    "messages": N_("template overrides as YAML: action -> ru|en -> {subject, body}"),
    **seller.SETTINGS,  # the business's details on its invoices
    **own_page.SETTINGS,  # the link to the client's own page every message ends with
}


def message_id(decision: str, channel: str, recipient: str) -> str:
    return "m-" + hashlib.blake2b(f"{decision}\x1f{channel}\x1f{recipient}".encode(), digest_size=10).hexdigest()


def overrides(engine: Engine, st: CounterpartyState, at: int, settings: dict[str, str]) -> dict[str, Any]:
    """Template overrides: the workspace's over the rulebook's."""
    return merged_overrides(engine.table(st, at).books, settings)


def merged_overrides(books: Iterable[Rulebook], settings: dict[str, str]) -> dict[str, Any]:
    """The rulebooks' templates (the first book's winning), then the workspace's over them."""
    merged: dict[str, Any] = {}
    for book in reversed(list(books)):
        for action, langs in (book.extra.get("messages") or {}).items():
            merged.setdefault(action, {}).update(langs)
    if settings.get("messages"):
        try:
            own = load_with_lines(settings["messages"])[0] or {}
        except YamlProblem:  # stored before it was checked: the shipped templates stand in
            own = {}
        for action, langs in own.items() if isinstance(own, dict) else ():
            if isinstance(langs, dict):
                merged.setdefault(str(action), {}).update(langs)
    return merged


def letters(store: Store, engine: Engine, rows: list[dict[str, Any]], states: dict[str, CounterpartyState],
            ws: WorkspaceInfo, now: int) -> int:
    """Write the messages for these decision rows (in the caller's transaction); returns how many are new.
    `now` is the wall clock, never the engine clock: no event's date decides what is told."""
    # An approval happens when a person acts, however long the proposal waited: it is told now.
    wanted = [r for r in rows if r["status"] in SENT_STATES and r["action"] in COMMUNICATED
              and (r["status"] == "approved" or r["at"] >= now - MAX_AGE_US)]
    if not wanted:
        return 0
    settings = store.settings()
    voices = senders(settings)
    out: list[OutboxRow] = []
    for row in wanted:
        st = states.get(row["counterparty"])
        if st is None:
            continue
        info = st.info or {}
        email = info.get("email")
        to = contacts.recipients(step_to(engine, st, row), email if isinstance(email, str) else None,
                                 contacts.contacts_of(info.get("contacts")))
        url = settings.get("webhook_url")
        page_url = own_page.link(store, settings, st.key, now) if to or url else ""
        if to:
            voice = contacts.sender_for(voices, st.key, row.get("rule"))
            subject, body = letter(engine, st, row, ws, settings, voice)
            body += own_page.link_line(_language(engine, st, row, ws), page_url)
            attachment = "invoice" if row["action"] == "top_up_invoice" else None
            for person in to:
                out.append(OutboxRow(
                    message_id(row["id"], "email", person.email), row["id"], st.key, "email", person.email, subject,
                    body, attachment, "pending", 0, _when(row, now), now,
                    sender=voice.email if voice else None, sender_name=voice.name if voice else None,
                    note=person.note or None))
        if url:  # page_url: the client's own page, for an integrator to send through a channel of its own
            payload = {"type": f"decision.{row['action']}", "timestamp": iso(row["at"]),
                       "data": {**public(row), "counterparty_name": st.name, "page_url": page_url}}
            out.append(OutboxRow(message_id(row["id"], "webhook", url), row["id"], st.key, "webhook", url,
                                 f"decision.{row['action']}", json.dumps(payload, ensure_ascii=False), None,
                                 "pending", 0, _when(row, now), now))
    return store.put_outbox(out)


def senders(settings: dict[str, str]) -> tuple[contacts.Person, ...]:
    """The workspace's senders (none: the messages come from the one default sender)."""
    raw = settings.get("senders")
    if not raw:
        return ()
    try:
        return contacts.senders_of(load_with_lines(raw)[0])
    except YamlProblem:  # stored before it was checked: the default sender stands in
        return ()


def step_to(engine: Engine, st: CounterpartyState, row: dict[str, Any]) -> tuple[str, ...]:
    """The roles the ladder step behind a decision sends its message to (() for the counterparty itself)."""
    if not row.get("step") or not row.get("rule"):
        return ()
    c = engine.table(st, row["at"]).rules.get(row["rule"])
    if c is None or c.ladder is None or not c.ladder.steps:
        return ()
    steps = c.ladder.steps
    return steps[min(int(row["step"]), len(steps)) - 1].to


def _when(row: dict[str, Any], now: int) -> int:
    return max(int(row["at"]), now) if row["status"] == "approved" else int(row["at"])


def _language(engine: Engine, st: CounterpartyState, row: dict[str, Any], ws: WorkspaceInfo) -> str:
    """The language a letter is written in (as `letter` chooses it)."""
    table = engine.table(st, row["at"])
    c = table.rules.get(row["rule"] or "")
    return st.locale or (c.book.locale if c is not None else (table.books[0].locale if table.books else ws.locale))


def letter(engine: Engine, st: CounterpartyState, row: dict[str, Any], ws: WorkspaceInfo,
           settings: dict[str, str], voice: contacts.Person | None = None) -> tuple[str, str]:
    table = engine.table(st, row["at"])
    c = table.rules.get(row["rule"] or "")
    lang = _language(engine, st, row, ws)
    next_step = ""
    if c is not None and c.ladder is not None and row.get("step") and row["action"] in ("feedback", "warning"):
        steps = c.ladder.steps
        following = steps[min(int(row["step"]), len(steps) - 1)].action
        next_step = STEP_NAMES.get(lang, STEP_NAMES["en"]).get(following, following)
    amount = format_money((Decimal(str(row["amount"])), row["currency"]), lang) \
        if row.get("amount") and row.get("currency") else str(row.get("amount") or "")
    sender = settings.get("sender_name") or (table.books[0].title if table.books else "")
    signature = settings.get("signature", sender)
    if voice is not None and voice.name:  # a person of the workspace signs, with the business's name below
        signature = voice.name if not signature or signature == voice.name else f"{voice.name}\n{signature}"
    letter = compose(row["action"], lang, Fields(
        name=st.name, title=c.rule.title if c is not None else "", why=c.rule.why if c is not None else "",
        explanation=explanation(engine, row_to_decision(row), st, ws, lang), amount=amount, next=next_step,
        sender=sender, signature=signature), turn=int(row.get("n") or 0),
        overrides=overrides(engine, st, row["at"], settings))
    return letter.subject, letter.body


def settings(store: Store) -> dict[str, str]:
    """The settings as listed: never the client page's signing secret or its links' generations."""
    with store.read():
        workspace.current(store)
        return {k: v for k, v in store.settings().items() if not own_page.hidden(k)}


def set_setting(store: Store, name: str, value: str | None) -> None:
    """Change one workspace setting (None removes it), checked so a worker never trips over it later."""
    if name not in SETTINGS:
        raise FirmlyError(f"no setting {name!r}; there are: {', '.join(SETTINGS)}")
    if value is not None and name in seller.SETTINGS:
        value = seller.normal(name, value)
        said = seller.problem(name, value)
        if said:
            raise FirmlyError(f"{name} {said}")
    elif value is not None:
        _check(name, value)
    with store.write():
        workspace.current(store)
        store.set_setting(name, value)


def _check(name: str, value: str) -> None:
    if name == "quiet_hours" and value.lower() not in ("off", "none"):
        start, sep, end = value.partition("-")
        try:
            time.fromisoformat(start.strip())
            time.fromisoformat(end.strip())
        except ValueError:
            raise FirmlyError(f"quiet_hours must look like 21:00-09:00 (or off), got {value!r}") from None
        if not sep:
            raise FirmlyError(f"quiet_hours must look like 21:00-09:00 (or off), got {value!r}")
    elif name == "daily_limit" and not (value.isdigit() and int(value) > 0):
        raise FirmlyError(f"daily_limit must be a whole number above 0, got {value!r}")
    elif name == "webhook_secret":
        try:
            key = base64.b64decode(value.removeprefix("whsec_"), validate=True)
        except ValueError:
            key = b""
        if not value.startswith("whsec_") or len(key) < 16:
            raise FirmlyError("webhook_secret must be a whsec_… secret of at least 16 base64 bytes "
                              "(firmly webhook secret makes one)")
    elif name == "webhook_url" and not value.startswith(("http://", "https://")):
        raise FirmlyError(f"webhook_url must be an http(s) URL, got {redact.url(value)!r}")
    elif name == "messages":
        _check_messages(value)
    elif name == "senders":
        _check_senders(value)
    elif name in own_page.SETTINGS:
        own_page.check_setting(name, value)


def _check_senders(value: str) -> None:
    """`senders` as YAML or JSON: [{name, email}, ...], each address once."""
    try:
        loaded = load_with_lines(value)[0]
    except YamlProblem as exc:
        raise InvalidInput([Problem("senders", exc.line, "yaml", exc.message)]) from None
    problem = contacts.senders_problem(loaded)
    if problem is not None:
        raise FirmlyError(problem)


def _check_messages(value: str) -> None:
    """Template overrides, with every problem named by its line and field, as a rulebook's are."""
    try:
        loaded, lines = load_with_lines(value)
    except YamlProblem as exc:
        raise InvalidInput([Problem("messages", exc.line, "yaml", exc.message)]) from None
    if not isinstance(loaded, dict) or not all(
            isinstance(langs, dict) and all(lang in ("ru", "en") and isinstance(parts, dict)
                                            for lang, parts in langs.items()) for langs in loaded.values()):
        raise FirmlyError("messages must map an action to ru/en to {subject, body}")
    problems = []
    for action, langs in loaded.items():
        for lang, parts in langs.items():
            for part, template in parts.items():
                path = (str(action), str(lang), str(part))
                line = lines.get(path, lines.get(path[:2], 1))
                if part not in ("subject", "body") or not isinstance(template, str):
                    problems.append(Problem("messages", line, ".".join(path), "a message has a subject and a body, "
                                                                              "each text"))
                elif (problem := template_problem(template)) is not None:
                    problems.append(Problem("messages", line, ".".join(path), problem))
    if problems:
        raise InvalidInput(problems)


def listed(store: Store, status: str | None) -> list[OutboxRow]:
    with store.read():
        return store.outbox(status)
