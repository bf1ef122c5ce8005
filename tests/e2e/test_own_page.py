"""The client's own page in Chromium, in Russian and English: opened from the link at the end of a message in
the outbox, the standing read, a fee asked to be waived (the event is stored), and a changed or expired link
met by the plain page and nothing else; axe-core finds no serious or critical violation on any of them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from firmly.domain.ports import Storage
from firmly.doors.web.testing import serve
from firmly.service import own_page, wallclock
from tests.e2e.axe import accessible, chromium
from tests.own_pages import DAY, agency, letters, path_of

playwright_api = pytest.importorskip("playwright.sync_api")
WORDS = {
    "ru": {"standing": "Ваше положение по правилам", "strikes": "Нарушений сейчас", "next": "штраф",
           "ask": "Извините, пожалуйста, я не знал, что звонить нельзя. Прошу отменить штраф.",
           "thanks": "Спасибо: ваша просьба получена", "button": "Отправить просьбу"},
    "en": {"standing": "Your standing under the rules", "strikes": "Strikes now", "next": "Fee",
           "ask": "I am sorry, I did not know calls were not allowed. Could you please waive the fee?",
           "thanks": "Thank you: your request was received", "button": "Send the request"},
}
KEYS = {"ru": ("petrov", "Иван Петров"), "en": ("smith", "John Smith")}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Storage]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('own') / 'own.db'}"
    store = agency(url, "agency")
    with serve(url) as base:
        yield base, store


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from chromium(axe=True)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1000, "height": 900}, locale="en-GB", bypass_csp=True)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_open_from_a_message_read_the_standing_and_ask_to_waive_the_fee(
        site: tuple[str, Storage], page: Any, lang: str) -> None:
    base, store = site
    expect = playwright_api.expect
    key, name = KEYS[lang]
    words = WORDS[lang]
    body = letters(store, key)["fee"]
    link = body.rstrip("\n").splitlines()[-1]  # the message's last line is the link
    page.goto(base + path_of(link))
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("main > h1")).to_have_text(name)
    standing = page.locator("section[aria-labelledby=h-standing]")
    expect(standing).to_contain_text(words["standing"])
    expect(standing).to_contain_text(words["strikes"])
    expect(standing.locator("dd b").first).to_have_text("3")
    accessible(page)

    with store.read():
        fee = next(d for d in store.decisions(counterparty=key) if d["action"] == "fee")
    page.select_option("#about", fee["id"])
    page.select_option("#ask", "waive_fee")
    page.fill("#text", words["ask"])
    page.get_by_role("button", name=words["button"]).click()
    page.wait_for_url(lambda url: "sent=1" in url)
    expect(page.get_by_role("status")).to_contain_text(words["thanks"])
    accessible(page)
    with store.read():
        asked = [e for e in store.events_about([key]) if e.type == "exception.requested"]
    assert [e.data for e in asked] == [{"text": words["ask"], "about": fee["id"], "ask": "waive_fee", "lang": lang}]
    assert asked[0].tone is not None and asked[0].tone.tone != "hostile"


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_an_expired_or_changed_link_gets_the_plain_page(site: tuple[str, Storage], page: Any, lang: str) -> None:
    base, store = site
    key, name = KEYS[lang]
    link = letters(store, key)["warning"].rstrip("\n").splitlines()[-1]
    token = link.rsplit("/", 1)[1]
    changed = link[: -len(token)] + token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with store.write():
        expired = own_page.link(store, store.settings(), key, wallclock.now() - 31 * DAY)
    for target, said in ((changed, ("Ссылка неполная или изменена", "The link is incomplete or has been changed")),
                         (expired, ("Срок действия ссылки истёк", "The link has expired"))):
        answer = page.goto(base + path_of(target))
        assert answer is not None and answer.status == 403
        text = page.locator("body").inner_text()
        assert all(s in text for s in said), text
        assert name not in text and "form" not in page.content().lower().split("<main>")[1]
        assert page.locator("a, form, input").count() == 0  # nothing else to follow or change
        accessible(page)
