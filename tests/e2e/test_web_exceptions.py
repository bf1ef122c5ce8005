"""A personal exception set and ended from the staff's counterparty page, in a real browser (Debian's Chromium, a
real server on SQLite, the UI's Content-Security-Policy on): an operator picks the rule by its title, a time
and a reason, sees a refusal at its field, sets it, sees it listed with their name, then ends it after the
confirmation; axe-core checks the page, the refusal and the confirmation, in English and Russian."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from firmly import bootstrap
from firmly.doors.web.testing import demo_database, serve
from firmly.service import users
from tests.e2e.axe import Site, accessible, chromium, sign_in

playwright_api = pytest.importorskip("playwright.sync_api")
PASSWORD = "a long enough password"

WORDS = {
    "en-GB": {"key": "tom", "refused": "This time has passed", "set": "Set the exception",
              "done": "The exception is set",
              "by": "Set by olga@example.org", "end": "End now", "sure": "End the exception?",
              "ended": "The exception is ended", "early": "Ended early by olga@example.org",
              "holds": "holds now", "ran": "ended early"},
    "ru-RU": {"key": "lucy", "refused": "Это время прошло", "set": "Назначить исключение",
              "done": "Исключение назначено", "by": "Назначил(а) olga@example.org", "end": "Завершить сейчас",
              "sure": "Завершить исключение?", "ended": "Исключение завершено", "early": "Завершено досрочно",
              "holds": "действует", "ran": "завершено досрочно"},
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    url = f"sqlite:///{tmp_path_factory.mktemp('exceptions') / 'exceptions.db'}"
    demo_database(url)
    users.create(bootstrap.store(url, "demo"), "olga@example.org", "operator", PASSWORD, 0)
    with serve(url) as base:
        yield Site(base, url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from chromium(axe=True)


def login(page: Any, site: Site) -> None:
    sign_in(page, site.base, "olga@example.org", PASSWORD)


def local(days: int) -> str:
    return (datetime.now() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize("locale", ["en-GB", "ru-RU"])
def test_an_operator_sets_an_exception_and_ends_it(site: Site, browser: Any, locale: str) -> None:
    expect = playwright_api.expect
    said = WORDS[locale]
    context = browser.new_context(locale=locale, bypass_csp=True)  # axe is injected as an inline script
    context.set_default_timeout(15_000)
    page = context.new_page()
    login(page, site)
    if locale == "ru-RU":
        page.click("form[action='/lang'] button[value=ru]")
    page.goto(f"{site.base}/counterparties/{said['key']}")
    accessible(page)
    rule = page.locator("#ex-rule option").first.inner_text()
    page.select_option("#ex-rule", label=rule)
    page.fill("#ex-until", local(-2))
    page.fill("#ex-reason", "storm / шторм")
    page.click("#set-exception")
    expect(page.locator("#ex-until-error")).to_contain_text(said["refused"])
    expect(page.locator("#ex-reason")).to_have_value("storm / шторм")  # what was typed stays
    accessible(page)

    page.fill("#ex-until", local(20))
    page.get_by_role("button", name=said["set"]).click()
    expect(page.get_by_role("status")).to_contain_text(said["done"])
    listed = page.locator("#exceptions li").first
    expect(listed).to_contain_text(rule)
    expect(listed).to_contain_text("storm / шторм")
    expect(listed).to_contain_text(said["by"])
    expect(listed.locator(".badge")).to_have_text(said["holds"])  # the state in the words the CLI uses too
    accessible(page)

    listed.locator("input[name=reason]").fill("the sea is calm / море спокойно")
    listed.get_by_role("button", name=said["end"]).click()
    expect(page.locator("h1")).to_have_text(said["sure"])
    expect(page.locator("#end-reason")).to_have_value("the sea is calm / море спокойно")
    accessible(page)
    page.click("#confirm")
    expect(page.get_by_role("status")).to_contain_text(said["ended"])
    expect(page.locator("#exceptions li").first).to_contain_text(said["early"])
    expect(page.locator("#exceptions li").first.locator(".badge")).to_have_text(said["ran"])
    expect(page.locator("#exceptions li").first.get_by_role("button", name=said["end"])).to_have_count(0)
    accessible(page)
    context.close()
