"""Explanations: one calm, polite and firm sentence per decision, in ru or en.

Each names the rule, the step and the events behind it. The structured fields stay on the
decision, so a screen can show the same explanation in its reader's language.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from firmly.domain.clock import from_us
from firmly.domain.durations import describe
from firmly.domain.engine.decision import Decision
from firmly.domain.money import fmt

STEP_NAMES = {
    "ru": {"feedback": "разъяснение", "warning": "предупреждение", "fee": "штраф",
           "require_prepayment": "запись только по предоплате", "suspend": "приостановка обслуживания",
           "terminate": "прекращение сотрудничества"},
    "en": {"feedback": "feedback", "warning": "a warning", "fee": "a fee",
           "require_prepayment": "prepayment required", "suspend": "suspension", "terminate": "termination"},
}

TEMPLATES = {
    "ru": {
        "reminder": "Напоминание по правилу «{title}»: срок — {due}.",
        "feedback": "Правило «{title}» нарушено ({events}). Это первый случай: объясняем, что произошло "
                    "и почему это важно. {why}",
        "warning": "Правило «{title}» нарушено снова ({events}). Предупреждаем: при следующем нарушении — "
                   "{next}.",
        "fee": "Правило «{title}» нарушено {strikes}-й раз за период ({events}). После разъяснения и "
               "предупреждения — штраф {amount}.",
        "require_prepayment": "Правило «{title}» нарушено {strikes}-й раз ({events}). Запись только по "
                              "предоплате{until}.",
        "suspend": "Правило «{title}» нарушено {strikes}-й раз ({events}). Приостановка обслуживания{until}.",
        "terminate": "Правило «{title}» нарушено ({events}). Прекращение сотрудничества.",
        "surcharge": "Тариф «{tier}» допускает исключение из правила «{title}» ({events}): вместо штрафного "
                     "балла — доплата {amount}.",
        "thanks": "Спасибо! Правило «{title}» соблюдено ({events}).",
        "earn_back": "Спасибо! Правило «{title}» соблюдается раз за разом — одно прошлое нарушение ({first}) "
                     "снято, осталось {strikes}.",
        "bill": "Сверх включённого объёма по правилу «{title}» ({used} при {max} включённых): {amount} по "
                "прайсу ({events}).",
        "proposed": " Ждёт решения сотрудника.",
        "approved": " Решение подтверждено сотрудником.",
        "dismissed": " Сотрудник решил не применять этот шаг.",
        "softened": " Сотрудник смягчил этот шаг.",
        "superseded": " Отменено: более раннее событие пришло с опозданием и изменило картину.",
        "late": " Срок истёк, ожидаемое событие не поступило.",
    },
    "en": {
        "reminder": "Reminder for the rule \"{title}\": due {due}.",
        "feedback": "The rule \"{title}\" was broken ({events}). This is the first time: here is what "
                    "happened and why it matters. {why}",
        "warning": "The rule \"{title}\" was broken again ({events}). Please note: the next time means {next}.",
        "fee": "The rule \"{title}\" was broken for the {nth} time in the period ({events}). After "
               "feedback and a warning, a fee of {amount}.",
        "require_prepayment": "The rule \"{title}\" was broken for the {nth} time ({events}). Bookings "
                              "need prepayment{until}.",
        "suspend": "The rule \"{title}\" was broken for the {nth} time ({events}). Service is "
                   "suspended{until}.",
        "terminate": "The rule \"{title}\" was broken ({events}). The relationship ends.",
        "surcharge": "The tier \"{tier}\" allows an exception to the rule \"{title}\" ({events}): instead of "
                     "a strike, a surcharge of {amount}.",
        "thanks": "Thank you! The rule \"{title}\" was kept ({events}).",
        "earn_back": "Thank you! The rule \"{title}\" has been kept again and again, so one earlier breach "
                     "({first}) is forgiven; {strikes} remain.",
        "bill": "Beyond what is included under \"{title}\" ({used} with {max} included): {amount} at the "
                "price list ({events}).",
        "proposed": " Waiting for a person to decide.",
        "approved": " Approved by a person.",
        "dismissed": " A person decided not to apply this step.",
        "softened": " A person softened this step.",
        "superseded": " Withdrawn: an earlier event arrived late and changed the picture.",
        "late": " The deadline passed without the expected event.",
    },
}


def explain(d: Decision, *, title: str, why: str, next_step: str | None, locale: str, timezone: str,
            duration: timedelta | None = None) -> str:
    lang = locale if locale in TEMPLATES else "ru"
    words = TEMPLATES[lang]
    params = d.params or {}
    tz = ZoneInfo(timezone)

    def when(us: int) -> str:
        return from_us(us).astimezone(tz).strftime("%d.%m.%Y %H:%M" if lang == "ru" else "%Y-%m-%d %H:%M")

    amount = f"{fmt(d.amount)} {d.currency}" if isinstance(d.amount, Decimal) else ""
    until = ""
    if duration is not None:
        until = (f" на {describe(duration, 'ru')}" if lang == "ru" else f" for {describe(duration, 'en')}")
    template = words.get(d.action, "{title}")
    text = template.format(
        nth=_ordinal(int(params.get("strikes", 1))), title=title, why=why,
        events=", ".join(d.evidence) or d.event, strikes=params.get("strikes", 1),
        amount=amount, until=until, tier=params.get("tier", ""), used=params.get("used", ""),
        max=params.get("max", ""), first=d.evidence[0] if d.evidence else d.event,
        due=when(int(params["due"])) if "due" in params else "",
        next=STEP_NAMES[lang].get(next_step or "", next_step or STEP_NAMES[lang]["warning"]),
    ).strip()
    if params.get("late"):
        text += words["late"]
    if d.status in ("proposed", "approved", "dismissed", "softened", "superseded"):
        text += words[d.status]
    return text


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
