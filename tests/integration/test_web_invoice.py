"""The top-up invoice from the counterparty's page: the PDF with the business's details, or a page in the
reader's language that names the details still missing."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pypdf
import pytest
from fastapi.testclient import TestClient

from firmly import bootstrap
from firmly.doors.api import create_app
from firmly.service import demo, outbox, users
from tests.conftest import forget_workspace

PASSWORD = "correct horse battery"


@pytest.fixture
def client(database_url: str) -> Iterator[tuple[TestClient, str]]:
    forget_workspace(database_url, "web-invoice")
    store = bootstrap.store(database_url, "web-invoice")
    demo.demo(store, "studio-en", 0)  # the demo gives the studio plausible details of its own
    users.create(store, "invoices@example.org", "viewer", PASSWORD, 0)
    with TestClient(create_app(database_url), base_url="http://testserver") as c:
        token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
        assert token is not None
        c.post("/login", data={"csrf": token.group(1), "email": "invoices@example.org", "password": PASSWORD,
                               "next": "/"}, follow_redirects=False)
        yield c, database_url


def test_the_page_links_the_invoice_and_the_pdf_carries_both_parties(client: tuple[TestClient, str]) -> None:
    c, _ = client
    page = c.get("/counterparties/acme")
    assert page.status_code == 200 and "/counterparties/acme/invoice.pdf" in page.text
    pdf = c.get("/counterparties/acme/invoice.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert re.search(r'filename="invoice-\d{4}-\d{4}\.pdf"', pdf.headers["content-disposition"])
    text = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages).split())
    assert "Demo Services Ltd" in text and "GB82WEST12345698765432" in text and "Acme GmbH" in text
    assert "how we work" not in text  # never the rulebook's title in the seller's place


def test_missing_details_are_named_in_the_readers_language(client: tuple[TestClient, str]) -> None:
    c, url = client
    outbox.set_setting(bootstrap.store(url, "web-invoice"), "seller_iban", None)
    refused = c.get("/counterparties/acme/invoice.pdf")
    assert refused.status_code == 409
    assert "seller_iban" in refused.text and "firmly workspace set" in refused.text
    home = c.get("/")
    token = re.search(r'name="csrf" value="([^"]+)"', home.text)
    assert token is not None
    c.post("/lang", data={"csrf": token.group(1), "lang": "ru", "next": "/"})
    russian = c.get("/counterparties/acme/invoice.pdf")
    assert russian.status_code == 409 and "Счёт нельзя составить" in russian.text and "seller_iban" in russian.text


def test_the_payers_details_come_from_the_counterparty(client: tuple[TestClient, str]) -> None:
    from firmly.domain.events import validate  # noqa: PLC0415
    from firmly.service import ingest, invoices  # noqa: PLC0415

    c, url = client
    store = bootstrap.store(url, "web-invoice")
    told = {"id": "acme-details", "type": "counterparty.upserted", "counterparty": "acme",
            "occurred_at": "2026-03-01T09:00:00+01:00",
            "data": {"legal_name": "Acme GmbH & Co. KG", "address": "Hauptstraße 5, 80331 München",
                     "vat_id": "DE129273398"}}
    wrong = {**told, "id": "acme-bad", "data": {"inn": 7707083893}}
    report = ingest.ingest(store, [("x", 1, validate(told)), ("x", 2, ingest.parsed("x", [wrong])[0][2])])
    assert report.stored == 1 and [r.field for r in report.rejected] == ["data.inn"]
    inv = invoices.invoice(store, "acme")
    assert inv.details["legal_name"] == "Acme GmbH & Co. KG" and inv.details["vat_id"] == "DE129273398"
    text = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(
        io.BytesIO(c.get("/counterparties/acme/invoice.pdf").content)).pages).split())
    assert "Acme GmbH & Co. KG" in text and "Hauptstraße 5, 80331 München" in text and "DE129273398" in text
