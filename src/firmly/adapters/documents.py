"""Documents people open: the top-up invoice as HTML and PDF, and any HTML (e.g. the contract appendix) as PDF."""

from __future__ import annotations

import logging
import warnings
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined

from firmly.domain.invoice import Invoice
from firmly.domain.money import fmt, quantize

LOCALES = ("ru", "en")
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_NBSP = "\u00a0"  # groups thousands in ru and never breaks "30 000.00 RUB" across lines

WORDS: dict[str, dict[str, str]] = {
    "ru": {
        "title": "Счёт на пополнение счёта № {number}",
        "issued": "Дата выставления",
        "issuer": "Исполнитель",
        "payer": "Плательщик",
        "key": "Код клиента",
        "no": "№",
        "item": "Наименование",
        "sum": "Сумма",
        "line": "Пополнение предоплаченного счёта",
        "total": "Итого к оплате",
        "why_low": "Баланс {balance} опустился ниже {low_balance}, поэтому мы просим пополнить предоплаченный счёт.",
        "why": "Баланс предоплаченного счёта — {balance}; мы просим его пополнить.",
        "purpose": "Назначение платежа",
        "purpose_text": "Пополнение предоплаченного счёта по счёту № {number}, сумма {amount} {currency}",
        "prices": "Прайс-лист",
        "code": "Код",
        "price": "Цена",
        "special": "особая цена",
        "reference": "Основание",
        "email": "эл. почта",
        "phone": "телефон",
        "address": "адрес",
        "inn": "ИНН",
        "kpp": "КПП",
    },
    "en": {
        "title": "Top-up invoice No. {number}",
        "issued": "Issued",
        "issuer": "From",
        "payer": "Bill to",
        "key": "Client code",
        "no": "#",
        "item": "Description",
        "sum": "Amount",
        "line": "Top-up of the prepaid account",
        "total": "Total due",
        "why_low": "The balance of {balance} fell below {low_balance}, so we ask you to top up the prepaid account.",
        "why": "The prepaid account's balance is {balance}; we ask you to top it up.",
        "purpose": "Payment reference",
        "purpose_text": "Top-up of the prepaid account, invoice No. {number}, amount {amount} {currency}",
        "prices": "Price list",
        "code": "Code",
        "price": "Price",
        "special": "special price",
        "reference": "Reference",
        "email": "email",
        "phone": "phone",
        "address": "address",
        "inn": "TIN",
        "kpp": "KPP",
    },
}

# autoescape=True, not select_autoescape: the template's name ends in ".j2", which select_autoescape would not escape.
_ENV = Environment(loader=PackageLoader("firmly", "templates"), autoescape=True, undefined=StrictUndefined,
                   trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def _lang(locale: str) -> str:
    lang = locale.replace("_", "-").split("-", maxsplit=1)[0].lower()  # "ru-RU", "ru_RU" -> "ru"
    return lang if lang in LOCALES else "en"


def money(amount: Decimal, currency: str, lang: str) -> str:
    """An amount as people read it: "30 000.00 RUB" (ru) or "30,000.00 RUB" (en)."""
    grouped = format(quantize(amount), ",.2f")
    if lang == "ru":
        grouped = grouped.replace(",", _NBSP)
    return f"{grouped}{_NBSP}{currency}"


def local_date(micros: int, timezone: str, lang: str) -> str:
    """The calendar day in the invoice's timezone: "23.11.2026" (ru) or "23 Nov 2026" (en)."""
    moment = datetime.fromtimestamp(micros / 1_000_000, tz=UTC).astimezone(ZoneInfo(timezone))
    if lang == "ru":
        return moment.strftime("%d.%m.%Y")
    return f"{moment.day} {_MONTHS_EN[moment.month - 1]} {moment.year}"  # no strftime("%b"): it follows the C locale


def _context(inv: Invoice) -> dict[str, Any]:
    lang = _lang(inv.locale)
    w = WORDS[lang]
    cur = inv.currency
    balance = money(inv.balance, cur, lang)
    if inv.low_balance is not None:
        why = w["why_low"].format(balance=balance, low_balance=money(inv.low_balance, cur, lang))
    else:
        why = w["why"].format(balance=balance)
    return {
        "lang": lang,
        "w": w,
        "inv": inv,
        "title": w["title"].format(number=inv.number),
        "issued": local_date(inv.issued_at, inv.timezone, lang),
        "details": [(w.get(key.lower(), key), value) for key, value in inv.details.items()],
        "amount": money(inv.amount, cur, lang),
        # The canonical string ("30000.00") is printed too, so payers' banks and machines can match it verbatim.
        "purpose": w["purpose_text"].format(number=inv.number, amount=fmt(inv.amount), currency=cur),
        "why": why,
        "prices": [(p.code, p.title, money(p.price, cur, lang), p.special) for p in inv.prices],
    }


def invoice_html(inv: Invoice) -> str:
    """The invoice as a complete, printable HTML page (A4), in the invoice's locale (ru or en, else en)."""
    return _ENV.get_template("invoice.html.j2").render(_context(inv))


def html_to_pdf(html: str) -> bytes:
    """Any self-contained HTML page as PDF bytes (WeasyPrint; only data: URLs are loaded)."""
    with warnings.catch_warnings():
        # Without libharfbuzz-subset WeasyPrint subsets fonts with fontTools and says so on import; both work.
        warnings.filterwarnings("ignore", message="HarfBuzz-Subset", category=DeprecationWarning)
        import weasyprint  # noqa: PLC0415 (takes ~0.7 s to import; most CLI commands never draw a document)

    for name in ("weasyprint", "fontTools"):  # font subsetting and unsupported-CSS chatter would clutter the CLI
        logging.getLogger(name).setLevel(logging.ERROR)
    # data: URLs only: documents carry client-supplied text; rendering must never reach the network or the disk.
    fetcher = weasyprint.urls.URLFetcher(allowed_protocols=("data",))
    pdf: bytes = weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()
    return pdf


def invoice_pdf(inv: Invoice) -> bytes:
    """The invoice as PDF bytes."""
    return html_to_pdf(invoice_html(inv))

