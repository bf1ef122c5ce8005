"""The review queue and what-if in Chromium, in English and Russian, at desktop and phone width: soften by
name, dismiss and reopen, approve after a confirmation naming the consequence, bulk with one reason, reinstate;
a raised fee's money difference. One server and one browser for the module; each test has its own workspace
(the clinic example) and operator. axe-core checks the queue (with proposals, dismissed ones, the confirmation),
the agenda (day and week), the outbox, the message previews and a finished what-if."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from firmly import bootstrap
from firmly.domain.ports import OutboxRow
from firmly.doors.web.testing import serve
from firmly.service import demo, ingest, outbox, queries, review, users
from tests.e2e.axe import accessible, chromium
from tests.integration.test_agenda import booking
from tests.integration.test_web_review import SIXTH

playwright_api = pytest.importorskip("playwright.sync_api")
PASSWORD = "a long enough password"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@dataclass
class Desk:
    base: str
    store: Any
    email: str

    def proposal(self, action: str) -> str:
        return str(next(r["id"] for r in review.pending(self.store) if r["action"] == action))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('review') / 'review.db'}"
    with serve(url) as base:
        yield url, base


@pytest.fixture
def desk(server: tuple[str, str], request: pytest.FixtureRequest) -> Desk:
    url, base = server
    full = request.node.name  # parametrized tests share a long prefix: the hash tells their workspaces apart
    name = re.sub(r"[^a-z0-9]+", "-", full.lower()).strip("-")[:30] + "-" + hashlib.sha1(full.encode()).hexdigest()[:8]
    store = bootstrap.store(url, name)
    demo.demo(store, "clinic-en", 0)
    email = f"{name}@example.org"
    users.create(store, email, "operator", PASSWORD, 0)
    return Desk(base, store, email)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from chromium(axe=True)


def open_queue(browser: Any, desk: Desk, viewport: dict[str, int], lang: str) -> Any:
    # axe is injected as an inline script: the pages' Content-Security-Policy would refuse it
    context = browser.new_context(viewport=viewport, locale="en-GB", bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{desk.base}/login")
    page.fill("#email", desk.email)
    page.fill("#password", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{desk.base}/")
    if lang == "ru":
        page.click("form[action='/lang'] button[value=ru]")
        playwright_api.expect(page.locator("html")).to_have_attribute("lang", "ru")
    page.goto(f"{desk.base}/review")
    return page


def checked(page: Any) -> None:
    """Accessible, and every time on the page to the minute: seconds are noise to a reader."""
    accessible(page)
    seconds = re.findall(r"\d:\d\d:\d\d", page.locator("body").inner_text())
    assert seconds == [], f"{page.url}: a time with seconds: {seconds}"


def test_dismiss_reopen_and_soften_by_name_in_english_on_a_desktop(browser: Any, desk: Desk) -> None:
    expect = playwright_api.expect
    page = open_queue(browser, desk, DESKTOP, "en")
    suspend = desk.proposal("suspend")
    card = page.locator(f"#d-{suspend}")
    expect(card.locator("h2")).to_have_text("Tom Baker: service suspended for 30 days")
    checked(page)
    expect(card).to_contain_text("Cancel at least 12 hours before your visit")
    expect(card.get_by_role("link", name="t5-cancel")).to_have_attribute("href", "/counterparties/tom#ev-t5-cancel")

    card.get_by_label("Reason (required)").fill("Their bus broke down.")
    card.locator("button[value=dismiss]").click()
    expect(page.locator(".alert.good")).to_contain_text("1 proposal dismissed")
    dismissed = page.locator(f"#x-{suspend}")
    checked(page)
    dismissed.get_by_label("Reason (required)").fill("It happened again the week after.")
    dismissed.get_by_role("button", name="Reopen").click()
    expect(page.locator(".alert.good")).to_contain_text("Reopened")

    card = page.locator(f"#d-{suspend}")
    card.get_by_label("Soften to").select_option(label="bookings need prepayment for 60 days")
    card.get_by_label("Reason (required)").fill("First time this year.")
    card.get_by_role("button", name="Soften").click()
    expect(page.locator(".alert.good")).to_contain_text("Softened")
    log = page.locator("section[aria-labelledby=h-log] tbody")
    expect(log).to_contain_text("softened to: bookings need prepayment for 60 days")
    expect(log).not_to_contain_text("→")
    assert [r["type"] for r in queries.counterparty(desk.store, "tom")["restrictions"]] == ["require_prepayment"]


def test_approve_after_confirmation_then_reinstate_in_russian_on_a_phone(browser: Any, desk: Desk) -> None:
    expect = playwright_api.expect
    page = open_queue(browser, desk, PHONE, "ru")
    checked(page)
    suspend = desk.proposal("suspend")
    card = page.locator(f"#d-{suspend}")
    card.get_by_label("Причина (обязательно)").fill("Пять поздних отмен за пять недель.")
    card.locator("button[value=approve]").click()
    expect(page.locator("h1")).to_have_text("Точно утвердить?")
    expect(page.locator("ul.consequences")).to_contain_text("Tom Baker: приостановка обслуживания на 30 дней, до")
    checked(page)
    assert review.pending(desk.store)[0]["id"] == suspend, "nothing applies before the confirmation"
    page.click("#confirm")
    expect(page.locator(".alert.good")).to_contain_text("Утверждено 1 предложение")

    ingest.ingest(desk.store, ingest.parsed("sixth", SIXTH))
    terminate = desk.proposal("terminate")
    page.goto(f"{desk.base}/review")
    card = page.locator(f"#d-{terminate}")
    card.get_by_label("Причина (обязательно)").fill("Шестая поздняя отмена.")
    card.locator("button[value=approve]").click()
    expect(page.locator("ul.consequences")).to_contain_text(
        "Сотрудничество с Tom Baker прекращается — пока сотрудник его не возобновит.")
    page.click("#confirm")
    ended = page.locator(f"#r-{terminate}")
    checked(page)
    ended.get_by_label("Причина (обязательно)").fill("Оплатил долг и извинился.")
    ended.get_by_role("button", name="Возобновить сотрудничество").click()
    expect(page.locator(".alert.good")).to_contain_text("Сотрудничество возобновлено")
    assert queries.counterparty(desk.store, "tom")["status"] != "terminated"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "nothing runs off a phone's screen"


@pytest.mark.parametrize(("lang", "viewport", "done"), [("en", PHONE, "1 proposal dismissed"),
                                                        ("ru", DESKTOP, "Отклонено 1 предложение")])
def test_bulk_dismiss_with_one_reason(browser: Any, desk: Desk, lang: str, viewport: dict[str, int],
                                      done: str) -> None:
    expect = playwright_api.expect
    page = open_queue(browser, desk, viewport, lang)
    checked(page)
    suspend = desk.proposal("suspend")
    page.locator(f"#pick-{suspend}").check()
    page.fill("#bulk-reason", "Agreed at the Monday meeting." if lang == "en" else "Решили на планёрке.")
    page.locator("#bulk button[value=dismiss]").click()
    expect(page.locator(".alert.good")).to_contain_text(done)
    assert review.pending(desk.store) == []
    assert review.log(desk.store)[-1]["act"] == "dismiss"


@pytest.mark.parametrize(("lang", "viewport", "heading"), [("en", DESKTOP, "In money, GBP"),
                                                           ("ru", PHONE, "В деньгах, GBP")])
def test_a_what_if_with_a_raised_fee_shows_the_money(browser: Any, desk: Desk, lang: str, viewport: dict[str, int],
                                                     heading: str) -> None:
    expect = playwright_api.expect
    page = open_queue(browser, desk, viewport, lang)
    page.goto(f"{desk.base}/rulebooks/what-if?start=smile")
    page.fill("#source", page.input_value("#source").replace('fee: "25.00"', 'fee: "40.00"'))
    page.click("form[action='/rulebooks/what-if'] button[type=submit]")
    result = page.locator("#result")  # a job in its own process: htmx polls it every second
    expect(result).to_contain_text(heading, timeout=60_000)
    money = result.locator("table.money tbody tr").first
    expect(money).to_contain_text("25")
    expect(money).to_contain_text("40")
    expect(money.locator("td").last).to_contain_text("15")
    expect(result).to_contain_text("Tom Baker")
    checked(page)


@pytest.mark.parametrize(("lang", "viewport", "again", "done"), [
    ("en", PHONE, "Send again", "1 message will be sent again."),
    ("ru", DESKTOP, "Отправить снова", "1 сообщение будет отправлено снова.")])
def test_the_outbox_sends_a_failed_message_again(browser: Any, desk: Desk, lang: str, viewport: dict[str, int],
                                                 again: str, done: str) -> None:
    expect = playwright_api.expect
    with desk.store.write():
        desk.store.put_outbox([OutboxRow("m-1", "d-1", "tom", "email", "tom@example.org", "Reminder", "Dear Tom",
                                         None, "failed", 3, 0, 0, error="550 mailbox unavailable",
                                         workspace=desk.store.workspace)])
    page = open_queue(browser, desk, viewport, lang)
    page.goto(f"{desk.base}/outbox?state=failed")
    row = page.locator("#m-m-1")
    expect(row).to_contain_text("Tom Baker")
    expect(row).to_contain_text("550 mailbox unavailable")
    checked(page)
    row.get_by_role("button", name=again).click()
    expect(page.locator(".alert.good")).to_have_text(done)
    assert outbox.listed(desk.store, "failed") == []
    page.goto(f"{desk.base}/messages")
    expect(page.locator("h1")).to_be_visible()
    checked(page)


@pytest.mark.parametrize(("lang", "viewport", "restricted"), [("en", DESKTOP, "prepayment required until"),
                                                              ("ru", PHONE, "только по предоплате до")])
def test_the_agenda_shows_todays_risks(browser: Any, desk: Desk, lang: str, viewport: dict[str, int],
                                      restricted: str) -> None:
    expect = playwright_api.expect
    ingest.ingest(desk.store, ingest.parsed("today", booking(1, "tom", "2026-06-10T08:00:00+01:00",
                                                              "2026-06-10T15:00:00+01:00")))
    page = open_queue(browser, desk, viewport, lang)
    page.goto(f"{desk.base}/agenda")
    row = page.locator("#agenda tbody tr").first
    expect(row).to_contain_text("Tom Baker")
    expect(row).to_contain_text("appointment ag-1" if lang == "en" else "запись ag-1")
    expect(row).to_contain_text(restricted)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    checked(page)
    page.goto(f"{desk.base}/agenda?span=week")
    expect(page.locator("#agenda tbody tr").first).to_contain_text("Tom Baker")
    checked(page)
