"""The client's own page link on the staff's counterparty page, in a real browser (Debian's Chromium, a real
server on SQLite, the UI's Content-Security-Policy on): an operator copies the link, the client opens it,
the operator revokes every link after the confirmation, and the old link opens nothing; axe-core checks the
page and the confirmation, in English and Russian."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from firmly import bootstrap
from firmly.doors.web.testing import demo_database, serve
from firmly.service import outbox, users
from tests.e2e.axe import Site, accessible, chromium, sign_in

playwright_api = pytest.importorskip("playwright.sync_api")
PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    url = f"sqlite:///{tmp_path_factory.mktemp('link') / 'link.db'}"
    demo_database(url)
    store = bootstrap.store(url, "demo")
    users.create(store, "olga@example.org", "operator", PASSWORD, 0)
    with serve(url) as base:
        outbox.set_setting(store, "page_url", base)  # the links lead to this very server
        yield Site(base, url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from chromium(axe=True)


def login(page: Any, site: Site) -> None:
    sign_in(page, site.base, "olga@example.org", PASSWORD)


def test_an_operator_copies_the_link_and_revokes_it(site: Site, browser: Any) -> None:
    expect = playwright_api.expect
    context = browser.new_context(locale="en-GB")  # the Content-Security-Policy stands: the copy button works under it
    context.set_default_timeout(15_000)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.base)
    page = context.new_page()
    login(page, site)
    page.goto(f"{site.base}/counterparties/tom")
    link = page.input_value("#own-page-link")
    assert link.startswith(f"{site.base}/my/demo/")
    page.get_by_role("button", name="Copy").click()
    expect(page.locator("button[data-copy]")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == link

    client = browser.new_context(locale="en-GB").new_page()  # the client: no login
    client.goto(link)
    expect(client.locator("body")).to_contain_text("Tom Baker")

    page.get_by_role("button", name="Revoke every link to this page").click()
    expect(page.locator("h1")).to_have_text("Are you sure?")
    expect(page.locator("main")).to_contain_text("stops working")
    page.get_by_role("link", name="No, keep them working").click()
    client.goto(link)
    expect(client.locator("body")).to_contain_text("Tom Baker")  # going back changed nothing

    page.get_by_role("button", name="Revoke every link to this page").click()
    page.click("#confirm")
    expect(page.get_by_role("status")).to_contain_text("Every earlier link to this page has stopped working.")
    fresh = page.input_value("#own-page-link")
    assert fresh != link
    client.goto(link)
    expect(client.locator("h1").first).to_have_text("This link does not work")
    expect(client.locator("body")).not_to_contain_text("Tom Baker")
    client.goto(fresh)
    expect(client.locator("body")).to_contain_text("Tom Baker")
    client.context.close()
    context.close()


@pytest.mark.parametrize("locale", ["en-GB", "ru-RU"])
def test_the_link_and_the_confirmation_are_accessible(site: Site, browser: Any, locale: str) -> None:
    context = browser.new_context(locale=locale, bypass_csp=True)  # axe is injected as an inline script
    context.set_default_timeout(15_000)
    page = context.new_page()
    login(page, site)
    if locale == "ru-RU":
        page.click("form[action='/lang'] button[value=ru]")
    page.goto(f"{site.base}/counterparties/lucy")
    accessible(page)
    page.locator("#revoke-link").click()
    page.wait_for_selector("#confirm")
    accessible(page)
    assert ("Да, отозвать ссылки" if locale == "ru-RU" else "Yes, revoke the links") in page.inner_text("main")
    context.close()
