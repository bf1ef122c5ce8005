"""The web UI in a real browser: Playwright drives Debian's Chromium against `firmly`'s server (a loopback port,
SQLite) over the demo workspace, as an operator, a viewer and a stranger would use it."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from firmly import bootstrap
from firmly.doors.web.testing import demo_database, serve
from firmly.service import review, users
from tests.e2e.axe import chromium

playwright_api = pytest.importorskip("playwright.sync_api")
CLINIC = Path(__file__).resolve().parents[2] / "src" / "firmly" / "examples" / "clinic-en" / "rulebook.yaml"
PASSWORD = "a long enough password"


@dataclass
class Site:
    base: str
    url: str
    admin: tuple[str, str]

    @property
    def store(self) -> Any:
        return bootstrap.store(self.url, "demo")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'demo.db'}"
    admin = demo_database(url)
    store = bootstrap.store(url, "demo")
    users.create(store, "olga@example.org", "operator", PASSWORD, 0)
    users.create(store, "victor@example.org", "viewer", PASSWORD, 0)
    with serve(url) as base:
        yield Site(base, url, admin)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from chromium(axe=False)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def login(page: Any, site: Site, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{site.base}/")
    page.wait_for_url(re.compile(r"/login"))
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{site.base}/")


def test_an_operators_day(site: Site, page: Any) -> None:
    expect = playwright_api.expect
    login(page, site, "olga@example.org")
    # the dashboard: what waits, what trends
    expect(page.get_by_role("heading", name="Waiting for review")).to_be_visible()
    expect(page.locator("canvas#trend")).to_be_visible()

    # finding a client: the live search narrows the list as one types
    page.click("nav.nav >> text=Counterparties")
    page.fill("#q", "Tom Bak")
    expect(page.locator("#found")).to_have_text(re.compile(r"^1 counterparty"))
    page.click("#results >> text=Tom Baker")
    page.wait_for_url(f"{site.base}/counterparties/tom")

    # reading the timeline: decisions with their explanations, the ladder drawn
    timeline = page.locator("ol.timeline")
    expect(timeline).to_contain_text("Cancel at least 12 hours before your visit")
    expect(timeline.locator("li.decision").first).to_be_visible()
    expect(page.locator("ol.ladder li.reached").first).to_be_visible()

    # approving a proposal with a reason
    proposal = next(r["id"] for r in review.pending(site.store) if r["counterparty"] == "tom")
    page.click("nav.nav >> text=Review")
    card = page.locator(f"#d-{proposal}")
    card.locator("input[name=reason]").fill("Five late cancellations in five weeks.")
    card.locator("button[value=approve]").click()
    expect(page.locator("main")).to_contain_text("Tom Baker: service suspended for 30 days, until")
    page.click("#confirm")
    expect(page.locator(".alert.good")).to_contain_text("1 proposal approved")
    expect(page.locator(f"#d-{proposal}")).to_have_count(0)
    act = next(a for a in review.log(site.store) if a["decision"] == proposal)
    assert (act["act"], act["author"], act["reason"]) == ("approve", "olga@example.org",
                                                          "Five late cancellations in five weeks.")

    # a broken rulebook: the problem is shown at its line
    source = CLINIC.read_text(encoding="utf-8")
    line = next(n for n, text in enumerate(source.splitlines(), start=1) if "min_notice: 12h" in text)
    page.goto(f"{site.base}/rulebooks/upload")
    page.fill("#source", source.replace("min_notice: 12h", "min_notice: twelve hours"))
    page.click("button[value=check]")
    bad = page.locator(f"ol.source li#L{line}")
    expect(bad).to_have_class(re.compile(r"\bbad\b"))
    expect(bad.locator(".problem")).to_contain_text("min_notice")
    expect(page.locator("button[value=load]")).to_have_count(0)  # loading is for admins

    # what-if: a stricter notice period, replayed over the history
    page.goto(f"{site.base}/rulebooks/what-if?start=smile")
    text = page.input_value("#source")
    page.fill("#source", text.replace("min_notice: 12h", "min_notice: 72h"))
    page.click("form[action='/rulebooks/what-if'] button[type=submit]")
    result = page.locator("#result")  # the replay runs as a job in its own process; the page polls it each second
    expect(result).to_contain_text("Under smile@2026-05", timeout=60_000)
    expect(result.locator("tbody tr").first).to_be_visible()
    expect(result).to_contain_text(re.compile(r"\d+ counterpart(y|ies) would be treated differently"))

    # switching language
    page.click("form[action='/lang'] button[value=ru]")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("nav.nav")).to_contain_text("Сводка")
    expect(page.locator("h1")).to_have_text("Что если…")

    # logging out: the session is gone, its cookie worth nothing
    cookie = next(c["value"] for c in page.context.cookies() if c["name"] == "firmly_session")
    page.click("form[action='/logout'] button")
    page.wait_for_url(re.compile(r"/login$"))
    page.goto(f"{site.base}/review")
    page.wait_for_url(re.compile(r"/login\?next=/review"))
    stale = httpx.get(f"{site.base}/", cookies={"firmly_session": cookie}, follow_redirects=False)
    assert stale.status_code == 303


def test_a_forged_form_is_refused(site: Site, page: Any) -> None:
    login(page, site, "olga@example.org")
    proposal = review.pending(site.store)[0]["id"]
    # the browser's own cookies, but no token: what another site's form would send
    refused = page.request.post(f"{site.base}/review/{proposal}",
                                form={"act": "dismiss", "reason": "forged"}, max_redirects=0)
    assert refused.status == 403
    wrong = page.request.post(f"{site.base}/review/{proposal}",
                              form={"act": "dismiss", "reason": "forged", "csrf": "not-the-token"}, max_redirects=0)
    assert wrong.status == 403
    assert review.pending(site.store)[0]["id"] == proposal


def test_a_viewer_cannot_act(site: Site, page: Any) -> None:
    expect = playwright_api.expect
    login(page, site, "victor@example.org")
    page.goto(f"{site.base}/review")
    expect(page.locator("input[name=reason]")).to_have_count(0)
    expect(page.locator("article.proposal").first).to_contain_text("Your role can read the queue")
    proposal = review.pending(site.store)[0]["id"]
    token = page.input_value("form[action='/logout'] input[name=csrf]")
    answer = page.request.post(f"{site.base}/review/{proposal}",
                               form={"act": "approve", "reason": "viewer", "csrf": token}, max_redirects=0)
    assert answer.status == 403
    assert review.pending(site.store)[0]["id"] == proposal
    page.goto(f"{site.base}/rulebooks")
    expect(page.get_by_role("link", name="What if…")).to_have_count(0)


def test_the_public_partner_page(site: Site, page: Any) -> None:
    expect = playwright_api.expect
    page.goto(f"{site.base}/partners/demo/northside")
    expect(page.locator("h1")).to_have_text("Northside Clinic")
    expect(page.locator("body")).to_contain_text("Seen on time, lovely staff.")
    expect(page.locator("body")).not_to_contain_text("not for publication")
    assert page.request.get(f"{site.base}/partners/demo/tom").status == 404  # clients have no public page


def test_pages_render_fast_enough(site: Site) -> None:
    """A smoke check of server time (the measured figures are in BENCHMARKS.md): each page well within 1 s."""
    with httpx.Client(base_url=site.base) as client:
        form = client.get("/login").text
        token = re.search(r'name="csrf" value="([^"]+)"', form)
        assert token is not None
        client.post("/login", data={"csrf": token.group(1), "email": site.admin[0], "password": site.admin[1]})
        for path in ("/", "/counterparties", "/counterparties/acme", "/review", "/reports/cost-to-serve"):
            started = time.perf_counter()
            assert client.get(path).status_code == 200
            assert time.perf_counter() - started < 1.0, path
