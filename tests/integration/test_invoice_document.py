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

INVOICE = Invoice(
    number="2026-0001", issued_at=ISSUED, locale="ru", timezone="Europe/Moscow", issuer="Студия «Ясно»",
    counterparty="megastroy", name="ООО «Мегастрой»", details={"email": "buh@megastroy.ru", "inn": "7701234567"},
    amount=Decimal("30000.00"), balance=Decimal("4200.50"), low_balance=Decimal("5000"),
    prices=(PriceLine("cleaning", "Уборка офиса", Decimal("12500")),
            PriceLine("late_cancel", "Поздняя отмена", Decimal("1500"), special=True)),
    decision="dec-1",
)


def _pdf_text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


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
    assert "Счёт на пополнение счёта № 2026-0001" in ru_text
    assert "23.11.2026" in ru_text
    assert "Пополнение предоплаченного счёта" in ru_text
    assert "особая цена" in ru_text
    assert "buh@megastroy.ru" in ru_text


def test_english_pdf(en_text: str) -> None:
    assert "Top-up invoice No. 2026-0001" in en_text
    assert "30000.00" in en_text
    assert "23 Nov 2026" in en_text
    assert "ООО «Мегастрой»" in en_text
    assert "Top-up of the prepaid account" in en_text
    assert "special price" in en_text


def test_html_shows_grouped_and_canonical_amounts_and_why() -> None:
    ru = invoice_html(INVOICE)
    assert ru.startswith("<!doctype html>")
    assert '<html lang="ru">' in ru
    assert "30\u00a0000.00\u00a0RUB" in ru  # people read it grouped
    assert "30000.00 RUB" in ru  # machines find it verbatim
    assert "Баланс 4\u00a0200.50\u00a0RUB опустился ниже 5\u00a0000.00\u00a0RUB" in ru
    assert '"DejaVu Sans"' in ru and "size: A4" in ru
    en = invoice_html(dataclasses.replace(INVOICE, locale="en"))
    assert "30,000.00\u00a0RUB" in en and "30000.00 RUB" in en
    assert "The balance of 4,200.50\u00a0RUB fell below 5,000.00\u00a0RUB" in en


def test_unknown_locale_falls_back_to_english_and_no_threshold_still_explains() -> None:
    page = invoice_html(dataclasses.replace(INVOICE, locale="de", low_balance=None))
    assert '<html lang="en">' in page
    assert "Top-up invoice No. 2026-0001" in page
    assert "balance is 4,200.50\u00a0RUB" in page


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
