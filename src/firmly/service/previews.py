"""A preview of every message a rulebook sends: for each rule, its reminders, thanks and each ladder step, in
each language, as the counterparty would read it — with the workspace's sender, signature and templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from firmly.domain.contacts import goes_to
from firmly.domain.durations import to_us as duration_us
from firmly.domain.engine import Decision
from firmly.domain.explain import STEP_NAMES, explain
from firmly.domain.formats import format_date, format_money
from firmly.domain.ladders import Step
from firmly.domain.messages import COMMUNICATED, Fields, compose
from firmly.domain.ports import Store
from firmly.domain.render import step_words
from firmly.domain.rulebook import Rule, Rulebook
from firmly.service import outbox, wallclock, wording, workspace
from firmly.service.policy import as_rulebook

LANGUAGES = ("en", "ru")
SAMPLE_NAME = {"en": "Anna Smith", "ru": "Анна Петрова"}
# the event a sentence cites, in words: a reader of the preview sees a visit, not a sample event's id
SAMPLE_VISIT = {"en": "your visit on {day}", "ru": "ваш визит {day}"}


@dataclass(frozen=True, slots=True)
class Preview:
    rule: str  # the rule's title
    action: str
    when: str  # the step in words, or "" for a reminder or thanks
    lang: str
    subject: str
    body: str


def rulebook_ids(store: Store) -> list[str]:
    with store.read():
        workspace.current(store)
        return sorted({b.id for b in store.rulebooks()})


def previews(store: Store, rulebook: str) -> list[Preview]:
    """Every message of the latest version of `rulebook`; an unknown id gives none."""
    with store.read():
        workspace.current(store)
        versions = [b for b in store.rulebooks() if b.id == rulebook]
    settings = outbox.settings(store)
    if not versions:
        return []
    book = as_rulebook(versions[-1])
    overrides = outbox.merged_overrides([book], settings)
    sender = settings.get("sender_name") or book.title
    out: list[Preview] = []
    for rule in book.rules.values():
        for action, step, number in _messages(book, rule):
            for lang in LANGUAGES:
                out.append(_preview(book, rule, action, step, number, lang, sender,
                                    settings.get("signature", sender), overrides))
    return out


def _messages(book: Rulebook, rule: Rule) -> list[tuple[str, Step | None, int | None]]:
    found: list[tuple[str, Step | None, int | None]] = []
    if rule.remind is not None:
        found.append(("reminder", None, None))
    ladder = book.ladders.get(rule.ladder or "")
    for number, step in enumerate(ladder.steps if ladder else (), 1):
        if step.action in COMMUNICATED:
            found.append((step.action, step, number))
    found.append(("thanks", None, None))
    return found


def _preview(book: Rulebook, rule: Rule, action: str, step: Step | None, number: int | None, lang: str,
             sender: str, signature: str, overrides: dict[str, dict[str, dict[str, str]]]) -> Preview:
    now = wallclock.now()
    params: dict[str, object] = {"strikes": number or 1}
    if action == "reminder":
        params = {"due": now + duration_us(timedelta(days=1))}
    yesterday = now - duration_us(timedelta(days=1))
    visit = SAMPLE_VISIT[lang].format(day=format_date(yesterday, lang, book.timezone, "long"))
    d = Decision("d-preview", "preview", rule.id, now, action, "applied", visit, (visit,), 1,
                 amount=step.amount if step else None, currency=book.currency if step and step.amount else None,
                 step=number, params=params)
    ladder = book.ladders.get(rule.ladder or "")
    following = ladder.steps[min(number, len(ladder.steps) - 1)].action if ladder and number else None
    explanation = explain(d, title=rule.title, why=rule.why, next_step=following, locale=lang,
                          timezone=book.timezone, duration=step.duration if step else None,
                          words=wording.words(lang, [book]))
    next_words = STEP_NAMES[lang].get(following or "", following or "") if action in ("feedback", "warning") else ""
    amount = format_money((step.amount, book.currency), lang) if step and step.amount is not None else ""
    letter = compose(action, lang, Fields(name=SAMPLE_NAME[lang], title=rule.title, why=rule.why,
                                          explanation=explanation, amount=amount, next=next_words, sender=sender,
                                          signature=signature), overrides=overrides)
    when = step_words(step, lang, book.currency) if step else ""
    if step is not None and step.to:
        when = f"{when}; {goes_to(step.to, lang)}"
    return Preview(rule.title, action, when, lang, letter.subject, letter.body)
