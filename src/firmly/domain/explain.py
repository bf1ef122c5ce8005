"""Explanations: one calm, polite and firm sentence per decision, in ru or en.

Each names the rule, the step and the events behind it. The structured fields stay on the
decision, so each reader gets the sentence in their language when they read it (service.policy);
names come from the vocabulary under the rulebook's labels, money and times as the locale writes them.
The sentence is true to the facts: "again" only from the second strike on, the strike's own number
after a person softened the step.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from functools import lru_cache

from firmly.domain.durations import counted, describe
from firmly.domain.engine.decision import Decision
from firmly.domain.formats import format_money, format_time
from firmly.domain.vocabulary import Words

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
        "warning_first": "Правило «{title}» нарушено ({events}). Предупреждаем: при следующем нарушении — "
                         "{next}.",
        "feedback_nth": "Правило «{title}» нарушено {strikes}-й раз за период ({events}). Объясняем, что "
                        "произошло и почему это важно. {why}",
        "fee": "Правило «{title}» нарушено {strikes}-й раз за период ({events}): штраф {amount}.",
        "fee_first": "Правило «{title}» нарушено ({events}): штраф {amount}.",
        "require_prepayment": "Правило «{title}» нарушено {strikes}-й раз ({events}). Запись только по "
                              "предоплате{until}.",
        "suspend": "Правило «{title}» нарушено {strikes}-й раз ({events}). Приостановка обслуживания{until}.",
        "terminate": "Правило «{title}» нарушено ({events}). Прекращение сотрудничества.",
        "surcharge": "Тариф «{tier}» допускает исключение из правила «{title}» ({events}): вместо штрафного "
                     "балла — доплата {amount}.",
        "thanks": "Спасибо! Правило «{title}» соблюдено ({events}).",
        "earn_back": "Спасибо! Правило «{title}» соблюдается раз за разом — одно прошлое нарушение ({first}) "
                     "снято, осталось {remaining}.",
        "bill": "Сверх включённого объёма по правилу «{title}» ({used} при {max} включённых): {amount} по "
                "прайсу ({events}).",
        "refused": "Услуга «{service}» ({events}) на {amount} не оказана в долг: на счёте {balance}, а "
                   "кредитный лимит — {limit}. Пополните, пожалуйста, счёт, и мы продолжим.",
        "top_up_invoice": "Баланс {balance} опустился ниже {low} ({events}). Выставлен счёт на пополнение "
                          "на {amount}, чтобы работа не прерывалась.",
        "grace_approved": "Льготный период восстановлен: платёж опоздал на {late}, просьба вежливая ({events}). "
                          "Нарушение срока снято — спасибо, что написали.",
        "grace_review": "Просьба вернуть льготный период ({events}): {why_review}.",
        "grace_denied": "Просьба вернуть льготный период ({events}) отклонена: в обращении — {quotes}. Льготу мы "
                        "даём в ответ на вежливую просьбу; договор действует как написано.",
        "reinstate": "Сотрудничество возобновлено сотрудником: {reason}.",
        "exempt": "Правило «{title}» нарушено ({breach}), но для вас действует личное исключение до {till}: "
                  "{reason}. Нарушение учтено без штрафного балла и без следующего шага.",
        "exception_granted": "Просьба о снисхождении удовлетворена ({events}): {granted} Спасибо, что написали.",
        "exception_review": "Просьба о снисхождении ({events}) передана сотруднику: {why_request}.",
        "exception_denied": "Просьба о снисхождении ({events}) отклонена: в обращении — {quotes}. Мы идём навстречу "
                            "в ответ на вежливую просьбу; правило действует как написано.",
        "exception_declined": "Просьба о снисхождении ({events}) отклонена: {why_request}. Правило действует как "
                              "написано.",
        "granted_fee": "штраф {waived} отменён, и нарушение ({breach_about}) больше не учитывается.",
        "granted_strike": "нарушение ({breach_about}) больше не учитывается.",
        "granted_booking": "сотрудник согласовал изменение брони.",
        "granted_left": " Сейчас учтено: {remaining}.",
        "booking": "перенос или изменение брони решает только сотрудник",
        "unknown": "не удалось найти решение, о котором просьба",
        "forgiven": "это нарушение уже прощено",
        "first_in": "в этом периоде уже было сделано исключение",
        "kept_streak_at_least": "до нарушения правило было соблюдено подряд {streak} из нужных {need}",
        "amount_at_most": "сумма {fee} больше {most}",
        "backdated": " Исключение назначено позже, {set_at}, и применено с более раннего времени: решения с тех "
                     "пор пересмотрены.",
        "late_unknown": "опоздание не удалось определить", "too_late": "опоздание {late} больше, чем {max_late}",
        "proposed": " Ждёт решения сотрудника.",
        "approved": " Решение подтверждено сотрудником.",
        "dismissed": " Сотрудник решил не применять этот шаг.",
        "softened": " Сотрудник смягчил этот шаг.",
        "softened_from": " Сотрудник смягчил шаг (вместо: {was}).",
        "superseded": " Отменено: более раннее событие пришло с опозданием и изменило картину.",
        "late": " Срок истёк, ожидаемое событие не поступило.",
    },
    "en": {
        "reminder": "Reminder for the rule \"{title}\": due {due}.",
        "feedback": "The rule \"{title}\" was broken ({events}). This is the first time: here is what "
                    "happened and why it matters. {why}",
        "warning": "The rule \"{title}\" was broken again ({events}). Please note: the next time means {next}.",
        "warning_first": "The rule \"{title}\" was broken ({events}). Please note: the next time means {next}.",
        "feedback_nth": "The rule \"{title}\" was broken for the {nth} time in the period ({events}). Here is "
                        "what happened and why it matters. {why}",
        "fee": "The rule \"{title}\" was broken for the {nth} time in the period ({events}): a fee of {amount}.",
        "fee_first": "The rule \"{title}\" was broken ({events}): a fee of {amount}.",
        "require_prepayment": "The rule \"{title}\" was broken for the {nth} time ({events}). Bookings "
                              "need prepayment{until}.",
        "suspend": "The rule \"{title}\" was broken for the {nth} time ({events}). Service is "
                   "suspended{until}.",
        "terminate": "The rule \"{title}\" was broken ({events}). The relationship ends.",
        "surcharge": "The tier \"{tier}\" allows an exception to the rule \"{title}\" ({events}): instead of "
                     "a strike, a surcharge of {amount}.",
        "thanks": "Thank you! The rule \"{title}\" was kept ({events}).",
        "earn_back": "Thank you! The rule \"{title}\" has been kept again and again, so one earlier breach "
                     "({first}) is forgiven; {remaining}.",
        "bill": "Beyond what is included under \"{title}\" ({used} with {max} included): {amount} at the "
                "price list ({events}).",
        "refused": "The service \"{service}\" ({events}) for {amount} was not rendered on credit: the "
                   "balance is {balance} and the credit limit is {limit}. Please top up and we will go on.",
        "top_up_invoice": "The balance of {balance} fell below {low} ({events}). A top-up invoice for "
                          "{amount} is issued so that work goes on uninterrupted.",
        "grace_approved": "The grace period is restored: the payment was {late} late and the request was polite "
                          "({events}). The missed deadline no longer counts — thank you for writing.",
        "grace_review": "The request to restore the grace period ({events}): {why_review}.",
        "grace_denied": "The request to restore the grace period ({events}) is declined: it contains {quotes}. "
                        "We grant leniency in answer to a polite request; the contract applies as written.",
        "reinstate": "A person reinstated the relationship: {reason}.",
        "exempt": "The rule \"{title}\" was broken ({breach}), but a personal exception holds for you until "
                  "{till}: {reason}. The breach is noted with no strike and no next step.",
        "exception_granted": "The request for leniency is granted ({events}): {granted} Thank you for writing.",
        "exception_review": "The request for leniency ({events}) goes to a person: {why_request}.",
        "exception_denied": "The request for leniency ({events}) is declined: it contains {quotes}. We meet people "
                            "halfway in answer to a polite request; the rule applies as written.",
        "exception_declined": "The request for leniency ({events}) is declined: {why_request}. The rule applies as "
                              "written.",
        "granted_fee": "the fee of {waived} is cancelled and the breach ({breach_about}) no longer counts.",
        "granted_strike": "the breach ({breach_about}) no longer counts.",
        "granted_booking": "a person agreed to the change of the booking.",
        "granted_left": " {remaining_cap}.",
        "booking": "a change to a booking is always decided by a person",
        "unknown": "the decision the request is about could not be found",
        "forgiven": "this breach was already forgiven",
        "first_in": "leniency was already granted within the period",
        "kept_streak_at_least": "before the breach the rule had been kept only {streak} of the {need} times in a row "
                                "needed",
        "amount_at_most": "the amount of {fee} is more than {most}",
        "backdated": " The exception was set later, on {set_at}, and applied from an earlier time: the decisions "
                     "since then were reviewed again.",
        "late_unknown": "the lateness could not be established", "too_late": "{late} late is more than {max_late}",
        "proposed": " Waiting for a person to decide.",
        "approved": " Approved by a person.",
        "dismissed": " A person decided not to apply this step.",
        "softened": " A person softened this step.",
        "softened_from": " A person softened the step (instead of {was}).",
        "superseded": " Withdrawn: an earlier event arrived late and changed the picture.",
        "late": " The deadline passed without the expected event.",
    },
}


class _Fields(dict[str, str]):
    """The template's fields, each worked out only if the template names it (format_map asks)."""

    def __init__(self, d: Decision, lang: str, title: str, why: str, next_step: str | None, timezone: str,
                 duration: timedelta | None, words: Words) -> None:
        super().__init__(title=title, why=why)
        self.d, self.lang, self.next_step, self.timezone, self.duration = d, lang, next_step, timezone, duration
        self.words = words

    def money(self, value: object) -> str:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
        currency = self.d.currency or (self.d.params or {}).get("currency")
        return format_money((amount, currency), self.lang) if currency else str(amount)

    def __missing__(self, name: str) -> str:
        d, lang = self.d, self.lang
        params = d.params or {}
        if name == "events":
            return ", ".join(d.evidence) or d.event
        if name == "breach":
            return d.event
        if name == "breach_about":
            return d.evidence[-1] if len(d.evidence) > 1 else "?"
        if name in ("waived", "fee", "most"):
            return self.money(params[name]) if params.get(name) is not None else "?"
        if name in ("streak", "need"):
            return str(params.get(name if name == "streak" else "need_streak", "?"))
        if name == "granted":
            words = TEMPLATES[lang]
            if params.get("ask") == "change_booking":
                return words["granted_booking"].format_map(self)
            text = words["granted_fee" if params.get("waived") else "granted_strike"].format_map(self)
            if params.get("strikes") is not None:
                text += words["granted_left"].format_map(self)
            return text
        if name == "why_request":
            words = TEMPLATES[lang]
            reason = str(params.get("reason") or "unknown")
            if reason == "unmet":
                return "; ".join(words[u].format_map(self) for u in params.get("unmet") or ()) or words["unknown"]
            return words.get(reason, words["unknown"]).format_map(self)
        if name == "first":
            return d.evidence[0] if d.evidence else d.event
        if name in ("balance", "limit", "low"):
            return self.money(params.get(name, "0.00"))
        if name in ("late", "max_late"):
            value = params.get("late_by" if name == "late" else "max_late")
            return describe(timedelta(microseconds=int(value)), lang) if value is not None else "?"
        if name == "quotes":
            return ", ".join(f"«{p}»" if lang == "ru" else f"\"{p}\"" for p in params.get("phrases") or ()) or "—"
        if name == "why_review":
            words = TEMPLATES[lang]
            if params.get("late_by") is None:
                return words["late_unknown"]
            return words["too_late"].format_map(self)
        if name == "reason":
            return str(params.get("reason") or "").rstrip(".")
        if name == "service":
            code = str(params.get("service") or "")
            return self.words.service(code, str(params["title"]) if params.get("title") else None)
        if name == "tier":
            return self.words.tier(str(params.get("tier", "")))
        if name == "strikes":
            return str(_strikes(d))
        if name == "remaining_cap":
            text = self["remaining"]
            return text[:1].upper() + text[1:]
        if name == "remaining":
            n = int(params.get("strikes", 0))
            if lang == "ru":
                return counted(n, ("нарушение", "нарушения", "нарушений"))
            return f"{counted(n, ('breach', 'breaches'))} {'remains' if n == 1 else 'remain'}"
        if name in ("used", "max"):
            return str(params.get(name, ""))
        if name == "nth":
            return _ordinal(_strikes(d))
        if name == "amount":
            return self.money(d.amount) if isinstance(d.amount, Decimal) else ""
        if name == "until":
            if self.duration is None:
                return ""
            return f" на {describe(self.duration, 'ru')}" if lang == "ru" else f" for {describe(self.duration, 'en')}"
        if name in ("till", "set_at"):
            value = params.get(name)
            return _local_time(int(value), self.timezone, lang) if value is not None else "?"
        if name == "due":
            if "due" not in params:
                return ""
            return _local_time(int(params["due"]), self.timezone, lang)
        if name == "next":
            names = STEP_NAMES[lang]
            return names.get(self.next_step or "", self.next_step or names["warning"])
        raise KeyError(name)


def explain(d: Decision, *, title: str, why: str, next_step: str | None, locale: str, timezone: str,
            duration: timedelta | None = None, words: Words | None = None) -> str:
    """The decision's sentence for a reader of `locale`; `words` names tiers and services (the rulebook's
    labels over the vocabulary)."""
    lang = locale if locale in TEMPLATES else "ru"
    templates = TEMPLATES[lang]
    text = _template(d, templates).format_map(
        _Fields(d, lang, title, why, next_step, timezone, duration, words or Words(lang))).strip()
    if d.params and d.params.get("late"):
        text += templates["late"]
    if d.params and d.params.get("set_at") is not None and d.action == "exempt":
        text += templates["backdated"].format_map(_Fields(d, lang, title, why, next_step, timezone, duration,
                                                          words or Words(lang)))
    was = (d.params or {}).get("softened_from")
    if was and d.status == "applied":
        text += templates["softened_from"].format(was=STEP_NAMES[lang].get(str(was), str(was)))
    if d.status in ("proposed", "approved", "dismissed", "softened", "superseded"):
        text += templates[d.status]
    return text


def _template(d: Decision, templates: dict[str, str]) -> str:
    """The action's sentence; a first strike is not "again", and a later one under `feedback` is counted."""
    action = d.action
    if action == "grace_approved" and d.status in ("proposed", "dismissed"):
        action = "grace_review"
    elif action == "exception_granted" and d.status in ("proposed", "dismissed"):
        action = "exception_review"
    elif action == "exception_denied" and (d.params or {}).get("reason") != "hostile":
        action = "exception_declined"
    elif action in ("warning", "fee") and _strikes(d) == 1:
        action += "_first"
    elif action == "feedback" and _strikes(d) > 1:
        action = "feedback_nth"
    return templates.get(action, "{title}")


def _strikes(d: Decision) -> int:
    """The strike this step answers: the engine's count, else (an older or softened decision) its evidence."""
    params = d.params or {}
    if params.get("strikes") is not None:
        return int(params["strikes"])
    return max(1, len(d.evidence))


@lru_cache(maxsize=16_384)
def _local_time(us: int, timezone: str, lang: str) -> str:
    """A deadline as its reader's clock shows it, without seconds. Cached: both reminders of a booking name the
    same deadline, and a reminder's row is written again, with the same words, when it is sent."""
    return format_time(us, timezone, lang)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
