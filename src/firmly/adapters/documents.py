"""Documents people open: the top-up invoice as HTML and PDF, and any HTML (e.g. the contract appendix) as PDF."""

from __future__ import annotations

import logging
import warnings
from decimal import Decimal
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from num2words import num2words

from firmly.domain.formats import format_date, format_money
from firmly.domain.invoice import Invoice
from firmly.domain.money import fmt, quantize

LOCALES = ("ru", "en")

WORDS: dict[str, dict[str, str]] = {
    "ru": {
        "title": "Счёт на пополнение № {number} от {date}",
        "issuer": "Исполнитель",
        "payer": "Плательщик",
        "bank": "Банковские реквизиты",
        "no": "№",
        "item": "Наименование",
        "sum": "Сумма",
        "line": "Пополнение предоплаченного счёта",
        "total": "Итого к оплате",
        "in_words": "Сумма прописью",
        "why_low": "Баланс {balance} опустился ниже {low_balance}, поэтому мы просим пополнить предоплаченный счёт.",
        "why": "Баланс предоплаченного счёта — {balance}; мы просим его пополнить.",
        "purpose": "Назначение платежа",
        "purpose_text": "Пополнение предоплаченного счёта по счёту № {number}, сумма {amount} {currency}",
        "prices": "Прайс-лист",
        "price": "Цена",
        "special": "особая цена",
        "legal_name": "Наименование",
        "address": "Адрес",
        "inn": "ИНН",
        "kpp": "КПП",
        "vat_id": "Налоговый номер",
        "email": "Эл. почта",
        "phone": "Телефон",
        "seller_address": "Адрес",
        "seller_inn": "ИНН",
        "seller_kpp": "КПП",
        "seller_vat_id": "Налоговый номер",
        "seller_bank": "Банк получателя",
        "seller_bik": "БИК",
        "seller_account": "Расчётный счёт",
        "seller_corr_account": "Корр. счёт",
        "seller_iban": "IBAN",
        "seller_swift": "SWIFT",
    },
    "en": {
        "title": "Top-up invoice No. {number} of {date}",
        "issuer": "From",
        "payer": "Bill to",
        "bank": "Bank details",
        "no": "#",
        "item": "Description",
        "sum": "Amount",
        "line": "Top-up of the prepaid account",
        "total": "Total due",
        "in_words": "Amount in words",
        "why_low": "The balance of {balance} fell below {low_balance}, so we ask you to top up the prepaid account.",
        "why": "The prepaid account's balance is {balance}; we ask you to top it up.",
        "purpose": "Payment reference",
        "purpose_text": "Top-up of the prepaid account, invoice No. {number}, amount {amount} {currency}",
        "prices": "Price list",
        "price": "Price",
        "special": "special price",
        "legal_name": "Legal name",
        "address": "Address",
        "inn": "INN (tax id)",
        "kpp": "KPP",
        "vat_id": "VAT id",
        "email": "Email",
        "phone": "Phone",
        "seller_address": "Address",
        "seller_inn": "INN (tax id)",
        "seller_kpp": "KPP",
        "seller_vat_id": "VAT id",
        "seller_bank": "Beneficiary's bank",
        "seller_bik": "BIK",
        "seller_account": "Account",
        "seller_corr_account": "Correspondent account",
        "seller_iban": "IBAN",
        "seller_swift": "SWIFT/BIC",
    },
}
_SELLER_IDS = ("seller_address", "seller_inn", "seller_kpp", "seller_vat_id")
_SELLER_BANK = ("seller_bank", "seller_bik", "seller_account", "seller_corr_account", "seller_iban", "seller_swift")

# autoescape=True, not select_autoescape: the template's name ends in ".j2", which select_autoescape would not escape.
_ENV = Environment(loader=PackageLoader("firmly", "templates"), autoescape=True, undefined=StrictUndefined,
                   trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def _lang(locale: str) -> str:
    lang = locale.replace("_", "-").split("-", maxsplit=1)[0].lower()  # "ru-RU", "ru_RU" -> "ru"
    return lang if lang in LOCALES else "en"


def in_words(amount: Decimal, currency: str, lang: str) -> str | None:
    """The amount as words agreeing with its currency, as a payer's bank expects on an invoice ("Тридцать тысяч
    рублей, 00 копеек"); None for a currency num2words does not name in that language."""
    try:
        words = str(num2words(quantize(amount), lang=lang, to="currency", currency=currency, cents=False))
    except (NotImplementedError, KeyError):
        return None
    return words[:1].upper() + words[1:]


def _context(inv: Invoice) -> dict[str, Any]:
    lang = _lang(inv.locale)
    w = WORDS[lang]
    cur = inv.currency
    balance = format_money((inv.balance, cur), lang)
    if inv.low_balance is not None:
        why = w["why_low"].format(balance=balance, low_balance=format_money((inv.low_balance, cur), lang))
    else:
        why = w["why"].format(balance=balance)
    day = format_date(inv.issued_at, lang, inv.timezone, "long")
    return {
        "lang": lang,
        "w": w,
        "inv": inv,
        "title": w["title"].format(number=inv.number, date=day),
        "seller_name": inv.seller.get("seller_name", ""),
        "seller_ids": [(w[k], inv.seller[k]) for k in _SELLER_IDS if inv.seller.get(k)],
        "seller_bank": [(w[k], inv.seller[k]) for k in _SELLER_BANK if inv.seller.get(k)],
        "buyer_name": inv.details.get("legal_name") or inv.name,
        "details": [(w.get(key, key), value) for key, value in inv.details.items() if key != "legal_name"],
        "amount": format_money((inv.amount, cur), lang),
        "amount_words": in_words(inv.amount, cur, lang),
        # The canonical string ("30000.00") is printed too, so payers' banks and machines can match it verbatim.
        "purpose": w["purpose_text"].format(number=inv.number, amount=fmt(inv.amount), currency=cur),
        "why": why,
        "prices": [(p.title, format_money((p.price, cur), lang), p.special) for p in inv.prices],
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

