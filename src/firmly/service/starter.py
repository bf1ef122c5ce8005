"""A first rulebook from a few answers: the business's kind picks one of the project's examples, and a preset
(flexible, moderate, strict) sets its ladders; the notice, the fee, the currency and the business's name fill
it in. The result is YAML text, checked by the same `parse_rulebook` as any uploaded rulebook."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any

import yaml

from firmly.domain.errors import InvalidInput, Problem

PRESETS = ("flexible", "moderate", "strict")
CURRENCIES = ("RUB", "EUR", "USD", "GBP", "KZT", "UAH")
MAX_NOTICE_HOURS = 24 * 14


@dataclass(frozen=True, slots=True)
class Business:
    key: str
    example: str  # examples/<dir>/<file>
    audience: str  # the kind of counterparty the rulebook governs
    keep: tuple[str, ...] = ()  # the example's rules kept (all when empty)
    extra: tuple[str, ...] = ()  # rules of EXTRA added

    @property
    def asks_notice(self) -> bool:
        return self.key == "clinic"

    @property
    def asks_fee(self) -> bool:
        return self.audience == "client"


BUSINESSES = {b.key: b for b in (
    Business("clinic", "clinic-en/rulebook.yaml", "client"),
    Business("agency", "agency-ru/rulebook.yaml", "client"),
    Business("b2b", "studio-en/rulebook.yaml", "client"),
    Business("bank", "agency-ru/rulebook.yaml", "client", keep=("pay_on_time",), extra=("restore_grace", "courtesy")),
    Business("aggregator", "network-en/rulebook.yaml", "partner"),
    Business("suppliers", "network-en/suppliers.yaml", "supplier"),
)}

# Rules the examples do not have, added for a business that needs them (RULEBOOK.md "Grace", `courtesy`).
EXTRA: dict[str, dict[str, Any]] = {
    "restore_grace": {"kind": "grace", "event": "grace.requested", "max_late": "24h", "polite_only": True,
                      "hostile": "deny"},
    "courtesy": {"kind": "courtesy"},
}

# Each rule's title and reason in both languages: the examples are written in one language each.
TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "late_change": {
        "en": ("Cancel at least {notice} hours before your visit",
               "We keep the time free for you; a late cancellation leaves it empty while others wait."),
        "ru": ("Отменяйте визит не позже чем за {notice} ч.",
               "Мы держим это время для вас; поздняя отмена оставляет его пустым, пока другие ждут записи.")},
    "no_show": {
        "en": ("Tell us if you cannot come", "A missed visit is time another client could have had."),
        "ru": ("Предупредите, если не сможете прийти", "Пропущенный визит — это время, которое мог получить "
                                                        "другой клиент.")},
    "order_cutoff": {
        "en": ("Orders for tomorrow by 14:00 today",
               "In the evening we plan tomorrow's work; an order that comes later moves other clients' deadlines."),
        "ru": ("Заказ на завтра — до 14:00 сегодня",
               "Вечером мы планируем работу на завтра; заказ, пришедший позже, сдвигает чужие сроки.")},
    "pay_on_time": {
        "en": ("Invoices are paid by the date they name", "We buy materials and book time in advance, for you."),
        "ru": ("Счёт оплачивается до срока, указанного в нём", "Материалы и время мы резервируем заранее, "
                                                                "под ваши задачи.")},
    "single_channel": {
        "en": ("Requests go to the shared orders inbox",
               "Then no request is lost, and whoever is free takes it, not whoever happened to be called."),
        "ru": ("Задачи — только через общую почту заказов",
               "Так ни одна задача не теряется и её берёт свободный менеджер, а не тот, кому позвонили.")},
    "one_channel": {
        "en": ("Requests go to the shared inbox",
               "Then no request is lost, and whoever is free takes it, not whoever happened to be called."),
        "ru": ("Запросы — только через общую почту",
               "Так ни один запрос не теряется и его берёт свободный сотрудник, а не тот, кому позвонили.")},
    "revisions": {
        "en": ("Two revisions per order are included, further ones at the price list",
               "Every revision is a designer's work and a new proof."),
        "ru": ("Две правки на заказ — бесплатно, дальше по прайсу", "Каждая правка — это работа дизайнера и "
                                                                     "новая цветопроба.")},
    "design_changes": {
        "en": ("Two changes per project are included, further ones at the price list",
               "Every change is an afternoon of work and a new round of proofs."),
        "ru": ("Две доработки на проект — бесплатно, дальше по прайсу",
               "Каждая доработка — это полдня работы и новый круг согласований.")},
    "booking_handling": {
        "en": ("A client booked through us is seen at the agreed time",
               "The client chose you through us and trusts the booking; turning them away breaks that trust "
               "in both of us."),
        "ru": ("Клиента, записанного через нас, принимают в назначенное время",
               "Клиент выбрал вас через нас и доверяет записи; отказ подрывает доверие к нам обоим.")},
    "service_quality": {
        "en": ("The service is delivered without errors", "Every error costs our staff time and our clients' trust."),
        "ru": ("Услуга оказывается без ошибок", "Каждая ошибка стоит времени наших сотрудников и доверия "
                                                "наших клиентов.")},
    "on_time": {
        "en": ("Deliveries arrive by the agreed date", "A late delivery moves our own promises to our clients."),
        "ru": ("Поставки приходят к согласованной дате", "Опоздавшая поставка сдвигает наши собственные "
                                                         "обещания клиентам.")},
    "restore_grace": {
        "en": ("A late payment keeps its grace period if it is at most a day late and asked for politely",
               "We meet you halfway when a delay is an accident."),
        "ru": ("Льготный период сохраняется, если платёж опоздал не больше чем на сутки и об этом попросили "
               "вежливо", "Мы идём навстречу, когда опоздание — случайность.")},
    "courtesy": {
        "en": ("Polite conversation", "We are polite with you and ask the same for our staff."),
        "ru": ("Уважительное общение", "Мы вежливы с вами и просим того же по отношению к нашим сотрудникам.")},
}

TITLES = {
    "clinic": {"en": "{name} — rules for appointments", "ru": "{name} — правила записи"},
    "agency": {"en": "{name} — how we work with our clients", "ru": "{name} — правила работы с заказчиками"},
    "b2b": {"en": "{name} — terms for our business clients", "ru": "{name} — условия для бизнес-клиентов"},
    "bank": {"en": "{name} — payments and conversations", "ru": "{name} — платежи и общение"},
    "aggregator": {"en": "{name} — terms of cooperation for partners", "ru": "{name} — условия для партнёров"},
    "suppliers": {"en": "{name} — what we expect of our suppliers", "ru": "{name} — что мы ждём от поставщиков"},
}


@dataclass(frozen=True, slots=True)
class Answers:
    business: str
    name: str
    preset: str = "moderate"
    notice_hours: int = 12
    fee: str = "25.00"
    currency: str = "EUR"


def check(answers: Answers) -> list[Problem]:
    """What is wrong with the answers, each at its field (the names of the start page's form)."""
    out: list[Problem] = []

    def bad(field: str, message: str) -> None:
        out.append(Problem("start", None, field, message))

    if answers.business not in BUSINESSES:
        bad("business", "pick one of the kinds of business")
    if not answers.name.strip() or len(answers.name) > 120:
        bad("name", "write the business's name, at most 120 characters")
    if answers.preset not in PRESETS:
        bad("preset", f"must be one of {', '.join(PRESETS)}")
    if not 1 <= answers.notice_hours <= MAX_NOTICE_HOURS:
        bad("notice_hours", f"must be a whole number of hours from 1 to {MAX_NOTICE_HOURS}")
    try:
        fee = Decimal(answers.fee)
    except InvalidOperation:
        fee = Decimal(-1)
    if not fee.is_finite() or fee <= 0 or fee >= 10**9 or fee.as_tuple().exponent < -2:  # type: ignore[operator]
        bad("fee", "must be an amount above zero, like 25 or 25.50")
    if answers.currency not in CURRENCIES:
        bad("currency", f"must be one of {', '.join(CURRENCIES)}")
    return out


def draft(answers: Answers, locale: str, timezone: str) -> str:
    """The rulebook's YAML for the answers, in `locale` (ru or en); InvalidInput when the answers are wrong."""
    problems = check(answers)
    if problems:
        raise InvalidInput(problems)
    business = BUSINESSES[answers.business]
    lang = locale if locale in ("ru", "en") else "en"
    source = yaml.safe_load(resources.files("firmly").joinpath("examples", business.example).read_text("utf-8"))
    rules: dict[str, dict[str, Any]] = {}
    for rule_id, rule in source["rules"].items():
        if not business.keep or rule_id in business.keep:
            rules[rule_id] = dict(rule)
    ladder = next(iter(source["ladders"]))
    for rule_id in business.extra:
        rules[rule_id] = {**copy.deepcopy(EXTRA[rule_id]), **({"ladder": ladder} if rule_id == "courtesy" else {})}
    for rule_id, rule in rules.items():
        title, why = TEXTS[rule_id][lang]
        rule["title"], rule["why"] = title.format(notice=answers.notice_hours), why
        if rule.get("kind") == "notice":
            rule["min_notice"] = f"{answers.notice_hours}h"
            rule.get("remind", {})["at"] = [f"{max(24, 2 * answers.notice_hours)}h", "2h"]
        rules[rule_id] = _titled_first(rule)
    book: dict[str, Any] = {
        "rulebook": answers.business, "version": "1",
        "title": TITLES[business.key][lang].format(name=answers.name.strip()),
        "locale": lang, "currency": answers.currency, "timezone": timezone, "applies_to": [business.audience],
        "ladders": {name: _ladder(answers, business, given) for name, given in source["ladders"].items()},
    }
    for section, value in source.items():
        if section not in book and section != "rules":
            book[section] = value
    book["rules"] = rules
    header = f"# {answers.preset} preset, made on the start page from the {business.example} example\n"
    return header + yaml.safe_dump(book, sort_keys=False, allow_unicode=True, width=100)


def _titled_first(rule: dict[str, Any]) -> dict[str, Any]:
    """A rule as people read it: its title and reason first, then how it works."""
    return {"title": rule.pop("title"), "why": rule.pop("why"), **rule}


def _ladder(answers: Answers, business: Business, given: dict[str, Any]) -> dict[str, Any]:
    """The preset's ladder: warnings always first (RULEBOOK.md), then money, then restrictions a person reviews."""
    fee = {"fee": str(Decimal(answers.fee).quantize(Decimal("0.01")))}
    if business.audience == "client":
        steps: dict[str, tuple[str, int, list[Any]]] = {
            "flexible": ("60d", 2, ["feedback", "warning", fee]),
            "moderate": ("120d", 4, ["feedback", "warning", fee, {"require_prepayment": "60d"}]),
            "strict": ("180d", 6, ["feedback", "warning", fee, {"require_prepayment": "60d"},
                                   {"suspend": "30d", "review": True}, {"terminate": True, "review": True}]),
        }
    else:  # partners and suppliers: no fees; the end of the relationship is always a person's decision
        steps = {
            "flexible": ("180d", 10, ["feedback", "warning"]),
            "moderate": (str(given.get("window", "365d")), int(given.get("earn_back", 10)),
                         ["feedback", "warning", {"terminate": True, "review": True}]),
            "strict": ("365d", 20, ["warning", {"terminate": True, "review": True}]),
        }
    window, earn_back, chosen = steps[answers.preset]
    return {"window": window, "earn_back": earn_back, "steps": chosen}
