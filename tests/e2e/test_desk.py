"""The operator's desk in a real browser (Debian's Chromium, a real server on SQLite): an empty workspace led
from the start page to a loaded rulebook, each event type recorded by hand, an event file uploaded, a top-up
invoice downloaded, lists sorted, paged and exported; axe-core checks every page it visits, in Russian and
English, at desktop and phone width."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from firmly import bootstrap
from firmly.doors.web.testing import demo_database, serve
from firmly.service import rulebooks, users, workspace
from tests.e2e.axe import Site, accessible, chromium, sign_in

playwright_api = pytest.importorskip("playwright.sync_api")
PASSWORD = "a long enough password"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The demo workspace, and beside it an empty one (`fresh`) in the same database."""
    url = f"sqlite:///{tmp_path_factory.mktemp('desk') / 'desk.db'}"
    demo_database(url)
    users.create(bootstrap.store(url, "demo"), "olga@example.org", "operator", PASSWORD, 0)
    fresh = bootstrap.store(url, "fresh")
    workspace.init(fresh, "ru", "Europe/Moscow", 0)
    users.create(fresh, "owner@example.org", "admin", PASSWORD, 0)
    with serve(url) as base:
        yield Site(base, url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from chromium(axe=True)


def open_page(browser: Any, viewport: dict[str, int], locale: str) -> Any:
    # axe is injected as an inline script: the pages' Content-Security-Policy would refuse it
    context = browser.new_context(viewport=viewport, locale=locale, bypass_csp=True, accept_downloads=True)
    context.set_default_timeout(15_000)
    return context.new_page()


def login(page: Any, site: Site, email: str) -> None:
    sign_in(page, site.base, email, PASSWORD)


def test_an_empty_workspace_is_led_to_its_first_rulebook(site: Site, browser: Any) -> None:
    expect = playwright_api.expect
    page = open_page(browser, PHONE, "ru-RU")
    login(page, site, "owner@example.org")
    expect(page).to_have_url(re.compile(r"/start$"))  # an empty workspace opens on the start page
    expect(page.locator("h1")).to_have_text("Настроим ваши правила")
    accessible(page)
    page.get_by_label("Клиника или салон").check()
    page.get_by_label("Название вашего бизнеса, как его знают клиенты").fill("Улыбка")
    page.get_by_label("Штраф при повторном нарушении").fill("abc")
    page.get_by_role("button", name="Показать мои правила").click()
    expect(page.locator("#fee-error")).to_have_text("Сумма больше нуля, например 25 или 25,50.")
    page.get_by_label("Штраф при повторном нарушении").fill("1500")
    page.get_by_label("Строгие").check()
    page.get_by_role("button", name="Показать мои правила").click()
    expect(page.locator(".appendix")).to_contain_text("Отменяйте визит не позже чем за 12 ч.")
    expect(page.locator(".letter").first).to_contain_text("Улыбка")
    expect(page.get_by_text("1 500,00", exact=False).first).to_be_visible()  # the fee as Russian writes money
    accessible(page)
    page.get_by_role("button", name="Загрузить эти правила").click()
    expect(page).to_have_url(re.compile(r"/start/events\?loaded=clinic"))
    stored = rulebooks.stored(bootstrap.store(site.url, "fresh"))
    assert [(r.id, r.version) for r in stored] == [("clinic", "1")]
    assert "Отменяйте визит не позже чем за 12 ч." in stored[0].source and "fee: '1500.00'" in stored[0].source
    page.get_by_label("Для чего этот токен").fill("CRM")
    page.get_by_role("button", name="Создать токен для отправки событий").click()
    expect(page.locator("#token")).to_have_text(re.compile(r"^fy_[0-9a-f]{12}_\S{20,}$"))
    accessible(page)
    page.goto(f"{site.base}/")  # a rulebook but no event yet: the dashboard says how to begin
    expect(page.get_by_role("heading", name="Здесь пока ничего не произошло")).to_be_visible()
    assert "1969" not in page.content() and "1970" not in page.content()
    accessible(page)
    page.context.close()


EVENTS = {  # type -> the form's fields filled in, by label
    "An incident": {"Severity *": "major", "What happened": "The patient was turned away"},
    "A request": {"Channel": "phone", "Topic": "revision", "Effort, minutes": "15"},
    "Work done": {"Minutes *": "40"},
    "A payment": {"Amount *": "1 200,50"},
    "A message": {"Text *": "Thank you, all is well"},
    "A review": {"Rating *": "4", "Text": "Kind staff"},
    "A counterparty's details": {"Kind": "client", "Name": "Anna Petrova", "Tier": "family",
                                 "Special prices": "consultation = 100.00"},
}


def test_each_event_type_is_recorded_by_hand(site: Site, browser: Any) -> None:
    expect = playwright_api.expect
    page = open_page(browser, DESKTOP, "en-GB")
    login(page, site, "olga@example.org")
    page.goto(f"{site.base}/record")
    accessible(page)
    for title, fields in EVENTS.items():
        page.get_by_role("link", name=title, exact=True).first.click()
        page.get_by_label("Counterparty (key)").fill("anna")
        for label, value in fields.items():
            box = page.get_by_label(label, exact=True)
            if box.evaluate("e => e.tagName") == "SELECT":
                box.select_option(value)
            else:
                box.fill(value)
        page.get_by_role("button", name="Record", exact=True).click()
        expect(page).to_have_url(re.compile(r"recorded=ui-"))
        expect(page.get_by_role("status")).to_contain_text("Recorded.")
    accessible(page)
    page.goto(f"{site.base}/counterparties/anna")
    expect(page.locator("h1")).to_contain_text("Anna Petrova")
    timeline = page.locator(".timeline")
    for kind in ("incident reported", "request received", "work logged", "payment received", "message received",
                 "review received", "details updated"):  # each event by its name, never its type
        expect(timeline).to_contain_text(kind)
    # a wrong amount is refused at its field, and nothing is stored
    page.goto(f"{site.base}/record/payment.received?key=anna")
    page.get_by_label("Amount *").fill("twelve")
    page.get_by_role("button", name="Record", exact=True).click()
    expect(page.locator("#amount-error")).to_have_text("An amount like 1500.00.")
    expect(page.get_by_label("Amount *")).to_have_attribute("aria-invalid", "true")
    accessible(page)
    page.context.close()


def test_an_event_file_is_uploaded_with_a_report_by_line(site: Site, browser: Any, tmp_path: Path) -> None:
    expect = playwright_api.expect
    page = open_page(browser, PHONE, "ru-RU")
    login(page, site, "olga@example.org")
    page.goto(f"{site.base}/events/upload")
    page.click("button[name=lang][value=ru]")  # the demo workspace speaks English; this reader picks Russian
    page.wait_for_url(re.compile(r"/events/upload$"))
    accessible(page)
    events = tmp_path / "day.jsonl"
    events.write_text(
        '{"id": "up-1", "type": "message.received", "counterparty": "anna", '
        '"occurred_at": "2026-05-02T10:00:00+03:00", "data": {"text": "Спасибо"}}\n'
        '{"id": "up-2", "type": "payment.received", "counterparty": "anna", '
        '"occurred_at": "2026-05-02T11:00:00+03:00", "data": {"amount": 12.5}}\n', encoding="utf-8")
    page.get_by_label("Файл событий (.jsonl или .csv)").set_input_files(str(events))
    page.get_by_role("button", name="Загрузить", exact=True).click()
    report = page.locator("#upload-report")
    expect(report).to_contain_text("Сохранено")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("2")  # the line
    expect(rows.first).to_contain_text("data.amount")
    accessible(page)
    page.context.close()


def test_lists_sort_page_export_and_the_invoice_downloads(site: Site, browser: Any) -> None:
    expect = playwright_api.expect
    page = open_page(browser, DESKTOP, "en-GB")
    login(page, site, "olga@example.org")
    page.goto(f"{site.base}/reports/cost-to-serve")
    charts = page.eval_on_selector_all("script[id^=scatter-]", "nodes => nodes.map(n => JSON.parse(n.textContent))")
    assert charts and all(len({p["currency"] for p in c["points"]}) == 1 for c in charts)  # one currency an axis
    expect(page.locator("nav.pager")).to_contain_text("page 1 of")
    assert page.locator("tbody tr").count() == 50
    accessible(page)
    page.get_by_role("link", name="Revenue", exact=True).click()
    expect(page).to_have_url(re.compile(r"sort=revenue"))
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("Revenue")
    page.get_by_role("link", name=re.compile("next")).click()
    expect(page).to_have_url(re.compile(r"sort=revenue.*page=2|page=2.*sort=revenue"))
    expect(page.locator("nav.pager")).to_contain_text("page 2 of")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download CSV")).click()
    text = Path(download.value.path()).read_text("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) > 50  # every row, not one page
    page.goto(f"{site.base}/counterparties?kind=partner")
    page.get_by_role("link", name="Karma", exact=True).click()
    page.get_by_role("link", name=re.compile("Karma ▲")).click()  # again: descending
    expect(page).to_have_url(re.compile(r"kind=partner"))  # the filter is kept
    karma = [int(t) for t in page.locator("tbody tr td:nth-child(6)").all_inner_texts() if t.strip().isdigit()]
    assert karma == sorted(karma, reverse=True) and len(karma) > 1
    accessible(page)
    page.goto(f"{site.base}/counterparties/acme")
    with page.expect_download() as download:
        page.get_by_role("link", name="Top-up invoice (PDF)").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    with page.expect_download() as download:
        page.get_by_role("link", name="Statement (CSV)").click()
    entries = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8-sig"))))
    assert {"kind": "credit", "memo": "payment", "event": "acme-pay-1"}.items() <= entries[0].items()
    assert all(e["currency"] == "EUR" for e in entries) and len(entries) > 3
    for path in ("/", "/counterparties/tom", "/rulebooks", "/rulebooks/smile/2026-05", "/reports/suppliers"):
        page.goto(site.base + path)  # the pages around the desk: badges, buttons and sources readable too
        accessible(page)
    page.goto(f"{site.base}/rulebooks")
    button = page.locator("a.button", has_text="Check or load a rulebook")
    colours = button.evaluate("e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]")
    assert colours[0] != colours[1]  # it was white on white
    page.goto(f"{site.base}/rulebooks/smile")  # no version: a page, not the API's JSON
    expect(page.locator("h1")).to_have_text("Not possible")
    expect(page.get_by_role("alert")).to_have_text("There is no such page.")
    page.context.close()
