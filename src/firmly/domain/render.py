"""The rulebook as people read it: the appendix to a contract, in ru or en, Markdown or HTML.

Every name in it (events, field paths, channels, tiers, services) comes from the vocabulary under the
rulebook's own labels, money and dates as the reader's locale writes them: no key reaches the document."""

from __future__ import annotations

import html
from datetime import timedelta
from decimal import Decimal

from firmly.domain.contacts import goes_to
from firmly.domain.durations import counted, describe
from firmly.domain.formats import format_date, format_money, format_number
from firmly.domain.labels import for_language
from firmly.domain.ladders import Ladder, Step
from firmly.domain.rulebook import Rule, Rulebook
from firmly.domain.scores import TESTS
from firmly.domain.sections import COST_PERIOD, FLAG_RATIO
from firmly.domain.vocabulary import Translator, Words

WORDS = {
    "ru": {
        "appendix": "Приложение к договору", "version": "Редакция", "rules": "Правила", "why": "Зачем",
        "reminders": "Напоминания", "remind": "напомним за {at} {ref}",
        "ladder": "Последствия нарушений", "strike": "{n}-е нарушение", "repeat": "(и каждое следующее)",
        "window": "Нарушение учитывается в течение {window}; {earn} подряд {forgive} одно нарушение.",
        "window_only": "Нарушение учитывается в течение {window}.",
        "review": "только после решения сотрудника", "exempt": "Исключения",
        "tier": "Для тарифа «{tier}» правило «{rule}» не даёт штрафного балла{surcharge}.",
        "surcharge": "; вместо этого доплата {amount}",
        "feedback": "разъяснение — что произошло и чего это стоит вам",
        "warning": "предупреждение о следующем шаге", "fee": "штраф {amount}",
        "require_prepayment": "запись только по предоплате на {duration}",
        "suspend": "приостановка обслуживания на {duration}", "terminate": "прекращение сотрудничества",
        "notice": "Отмена или изменение — не позднее чем за {min_notice} до начала.",
        "forbidden": "Нарушение — {event}.",
        "deadline": "Срок — {due}{grace}.", "grace": " (с отсрочкой {grace})",
        "cutoff": "Заказ — до {cutoff} накануне дня исполнения.",
        "channel": "Запросы принимаются только по этим каналам: {allowed}.",
        "quota": "Включено: {max} {per}{bill}.", "bill": "; сверх этого — по прайсу «{price}»",
        "incident": "Инциденты учитываются по тяжести: {weights}.",
        "courtesy": "Угрозы, оскорбления и брань в обращениях считаются нарушением.",
        "grace_rule": "Просрочка не более чем на {max_late} прощается по вежливой просьбе.",
        "leniency_rule": "Можно попросить отменить штраф или не учитывать нарушение. Вежливую просьбу мы "
                         "удовлетворяем сами, если {conditions}; иначе решает сотрудник. Перенос брони всегда "
                         "решает сотрудник.",
        "leniency_first": "за {first_in} снисхождения ещё не было",
        "leniency_streak": "до нарушения правило соблюдалось не меньше {n} раз подряд",
        "leniency_amount": "штраф не больше {amount}", "leniency_any": "нет особых условий",
        "new": "Правило новое: с {introduced} в течение {thank_for} благодарим за каждое соблюдение.",
        "kept_by": "Правило соблюдено, когда: {kept}.", "per_field": "на {per}", "per_time": "за {per}",
        "prices": "Прайс-лист", "no_ladder": "Нарушения учитываются без штрафных шагов.",
        "account": "Предоплаченный счёт", "account_postpaid": "Счёт и оплата",
        "prepaid": "Услуги оплачиваются заранее: каждая услуга списывается со счёта по прайс-листу{own}.",
        "postpaid": "Услуги списываются со счёта по прайс-листу{own} и оплачиваются по счетам.",
        "own": " (для клиента может действовать особый прайс-лист; новая цена — с момента её установки)",
        "low": "Когда баланс опускается ниже {low}, мы выставляем счёт на пополнение на {top_up} — один, "
               "следующий только после того, как баланс восстановится.",
        "limit": "Услуга, после которой баланс ушёл бы ниже −{limit}, не оказывается в долг: мы предупредим "
                 "и попросим пополнить счёт.",
        "sanctions": "Штрафы и доплаты списываются со счёта; то, что баланс не покрывает, становится долгом "
                     "и погашается первым из следующего платежа.",
        "cost": "Стоимость обслуживания", "cost_text": "Мы сравниваем трудозатраты на клиента с его оплатами "
        "за {period}; если они в {ratio} раза и более выше, чем у большинства клиентов, мы обсудим условия.",
        "karma": "Рейтинг партнёра (карма)",
        "karma_text": "Карма начинается с {start}; каждая чистая запись (пациент принят, инцидентов нет) добавляет "
                      "{clean}; инциденты снижают её: {incidents}.",
        "bonus": "За каждую чистую запись начисляется бонус {bonus}; если по записи позже поступит инцидент, "
                 "бонус за неё снимается.",
        "reviews": "Опубликованные отзывы дают рейтинг со сглаживанием: как будто к ним добавлено {weight} "
                   "отзывов с оценкой {mean}. Неопубликованные отзывы в рейтинг не входят.",
        "scorecard": "Оценка поставщика", "scorecard_text": "Мы оцениваем работу за {window}: {weights}.",
        "drop": "Условие расставания: любой инцидент с признаком {drop}.",
        "replace": "Повод искать замену: {replace}.",
        "limit_zero": "Услуга, на которую не хватает средств на счёте, не оказывается в долг: мы предупредим "
                      "и попросим пополнить счёт.",
        "late_delivery": "просрочка поставки",
    },
    "en": {
        "appendix": "Appendix to the contract", "version": "Version", "rules": "Rules", "why": "Why",
        "reminders": "Reminders", "remind": "we remind you {at} {ref}",
        "ladder": "Consequences of breaches", "strike": "breach no. {n}", "repeat": "(and every one after)",
        "window": "A breach counts for {window}; keeping the rule {earn} in a row forgives one breach.",
        "window_only": "A breach counts for {window}.",
        "review": "only after a person decides", "exempt": "Exceptions",
        "tier": "For the tier \"{tier}\", the rule \"{rule}\" adds no strike{surcharge}.",
        "surcharge": "; a surcharge of {amount} applies instead",
        "feedback": "feedback — what happened and what it costs you", "warning": "a warning about the next step",
        "fee": "a fee of {amount}", "require_prepayment": "bookings need prepayment for {duration}",
        "suspend": "service suspended for {duration}", "terminate": "the relationship ends",
        "notice": "Cancel or change at least {min_notice} before the start.",
        "forbidden": "A breach is: {event}.",
        "deadline": "Due: {due}{grace}.", "grace": " (with {grace} of grace)",
        "cutoff": "Order by {cutoff} on the day before.",
        "channel": "Requests are accepted only through: {allowed}.",
        "quota": "Included: {max} {per}{bill}.", "bill": "; beyond that, at the price of \"{price}\"",
        "incident": "Incidents count by severity: {weights}.",
        "courtesy": "Threats, insults and profanity count as a breach.",
        "grace_rule": "Lateness of up to {max_late} is forgiven on a polite request.",
        "leniency_rule": "You may ask us to waive a fee or not to count a breach. We grant a polite request "
                         "ourselves when {conditions}; otherwise a person decides. A change to a booking is "
                         "always decided by a person.",
        "leniency_first": "no leniency was granted within {first_in}",
        "leniency_streak": "the rule had been kept at least {n} times in a row before the breach",
        "leniency_amount": "the fee is at most {amount}", "leniency_any": "nothing more is asked",
        "new": "This rule is new: from {introduced}, for {thank_for}, we thank you for every time it is kept.",
        "kept_by": "The rule is kept when: {kept}.", "per_field": "per {per}", "per_time": "per {per}",
        "prices": "Price list", "no_ladder": "Breaches are counted without sanctions.",
        "account": "Prepaid account", "account_postpaid": "Account and payment",
        "prepaid": "Services are paid in advance: each one is debited from the account at the price list{own}.",
        "postpaid": "Services are debited from the account at the price list{own} and paid by invoice.",
        "own": " (a client may have a price list of its own; a new price applies from the moment it is set)",
        "low": "When the balance falls below {low}, we send one invoice to top up {top_up}; the next one only "
               "after the balance has recovered.",
        "limit": "A service that would take the balance below −{limit} is not rendered on credit: we let you "
                 "know and ask for a top-up.",
        "sanctions": "Fees and surcharges are debited from the account; what the balance cannot cover is due "
                     "and is settled first from the next payment.",
        "cost": "Cost to serve", "cost_text": "We compare the effort a client takes with what they pay over "
        "{period}; at {ratio} times the usual or more, we will talk about the terms.",
        "karma": "Partner rating (karma)",
        "karma_text": "Karma starts at {start}; each clean booking (the patient was seen, no incident) adds "
                      "{clean}; incidents take it down: {incidents}.",
        "bonus": "Each clean booking earns a bonus of {bonus}; if an incident is reported for that booking "
                 "later, its bonus is taken back.",
        "reviews": "Published reviews give a smoothed rating, as if {weight} reviews of {mean} were added to them. "
                   "Unpublished reviews do not count.",
        "scorecard": "Supplier scorecard", "scorecard_text": "We assess the work over {window}: {weights}.",
        "drop": "Grounds to part at once: any incident with {drop}.",
        "replace": "Grounds to look for a replacement: {replace}.",
        "limit_zero": "A service the balance cannot pay for is not rendered on credit: we let you know and ask "
                      "for a top-up.",
        "late_delivery": "a late delivery",
    },
}


class _Reader:
    """One reader of one rulebook: the language, its words under the rulebook's labels, the currency."""

    def __init__(self, book: Rulebook, lang: str, translator: Translator | None) -> None:
        self.lang, self.currency = lang, book.currency
        self.w = WORDS[lang]
        self.words = Words(lang, translator, for_language(book.labels, lang))

    def dur(self, value: timedelta | None) -> str:
        return describe(value, self.lang) if value is not None else ""

    def money(self, value: object) -> str:
        return format_money((Decimal(str(value)), self.currency), self.lang)

    def number(self, value: object) -> str:
        return format_number(Decimal(str(value)), self.lang, digits=2)

    def sev(self, name: object) -> str:
        return SEVERITY[self.lang].get(str(name)) or self.words.severity(str(name))


def step_words(step: Step, lang: str, currency: str) -> str:
    """A ladder step as a person names it: "bookings need prepayment for 60 days", not "step 4"."""
    lang = lang if lang in WORDS else "en"
    amount = format_money((step.amount, currency), lang) if step.amount is not None else ""
    duration = describe(step.duration, lang) if step.duration is not None else ""
    return WORDS[lang][step.action].format(amount=amount, duration=duration)


def _step_text(step: Step, r: _Reader) -> str:
    text = step_words(step, r.lang, r.currency)
    if step.review:
        text = f"{text} — {r.w['review']}"
    return f"{text}; {goes_to(step.to, r.lang)}" if step.to else text


def _rule_lines(rule: Rule, book: Rulebook, r: _Reader) -> list[str]:
    w, words = r.w, r.words
    lines: list[str] = []
    kind = rule.kind
    if kind == "notice":
        lines.append(w["notice"].format(min_notice=r.dur(rule.min_notice)))
    elif kind == "forbidden":
        lines.append(w["forbidden"].format(event=words.event(rule.event or "")))
    elif kind == "deadline" and rule.cutoff:
        lines.append(w["cutoff"].format(cutoff=rule.cutoff))
    elif kind == "deadline" and rule.due:
        grace = w["grace"].format(grace=r.dur(rule.grace)) if rule.grace else ""
        lines.append(w["deadline"].format(due=words.path(".".join(rule.due)), grace=grace))
    elif kind == "channel":
        lines.append(w["channel"].format(allowed=", ".join(words.channel(a) for a in rule.allowed)))
    elif kind == "quota":
        per = (w["per_time"].format(per=r.dur(rule.per_duration)) if rule.per_duration
               else w["per_field"].format(per=words.field(rule.per or "")))
        bill = w["bill"].format(price=book.prices[rule.bill].title if rule.bill in book.prices
                                else words.service(rule.bill)) if rule.bill else ""
        lines.append(w["quota"].format(max=r.number(rule.max), per=per, bill=bill))
    elif kind == "incident":
        lines.append(w["incident"].format(weights=", ".join(f"{r.sev(k)}: {r.sev(v)}" for k, v in rule.weight.items())))
    elif kind == "courtesy":
        lines.append(w["courtesy"])
    elif kind in ("grace", "exceptions"):
        lines.append(_leniency_line(rule, r))
    if rule.kept_by:
        lines.append(w["kept_by"].format(kept=", ".join(words.event(e) for e in rule.kept_by)))
    if rule.introduced:
        lines.append(w["new"].format(introduced=format_date(rule.introduced, r.lang), thank_for=r.dur(rule.thank_for)))
    return lines


def _leniency_line(rule: Rule, r: _Reader) -> str:
    """What a grace or an `exceptions` rule promises: when a polite request is granted without a person."""
    w = r.w
    if rule.kind == "grace":
        return str(w["grace_rule"].format(max_late=r.dur(rule.max_late)))
    spec = rule.spec
    conditions = []
    if spec.first_in_us is not None:
        first_in = r.dur(timedelta(microseconds=spec.first_in_us))
        conditions.append(w["leniency_first"].format(first_in=first_in))
    if spec.kept_streak_at_least is not None:
        conditions.append(w["leniency_streak"].format(n=spec.kept_streak_at_least))
    if spec.amount_at_most is not None:
        conditions.append(w["leniency_amount"].format(amount=r.money(spec.amount_at_most)))
    last = " и " if r.lang == "ru" else " and "
    joined = last.join([", ".join(conditions[:-1]), conditions[-1]] if len(conditions) > 1 else conditions) \
        or w["leniency_any"]
    return str(w["leniency_rule"].format(conditions=joined))


# "4 соблюдения подряд снимают одно нарушение": the noun and the verb agree with the number
_KEPT = {"ru": ("соблюдение", "соблюдения", "соблюдений"), "en": ("time", "times")}


def _ladder_lines(ladder: Ladder, r: _Reader) -> list[str]:
    w = r.w
    lines = []
    for i, step in enumerate(ladder.steps, 1):
        tail = f" {w['repeat']}" if i == len(ladder.steps) else ""
        lines.append(f"{w['strike'].format(n=i)}: {_step_text(step, r)}{tail}")
    if ladder.earn_back:
        n = ladder.earn_back
        forgive = "снимает" if n % 10 == 1 and n % 100 != 11 else "снимают"
        lines.append(w["window"].format(window=r.dur(ladder.window), earn=counted(n, _KEPT[r.lang]), forgive=forgive))
    else:
        lines.append(w["window_only"].format(window=r.dur(ladder.window)))
    return lines


def render_markdown(book: Rulebook, lang: str | None = None, translator: Translator | None = None) -> str:
    """The appendix in Markdown; `translator` is the reader's catalogue (the vocabulary's names)."""
    lang = lang if lang in WORDS else book.locale
    r = _Reader(book, lang, translator)
    w = r.w
    out = [f"# {book.title}", "", f"*{w['appendix']}. {w['version']} {book.version}.*", ""]
    for n, rule in enumerate(book.rules.values(), 1):
        out += [f"## {n}. {rule.title}", ""]
        if rule.why:
            out += [f"**{w['why']}.** {rule.why}", ""]
        out += [*_rule_lines(rule, book, r), ""]
        if rule.remind:
            ref = r.words.before(f"{rule.remind.entity}.{rule.remind.field}")
            at = (" и за " if r.lang == "ru" else " and ").join(r.dur(a) for a in rule.remind.at)
            out += [f"**{w['reminders']}:** {w['remind'].format(at=at, ref=ref)}.", ""]
        ladder = book.ladders.get(rule.ladder) if rule.ladder else None
        if ladder:
            lines = _ladder_lines(ladder, r)
            out += [f"**{w['ladder']}:**", ""]
            out += [f"{i}. {line}" for i, line in enumerate(lines[:-1], 1)]
            out += ["", lines[-1], ""]
        elif rule.kind not in ("grace", "exceptions"):
            out += [w["no_ladder"], ""]
    exceptions = [w["tier"].format(tier=r.words.tier(tier.name), rule=book.rules[rule_id].title,
                                   surcharge=w["surcharge"].format(amount=r.money(tier.surcharge[rule_id]))
                                   if rule_id in tier.surcharge else "")
                  for tier in book.tiers.values() for rule_id in sorted(tier.exempt) if rule_id in book.rules]
    if exceptions:
        out += [f"## {w['exempt']}", "", *[f"- {e}" for e in exceptions], ""]
    if book.prices:
        out += [f"## {w['prices']}", ""]
        out += [f"- {r.words.service(p.code, p.title)}: {r.money(p.price)}" for p in book.prices.values()]
        out.append("")
    out += _terms_lines(book, r)
    return "\n".join(out)


SEVERITY = {"ru": {"minor": "лёгкий", "major": "серьёзный", "fatal": "критический", "severity": "тяжесть",
                   "category": "категория", "terminate": "расторжение"},
            "en": {"minor": "minor", "major": "major", "fatal": "critical", "terminate": "termination"}}


def _terms_lines(book: Rulebook, r: _Reader) -> list[str]:
    """The account, cost-to-serve, karma and scorecard sections, in the words the engine enforces."""
    w, lang = r.w, r.lang
    sections, out = book.sections, []
    account = sections.account
    if account:
        heading = w["account"] if account.mode == "prepaid" else w["account_postpaid"]
        out += [f"## {heading}", "", w[account.mode].format(own=w["own"])]
        if account.low_balance is not None and account.top_up is not None:
            out.append(w["low"].format(low=r.money(account.low_balance), top_up=r.money(account.top_up)))
        if account.credit_limit is not None:
            zero = account.credit_limit == 0
            out.append(w["limit_zero"] if zero else w["limit"].format(limit=r.money(account.credit_limit)))
        out += [w["sanctions"], ""]
    cost = sections.cost_to_serve
    if cost:
        period = r.dur(cost.period or COST_PERIOD)
        ratio = cost.flag_ratio if cost.flag_ratio is not None else FLAG_RATIO
        out += [f"## {w['cost']}", "", w["cost_text"].format(period=period, ratio=r.number(ratio)), ""]
    karma, reviews = sections.karma, sections.reviews
    if karma or reviews:
        out += [f"## {w['karma']}", ""]
        if karma:
            incidents = ", ".join(f"{r.sev(k)} −{v}" for k, v in karma.incident.items())
            out.append(w["karma_text"].format(start=karma.start, clean=karma.clean_booking,
                                              incidents=incidents or "—"))
            if karma.bonus_per_clean_booking is not None:
                out.append(w["bonus"].format(bonus=r.money(karma.bonus_per_clean_booking)))
        if reviews:
            out.append(w["reviews"].format(weight=r.number(reviews.prior_weight), mean=r.number(reviews.prior_mean)))
        out.append("")
    card = sections.scorecard
    if card:
        window = r.dur(card.window)
        weights = ", ".join(f"{w['late_delivery'] if k == 'late_delivery' else r.sev(k)} — {v}"
                            for k, v in card.weights.items())
        out += [f"## {w['scorecard']}", "", w["scorecard_text"].format(window=window, weights=weights or "—")]
        if card.drop_if:
            out.append(w["drop"].format(drop=", ".join(f"{r.sev(k)} = {r.sev(v)}" for k, v in card.drop_if.items())))
        tests = TESTS[lang]
        joiner = " или " if lang == "ru" else " or "
        replace = joiner.join(tests.get(k, k + " {n}").format(n=v) for k, v in card.replace_if.items())
        if replace:
            out.append(w["replace"].format(replace=replace))
        out.append("")
    return out


def render_html(book: Rulebook, lang: str | None = None, translator: Translator | None = None) -> str:
    """HTML of the same appendix: headings, paragraphs and ordered lists from the Markdown lines."""
    body: list[str] = []
    in_list = False
    for line in render_markdown(book, lang, translator).splitlines():
        item = line.split(". ", 1)
        is_item = len(item) == 2 and item[0].isdigit() and not line.startswith("#")
        if is_item != in_list:
            body.append("<ol>" if is_item else "</ol>")
            in_list = is_item
        text = html.escape(item[1] if is_item else line)
        text = _inline(text)
        if is_item:
            body.append(f"<li>{text}</li>")
        elif line.startswith("## "):
            body.append(f"<h2>{_inline(html.escape(line[3:]))}</h2>")
        elif line.startswith("# "):
            body.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.startswith("- "):
            body.append(f"<p>• {_inline(html.escape(line[2:]))}</p>")
        elif line:
            body.append(f"<p>{text}</p>")
    if in_list:
        body.append("</ol>")
    lang_attr = lang if lang in WORDS else book.locale
    return (f"<!doctype html>\n<html lang=\"{lang_attr}\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(book.title)}</title>{_PRINT_STYLE}</head><body>\n" + "\n".join(body)
            + "\n</body></html>\n")


# The page a business prints or sends as PDF: A4, a font with Cyrillic, the invoice's measure and greys.
_PRINT_STYLE = ("<style>@page { size: A4; margin: 18mm 18mm 20mm; } "
                "html { font-family: \"DejaVu Sans\", sans-serif; font-size: 10pt; color: #1d2430; "
                "line-height: 1.45; } "
                "h1 { font-size: 16pt; margin: 0 0 4mm; } "
                "h2 { font-size: 11.5pt; margin: 7mm 0 2mm; color: #2d3748; } "
                "p, li { margin: 0 0 2mm; } ol { padding-left: 6mm; }</style>")


def _inline(text: str) -> str:
    parts = text.split("**")
    text = "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(parts))
    if text.startswith("*") and text.endswith("*"):
        text = f"<em>{text[1:-1]}</em>"
    return text
