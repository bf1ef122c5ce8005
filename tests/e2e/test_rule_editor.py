"""The rule editor in a real browser (Debian's Chromium, a real server on SQLite, the demo workspace): a rule
edited in forms, a mistake shown at its field, the YAML diff seen, the change saved as a new version and listed
with who loaded it; axe-core checks each page, in Russian and English, at desktop and phone width."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from firmly import bootstrap
from firmly.doors.web.testing import DEMO_PASSWORD, demo_database, serve
from firmly.service import rulebooks
from tests.e2e.axe import accessible, chromium, sign_in

playwright_api = pytest.importorskip("playwright.sync_api")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
NOTICE = {("en", 1280): 36, ("ru", 390): 30, ("en", 390): 20, ("ru", 1280): 18}

WORDS = {
    "en": {"edit": "Edit in forms", "notice": "Minimum notice", "version": "Version",
           "check": "Check and show the change", "save": "Save as a new version", "bad": "must be a duration",
           "loaded": "Loaded: rulebook smile"},
    "ru": {"edit": "Изменить в формах", "notice": "Минимальный срок предупреждения", "version": "Версия",
           "check": "Проверить и показать изменение", "save": "Сохранить как новую версию",
           "bad": "должно быть длительностью", "loaded": "Загружено: свод правил smile"},
}


@dataclass
class Site:
    base: str
    url: str
    email: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    url = f"sqlite:///{tmp_path_factory.mktemp('editor') / 'editor.db'}"
    email, _ = demo_database(url)
    with serve(url) as base:
        yield Site(base, url, email)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from chromium(axe=True)


def _signed_in(site: Site, browser: Any, lang: str, viewport: dict[str, int]) -> tuple[Any, Any]:
    """A page signed in as the demo's owner in `lang`, and the clinic rulebook's latest stored version."""
    latest = [v for v in rulebooks.stored(bootstrap.store(site.url, "demo")) if v.id == "smile"][-1]
    context = browser.new_context(viewport=viewport, locale=f"{lang}-{lang.upper()}", bypass_csp=True)
    context.add_cookies([{"name": "firmly_lang", "value": lang, "url": site.base}])
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, site.base, site.email, DEMO_PASSWORD)
    return page, latest


@pytest.mark.parametrize(("lang", "viewport"), [("en", DESKTOP), ("ru", PHONE), ("en", PHONE), ("ru", DESKTOP)],
                         ids=["en-desktop", "ru-phone", "en-phone", "ru-desktop"])
def test_a_rule_is_edited_in_forms_checked_diffed_and_saved(site: Site, browser: Any, lang: str,
                                                            viewport: dict[str, int]) -> None:
    expect = playwright_api.expect
    words = WORDS[lang]
    page, latest = _signed_in(site, browser, lang, viewport)

    page.goto(f"{site.base}/rulebooks/smile/{latest.version}")
    page.get_by_role("link", name=words["edit"]).click()
    expect(page).to_have_url(re.compile(r"/edit$"))
    accessible(page)
    rule = page.locator("fieldset#rules-late_change")
    notice = rule.get_by_label(words["notice"], exact=True)
    version = page.locator("fieldset#head").get_by_label(words["version"], exact=True)
    notice.fill("a day")  # not a duration: refused at the field
    version.fill(f"e2e-{lang}-{viewport['width']}")
    page.get_by_role("button", name=words["check"]).click()
    expect(page.locator("fieldset#rules-late_change .field-error")).to_contain_text(words["bad"])
    notice = page.locator("fieldset#rules-late_change").get_by_label(words["notice"], exact=True)
    expect(notice).to_have_attribute("aria-invalid", "true")
    accessible(page)

    hours = f"{NOTICE[lang, viewport['width']]}h"  # each run its own, for each edits the version the last saved
    notice.fill(hours)
    page.get_by_role("button", name=words["check"]).click()
    expect(page.locator(".diff .add").filter(has_text=f"min_notice: {hours}")).to_have_count(1)
    expect(page.locator(".diff .del").filter(has_text="min_notice:")).to_have_count(1)
    expect(page.locator("#job, #what-if-waits")).to_have_count(1)  # the what-if, or word that one runs already
    accessible(page)

    page.get_by_role("button", name=words["save"]).click()
    expect(page).to_have_url(re.compile(rf"/rulebooks/smile/e2e-{lang}-{viewport['width']}\?loaded=new$"))
    expect(page.locator(".alert.good")).to_contain_text(words["loaded"])
    saved = [v for v in rulebooks.stored(bootstrap.store(site.url, "demo")) if v.id == "smile"][-1]
    assert saved.loaded_by == site.email
    assert f"min_notice: {hours}" in saved.source
    page.goto(f"{site.base}/rulebooks")
    expect(page.locator("table").filter(has_text=site.email)).to_have_count(1)
    accessible(page)
    page.context.close()


ADD = {
    "en": {"id": "New rule: identifier", "kind": "New rule: kind", "title": "New rule: title",
           "forbidden": "something not to do", "event": "Event watched", "check": "Check and show the change",
           "save": "Save as a new version"},
    "ru": {"id": "Новое правило: идентификатор", "kind": "Новое правило: вид", "title": "Новое правило: название",
           "forbidden": "то, чего делать нельзя", "event": "Отслеживаемое событие",
           "check": "Проверить и показать изменение", "save": "Сохранить как новую версию"},
}


@pytest.mark.parametrize(("lang", "viewport"), [("en", DESKTOP), ("ru", PHONE)], ids=["en-desktop", "ru-phone"])
def test_a_new_rule_is_added_completed_at_its_field_and_saved(site: Site, browser: Any, lang: str,
                                                              viewport: dict[str, int]) -> None:
    expect = playwright_api.expect
    words = ADD[lang]
    page, latest = _signed_in(site, browser, lang, viewport)
    page.goto(f"{site.base}/rulebooks/smile/{latest.version}/edit")
    rule_id = f"no_food_{lang}"
    version = f"added-{lang}"
    page.locator("fieldset#head").get_by_label(WORDS[lang]["version"], exact=True).fill(version)
    page.get_by_label(words["id"], exact=True).fill(rule_id)
    page.get_by_label(words["kind"], exact=True).select_option(label=words["forbidden"])
    page.get_by_label(words["title"], exact=True).fill("No food in the waiting room")
    page.get_by_role("button", name=words["check"]).click()
    section = page.locator(f"fieldset#rules-{rule_id}")
    event = section.get_by_label(words["event"], exact=True)
    expect(event).to_have_attribute("aria-invalid", "true")  # a forbidden rule names what it forbids
    accessible(page)
    event.fill("incident.reported")
    page.get_by_role("button", name=words["save"]).click()
    expect(page).to_have_url(re.compile(rf"/rulebooks/smile/{version}\?loaded=new$"))
    saved = [v for v in rulebooks.stored(bootstrap.store(site.url, "demo")) if v.id == "smile"][-1]
    written = (f"  {rule_id}:\n    title: No food in the waiting room\n    kind: forbidden\n"
               "    event: incident.reported\n")
    assert written in saved.source
    page.context.close()
