"""The invoice drawn for real: HTML through Jinja2, PDF through WeasyPrint, read back with pypdf."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime
from decimal import Decimal

import pypdf
import pytest

from firmly.adapters.documents import html_to_pdf, invoice_html, invoice_pdf
from firmly.domain.invoice import Invoice, PriceLine

# 22 Nov 22:30 UTC is already 23 Nov in Moscow: the date must follow the invoice's timezone.
ISSUED = int(datetime(2026, 11, 22, 22, 30, tzinfo=UTC).timestamp()) * 1_000_000

SELLER = {"seller_name": "ООО «Студия Ясно»", "seller_address": "125009, г. Москва, ул. Тверская, д. 7",
          "seller_inn": "7707083893", "seller_kpp": "773601001", "seller_bank": "ПАО Сбербанк, г. Москва",
          "seller_bik": "044525225", "seller_account": "40702810938000000001",
          "seller_corr_account": "30101810400000000225"}
INVOICE = Invoice(
    number="2026-0001", issued_at=ISSUED, locale="ru", timezone="Europe/Moscow", seller=SELLER,
    counterparty="megastroy", name="Мегастрой",
    details={"legal_name": "ООО «Мегастрой»", "inn": "7701234567", "email": "buh@megastroy.ru"},
    amount=Decimal("30000.00"), balance=Decimal("4200.50"), low_balance=Decimal("5000"),
    prices=(PriceLine("cleaning", "Уборка офиса", Decimal("12500")),
            PriceLine("late_cancel", "Поздняя отмена", Decimal("1500"), special=True)),
    decision="dec-1",
)


def _pdf_text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split())  # lines wrap and CLDR puts no-break spaces in dates and amounts


@pytest.fixture(scope="module")
def ru_text() -> str:
    return _pdf_text(invoice_pdf(INVOICE))


@pytest.fixture(scope="module")
def en_text() -> str:
    return _pdf_text(invoice_pdf(dataclasses.replace(INVOICE, locale="en")))


def test_russian_pdf_keeps_amount_number_and_cyrillic(ru_text: str) -> None:
    assert "30000.00" in ru_text
    assert "2026-0001" in ru_text
    assert "ООО «Мегастрой»" in ru_text
    assert "Счёт на пополнение № 2026-0001 от 23 ноября 2026 г." in ru_text
    assert "Пополнение предоплаченного счёта" in ru_text
    assert "особая цена" in ru_text
    assert "buh@megastroy.ru" in ru_text


def test_english_pdf(en_text: str) -> None:
    assert "Top-up invoice No. 2026-0001 of November 23, 2026" in en_text
    assert "30000.00" in en_text
    assert "ООО «Мегастрой»" in en_text
    assert "Top-up of the prepaid account" in en_text
    assert "special price" in en_text


def test_html_shows_grouped_and_canonical_amounts_and_why() -> None:
    ru = invoice_html(INVOICE)
    assert ru.startswith("<!doctype html>")
    assert '<html lang="ru">' in ru
    assert "30\u00a0000,00\u00a0₽" in ru  # people read it as their locale writes it
    assert "30000.00 RUB" in ru  # machines find it verbatim
    assert "Баланс 4\u00a0200,50\u00a0₽ опустился ниже 5\u00a0000,00\u00a0₽" in ru
    assert '"DejaVu Sans"' in ru and "size: A4" in ru
    en = invoice_html(dataclasses.replace(INVOICE, locale="en"))
    assert "RUB30,000.00" in en and "30000.00 RUB" in en
    assert "The balance of RUB4,200.50 fell below RUB5,000.00" in en


def test_unknown_locale_falls_back_to_english_and_no_threshold_still_explains() -> None:
    page = invoice_html(dataclasses.replace(INVOICE, locale="de", low_balance=None))
    assert '<html lang="en">' in page
    assert "Top-up invoice No. 2026-0001" in page
    assert "balance is RUB4,200.50" in page


def test_client_text_is_escaped() -> None:
    hostile = dataclasses.replace(INVOICE, name="<script>alert(1)</script>", details={"note": '<img src="x">'},
                                  prices=(PriceLine("x", "A & B", Decimal(1)),))
    page = invoice_html(hostile)
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "A &amp; B" in page


def test_html_to_pdf_renders_cyrillic() -> None:
    html = ('<!doctype html><html lang="ru"><head><meta charset="utf-8"><style>body{font-family:"DejaVu Sans"}'
            "</style></head><body><h1>Приложение к договору</h1><p>Ёжик съел щи.</p></body></html>")
    text = _pdf_text(html_to_pdf(html))
    assert "Приложение к договору" in text
    assert "Ёжик съел щи." in text


def test_seller_and_bank_details_are_printed_in_both_languages(ru_text: str, en_text: str) -> None:
    for text in (ru_text, en_text):
        assert "ООО «Студия Ясно»" in text and "ул. Тверская" in text
        assert "7707083893" in text and "773601001" in text
        assert "044525225" in text and "40702810938000000001" in text and "30101810400000000225" in text
        assert "7701234567" in text and "buh@megastroy.ru" in text
    assert "ИНН" in ru_text and "БИК" in ru_text and "Расчётный счёт" in ru_text and "Корр. счёт" in ru_text
    assert "BANK DETAILS" in en_text and "Correspondent account" in en_text and "INN (tax id)" in en_text


def test_price_list_names_services_in_words_and_prices_as_the_locale_writes_them(ru_text: str) -> None:
    assert "Уборка офиса" in ru_text and "12 500,00 ₽" in ru_text
    page = invoice_html(INVOICE)
    assert "late_cancel" not in page and "cleaning" not in page  # codes are keys, not what a payer reads
    assert "dec-1" not in page and "megastroy<" not in page


def test_iban_and_swift_for_a_payer_abroad() -> None:
    abroad = {"seller_name": "Northwind Studio Ltd", "seller_address": "1 High St, London",
              "seller_bank": "Barclays", "seller_iban": "GB82WEST12345698765432", "seller_swift": "BARCGB22",
              "seller_vat_id": "GB123456789"}
    page = invoice_html(dataclasses.replace(INVOICE, locale="en", seller=abroad, currency="GBP",
                                            amount=Decimal("25")))
    assert "GB82WEST12345698765432" in page and "BARCGB22" in page and "GB123456789" in page
    assert "£25.00" in page and "BIK" not in page


def test_the_amount_is_written_in_words_agreeing_with_its_currency(ru_text: str, en_text: str) -> None:
    assert "СУММА ПРОПИСЬЮ Тридцать тысяч рублей, 00 копеек" in ru_text
    assert "AMOUNT IN WORDS Thirty thousand roubles, 00 kopeks" in en_text
    odd = invoice_html(dataclasses.replace(INVOICE, amount=Decimal("1501.51"), currency="EUR"))
    assert "Одна тысяча пятьсот один евро, 51 цент" in odd
    unnamed = invoice_html(dataclasses.replace(INVOICE, currency="CHF"))  # num2words has no franc in Russian
    assert "Сумма прописью" not in unnamed and "30000.00 CHF" in unnamed
