"""The outbox page: messages waiting, sent and failed with the reason, in the reader's language; a failed
message sent again (one, or all). On SQLite and PostgreSQL, in process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from firmly import bootstrap
from firmly.domain.clock import parse_instant
from firmly.domain.events import validate
from firmly.domain.ports import OutboxRow
from firmly.service import demo, ingest, outbox, users
from tests.conftest import forget_workspace
from tests.integration.test_web import PASSWORD, Site, csrf


def letter(n: int, status: str, error: str | None = None) -> OutboxRow:
    return OutboxRow(f"m-{n}", f"d-{n}", "tom", "email", "tom@example.org", f"Subject {n}", f"Dear Tom, {n}",
                     None, status, 1, 1_780_000_000_000_000 + n, 1_780_000_000_000_000,
                     sent_at=1_780_000_100_000_000 if status == "sent" else None, error=error, workspace="outbox-it")


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    forget_workspace(database_url, "outbox-it")
    store = bootstrap.store(database_url, "outbox-it")
    demo.demo(store, "clinic-en", 0)
    users.create(store, "outbox-operator@example.org", "operator", PASSWORD, 0)
    with store.write():
        store.put_outbox([letter(1, "pending"), letter(2, "sent"), letter(3, "failed", "550 mailbox unavailable"),
                          letter(4, "failed", "connection refused")])
    yield Site(database_url, "outbox-it")


def test_the_outbox_shows_each_state_and_sends_failed_messages_again(site: Site) -> None:
    with site.client() as c:
        site.login(c, "outbox-operator@example.org")
        page = c.get("/outbox").text
        assert "Tom Baker" in page and "Subject 1" in page and "Subject 2" in page
        assert "550 mailbox unavailable" in page and "Failed (2)" in page and "Waiting (1)" in page
        failed = c.get("/outbox?state=failed").text
        assert "Subject 3" in failed and "Subject 1" not in failed

        token = csrf(page)
        one = c.post("/outbox/retry", data={"csrf": token, "message": "m-3"})
        assert "1 message will be sent again." in one.text
        assert {r.id for r in outbox.listed(site.store, "failed")} == {"m-4"}
        every = c.post("/outbox/retry", data={"csrf": token})
        assert "1 message will be sent again." in every.text
        assert outbox.listed(site.store, "failed") == []
        assert {r.id for r in outbox.listed(site.store, "pending")} == {"m-1", "m-3", "m-4"}

        c.post("/lang", data={"csrf": token, "lang": "ru"})
        assert "Исходящие" in c.get("/outbox").text


def test_a_viewer_reads_the_outbox_but_cannot_retry(site: Site) -> None:
    users.create(site.store, "outbox-viewer@example.org", "viewer", PASSWORD, 0)
    with site.client() as c:
        site.login(c, "outbox-viewer@example.org")
        page = c.get("/outbox").text
        assert "connection refused" in page and "Send again" not in page
        assert c.post("/outbox/retry", data={"csrf": csrf(page)}).status_code == 403
    assert len(outbox.listed(site.store, "failed")) == 2


def test_the_outbox_shows_who_a_message_is_from_and_why_it_went_to_the_own_address(site: Site) -> None:
    voiced = OutboxRow("m-voiced", "d-voiced", "tom", "email", "tom@example.org", "A warning", "Dear Tom",
                       None, "pending", 0, 1_780_000_000_000_009, 1_780_000_000_000_000, workspace="outbox-it",
                       sender="anna@clinic.example", sender_name="Анна Берг", note="management")
    with site.store.write():
        site.store.put_outbox([voiced])
    with site.client() as c:
        site.login(c, "outbox-operator@example.org")
        page = c.get("/outbox").text
        assert "From: Анна Берг &lt;anna@clinic.example&gt;" in page
        assert "no contact for your management: sent to the counterparty&#39;s own address" in page
        c.post("/lang", data={"csrf": csrf(page), "lang": "ru"})
        russian = c.get("/outbox").text
        assert "От: Анна Берг &lt;anna@clinic.example&gt;" in russian
        assert "нет контакта (руководство): отправлено на основной адрес контрагента" in russian
        assert "From:" not in russian


def test_a_counterparty_page_lists_its_contacts_by_role_in_words(site: Site) -> None:
    upsert = {"id": "cp-tom-contacts", "type": "counterparty.upserted", "counterparty": "tom",
              "occurred_at": "2026-05-02T08:00:00+01:00",
              "data": {"contacts": {"management": {"name": "Dr Helen Park", "email": "boss@example.org"},
                                    "head_nurse": {"email": "nurse@example.org"}}}}
    report = ingest.ingest(site.store, [("web", 0, validate(upsert))], now=parse_instant("2026-05-02T09:00:00+01:00"))
    assert not report.rejected
    with site.client() as c:
        site.login(c, "outbox-operator@example.org")
        page = c.get("/counterparties/tom").text
        assert "Your management: Dr Helen Park &lt;boss@example.org&gt;" in page
        assert "Head nurse: &lt;nurse@example.org&gt;" in page
        c.post("/lang", data={"csrf": csrf(page), "lang": "ru"})
        assert "Руководство: Dr Helen Park &lt;boss@example.org&gt;" in c.get("/counterparties/tom").text
