"""What firmly writes to a counterparty about a decision: calm, polite and firm.

Each message says what is asked or what happened, why the rule exists, what it means for the
reader, and what happens next. Reminders come in several wordings used in turn, so a rule repeated
every week does not read like a form letter. A rulebook (`messages:`) or a workspace may replace any
template; the fields are the same: {name} {title} {why} {explanation} {amount} {next} {sender} {signature}.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from string import Formatter
from typing import Any

# action -> language -> list of (subject, body) variants; bodies start after the greeting.
TEMPLATES: dict[str, dict[str, list[tuple[str, str]]]] = {
    "reminder": {
        "ru": [
            ("Напоминание: {title}", "Напоминаем заранее, чтобы вам было удобно: {explanation}\n\n{why}"),
            ("Скоро срок: {title}", "Коротко о важном: {explanation} Если планы изменились, сообщите нам, "
             "пожалуйста, заранее — так мы сможем помочь.\n\n{why}"),
            ("Ждём вас: {title}", "Всё в силе? {explanation} Ответьте на это письмо, если нужно что-то "
             "изменить.\n\n{why}"),
        ],
        "en": [
            ("Reminder: {title}", "A friendly reminder ahead of time: {explanation}\n\n{why}"),
            ("Coming up: {title}", "Just so it is on your radar: {explanation} If your plans have changed, "
             "please let us know early, so we can help.\n\n{why}"),
            ("See you soon: {title}", "Is everything still on? {explanation} Reply to this message if you need "
             "to change anything.\n\n{why}"),
        ],
    },
    "feedback": {
        "ru": [("О правиле «{title}»", "{explanation}\n\nЧто это значит для вас: пока ничего — это первый раз, и "
                "мы просто объясняем. {next}")],
        "en": [("About our rule: {title}", "{explanation}\n\nWhat it means for you: nothing yet — this is the "
                "first time, and we only explain. {next}")],
    },
    "warning": {
        "ru": [("Предупреждение: {title}", "{explanation}\n\n{why}")],
        "en": [("A warning: {title}", "{explanation}\n\n{why}")],
    },
    "fee": {
        "ru": [("Штраф по правилу «{title}»", "{explanation}\n\nСумма {amount} списывается с вашего счёта или "
                "добавляется к оплате. {why}")],
        "en": [("A fee under the rule: {title}", "{explanation}\n\nThe amount of {amount} is taken from your "
                "account or added to what you pay. {why}")],
    },
    "surcharge": {
        "ru": [("Доплата по вашему тарифу", "{explanation}\n\nСумма {amount} списывается с вашего счёта.")],
        "en": [("A surcharge under your plan", "{explanation}\n\nThe amount of {amount} is taken from your account.")],
    },
    "require_prepayment": {
        "ru": [("Запись — по предоплате", "{explanation}\n\n{why} По окончании срока всё вернётся как было.")],
        "en": [("Bookings with prepayment", "{explanation}\n\n{why} When the period ends, things return to normal.")],
    },
    "suspend": {
        "ru": [("Обслуживание приостановлено", "{explanation}\n\n{why} Если вы считаете это ошибкой, ответьте "
                "на это письмо — мы разберёмся.")],
        "en": [("Service suspended", "{explanation}\n\n{why} If you believe this is a mistake, reply to this "
                "message and we will look into it.")],
    },
    "terminate": {
        "ru": [("Прекращение сотрудничества", "{explanation}\n\nМы благодарим вас за совместную работу. Все "
                "расчёты будут завершены по договору.")],
        "en": [("Ending our cooperation", "{explanation}\n\nThank you for the work together. All accounts will be "
                "settled as the contract says.")],
    },
    "thanks": {
        "ru": [("Спасибо!", "{explanation} Нам приятно работать с вами."),
               ("Благодарим вас", "{explanation} Это помогает нам работать точно в срок.")],
        "en": [("Thank you!", "{explanation} It is a pleasure to work with you."),
               ("Thanks for this", "{explanation} It helps us keep our own promises.")],
    },
    "earn_back": {
        "ru": [("Спасибо: одно нарушение снято", "{explanation}")],
        "en": [("Thank you: one breach forgiven", "{explanation}")],
    },
    "grace_approved": {
        "ru": [("Льготный период восстановлен", "{explanation}")],
        "en": [("Your grace period is restored", "{explanation}")],
    },
    "grace_denied": {
        "ru": [("Ответ на вашу просьбу", "{explanation}\n\nЕсли вы готовы обсудить вопрос спокойно, мы всегда "
                "открыты к разговору.")],
        "en": [("About your request", "{explanation}\n\nIf you would like to talk it over calmly, we are always "
                "open to that.")],
    },
    "exception_granted": {
        "ru": [("Ваша просьба удовлетворена", "{explanation}")],
        "en": [("Your request is granted", "{explanation}")],
    },
    "exception_denied": {
        "ru": [("Ответ на вашу просьбу", "{explanation}\n\nЕсли вы готовы обсудить вопрос спокойно, мы всегда "
                "открыты к разговору.")],
        "en": [("About your request", "{explanation}\n\nIf you would like to talk it over calmly, we are always "
                "open to that.")],
    },
    "bill": {
        "ru": [("Услуга сверх включённого: {title}", "{explanation}")],
        "en": [("Beyond what is included: {title}", "{explanation}")],
    },
    "top_up_invoice": {
        "ru": [("Счёт на пополнение на {amount}", "{explanation}\n\nСчёт во вложении. Спасибо, что пополняете "
                "счёт заранее — так работа идёт без пауз.")],
        "en": [("Top-up invoice for {amount}", "{explanation}\n\nThe invoice is attached. Thank you for topping up "
                "in advance — it keeps the work going without pauses.")],
    },
    "refused": {
        "ru": [("Услуга не оказана в долг", "{explanation}")],
        "en": [("A service we could not render on credit", "{explanation}")],
    },
}
GREETING = {"ru": "Здравствуйте, {name}!", "en": "Dear {name},"}
WHY = {"ru": "Почему это важно: {why}", "en": "Why it matters: {why}"}
NEXT = {"ru": "Если правило будет нарушено снова, следующий шаг — {next}.",
        "en": "If the rule is broken again, the next step is {next}."}
SIGN_OFF = {"ru": "С уважением,\n{signature}", "en": "Kind regards,\n{signature}"}
COMMUNICATED = frozenset(TEMPLATES)
PLACEHOLDERS = ("name", "title", "why", "explanation", "amount", "next", "sender", "signature")
MAX_TEMPLATE = 10_000  # characters of one subject or body


def template_problem(text: str) -> str | None:
    """Why a subject or body written by a person cannot be filled in, in plain words; None if it can.
    Only the known fields, by name, with nothing after them: `{0}` or `{name.__class__}` would fail or
    reach into the program, and `{amount:>999999999}` would fill a letter with a gigabyte of spaces."""
    if len(text) > MAX_TEMPLATE:
        return f"is {len(text):,} characters long; a template is at most {MAX_TEMPLATE:,}"
    known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
    try:
        parts = list(Formatter().parse(text))
    except ValueError:
        return f"has a {{ or }} that opens or closes no field; write {{{{ and }}}} for the signs themselves " \
               f"(the fields are {known})"
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            return f"uses the field {{{name}}}, which letters do not have; the fields are {known}"
        if spec or conversion:
            return f"writes {{{name}}} with a format after it; write the field alone, like {{{name}}}"
    return None


@dataclass(frozen=True, slots=True)
class Letter:
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class Fields:
    name: str
    title: str
    why: str
    explanation: str
    amount: str = ""
    next: str = ""  # the next step's name, in the reader's language, or ""
    sender: str = ""
    signature: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class _Safe(dict[str, Any]):
    """A template naming a field we do not have leaves it empty rather than failing a send."""

    def __missing__(self, key: str) -> str:
        return ""


def compose(action: str, lang: str, f: Fields, turn: int = 0,
            overrides: dict[str, dict[str, dict[str, str]]] | None = None) -> Letter:
    """The letter for one decision; `turn` picks among the wordings; `overrides` (action -> language ->
    {subject, body}) come from the rulebook or the workspace."""
    lang = lang if lang in GREETING else "en"
    values = _Safe(name=f.name, title=f.title, explanation=f.explanation, amount=f.amount, sender=f.sender,
                   signature=f.signature or f.sender, **f.extra)
    values["why"] = WHY[lang].format(why=f.why) if f.why else ""
    values["next"] = NEXT[lang].format(next=f.next) if f.next else ""
    variants = TEMPLATES.get(action, {}).get(lang) or [("{title}", "{explanation}")]
    subject, body = variants[turn % len(variants)]
    own = ((overrides or {}).get(action) or {}).get(lang)
    if isinstance(own, dict):  # a template stored before it was checked still never fails a send
        subject = _own(own.get("subject", "{title}"), subject)
        body = _own(own.get("body", "{explanation}"), body)
    text = "\n\n".join(part for part in (
        GREETING[lang].format_map(values), body.format_map(values).strip(),
        SIGN_OFF[lang].format_map(values) if values["signature"] else "") if part)
    return Letter(subject.format_map(values).strip(), _tidy(text))


def _own(template: object, default: str) -> str:
    return template if isinstance(template, str) and template_problem(template) is None else default


def _tidy(text: str) -> str:
    """No runs of blank lines where an optional field was empty."""
    lines = [line.rstrip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip() + "\n"
