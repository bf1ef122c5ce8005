"""The web UI in process (ASGI client): sessions, CSRF, roles, languages, every page answering.

Runs on SQLite and PostgreSQL with the clinic example; the browser tests (tests/e2e/test_web.py) drive the
same pages in Chromium over the demo workspace."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from firmly import bootstrap
from firmly.domain.errors import FirmlyError
from firmly.doors.api import create_app
from firmly.doors.web import i18n
from firmly.service import demo, review, users
from tests.conftest import forget_workspace

PASSWORD = "correct horse battery"
LOCALE = Path(__file__).resolve().parents[2] / "src" / "firmly" / "doors" / "web" / "locale"


class Site:
    def __init__(self, url: str, workspace: str) -> None:
        self.url, self.workspace = url, workspace
        self.store = bootstrap.store(url, workspace)

    def client(self) -> TestClient:
        return TestClient(create_app(self.url), base_url="http://testserver")

    def login(self, client: TestClient, email: str, password: str = PASSWORD) -> None:
        token = csrf(client.get("/login").text)
        answer = client.post("/login", data={"csrf": token, "email": email, "password": password, "next": "/"},
                             follow_redirects=False)
        assert answer.status_code == 303, answer.text


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


def demo_site(database_url: str, ws: str, prefix: str = "") -> Iterator[Site]:
    """The clinic-en example in workspace `ws`, anew, with an admin, an operator and a viewer
    (`{prefix}{role}@example.org`); the login throttle's counts, which outlive a workspace on a shared database,
    are cleared afterwards."""
    forget_workspace(database_url, ws)  # another test of this worker may have acted on it
    store = bootstrap.store(database_url, ws)
    demo.demo(store, "clinic-en", 0)
    for role in ("admin", "operator", "viewer"):
        users.create(store, f"{prefix}{role}@example.org", role, PASSWORD, 0)
    yield Site(database_url, ws)
    everyone = bootstrap.store(database_url, "")
    with everyone.write():
        everyone.drop_login_attempts()


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    yield from demo_site(database_url, "web-it")


def test_pages_need_a_login_and_then_answer(site: Site) -> None:
    with site.client() as c:
        first = c.get("/counterparties/tom", follow_redirects=False)
        assert first.status_code == 303
        assert first.headers["location"] == "/login?next=/counterparties/tom"
        site.login(c, "viewer@example.org")
        for path in ("/", "/counterparties", "/counterparties?q=tom&kind=client", "/counterparties/tom", "/review",
                     "/rulebooks", "/rulebooks/smile/2026-05", "/rulebooks/upload", "/reports/cost-to-serve",
                     "/reports/partners", "/reports/suppliers", "/reports/courtesy"):
            page = c.get(path)
            assert page.status_code == 200, (path, page.text[:500])
            assert "Content-Security-Policy" in page.headers
        assert c.get("/counterparties/nobody").status_code == 404
        exported = c.get("/reports/cost-to-serve.csv")
        assert exported.headers["content-type"].startswith("text/csv")
        assert exported.text.splitlines()[0].startswith("key,name")


def test_login_rotates_the_session_and_logout_ends_it(site: Site) -> None:
    with site.client() as c:
        site.login(c, "operator@example.org")
        first = c.cookies.get("firmly_session")
        site.login(c, "operator@example.org")  # logging in again: a new id, the old one worthless
        second = c.cookies.get("firmly_session")
        assert first and second and first != second
    with site.client() as stale:
        stale.cookies.set("firmly_session", first)
        assert stale.get("/", follow_redirects=False).status_code == 303
    with site.client() as c:
        c.cookies.set("firmly_session", second)
        home = c.get("/")
        assert home.status_code == 200
        assert c.post("/logout", data={"csrf": csrf(home.text)}, follow_redirects=False).status_code == 303
    with site.client() as after:
        after.cookies.set("firmly_session", second)
        assert after.get("/", follow_redirects=False).status_code == 303


def test_wrong_password_and_unknown_email_look_the_same(site: Site) -> None:
    with site.client() as c:
        token = csrf(c.get("/login").text)
        wrong = c.post("/login", data={"csrf": token, "email": "admin@example.org", "password": "nope-nope"})
        unknown = c.post("/login", data={"csrf": token, "email": "who@example.org", "password": "nope-nope"})
        assert wrong.status_code == unknown.status_code == 401
        assert "firmly_session" not in c.cookies


def test_every_form_needs_its_csrf_token(site: Site) -> None:
    with site.client() as c:
        assert c.post("/login", data={"email": "admin@example.org", "password": PASSWORD}).status_code == 403
        site.login(c, "operator@example.org")
        proposal = review.pending(site.store)[0]["id"]
        for data in ({"act": "approve", "reason": "no token"}, {"act": "approve", "reason": "x", "csrf": "forged"}):
            assert c.post(f"/review/{proposal}", data=data).status_code == 403
        token = csrf(c.get("/review").text)
        other_site = c.post(f"/review/{proposal}", data={"act": "approve", "reason": "x", "csrf": token},
                            headers={"Origin": "https://evil.example"})
        assert other_site.status_code == 403
        assert c.post("/logout", data={}).status_code == 403
        assert review.pending(site.store)[0]["id"] == proposal  # nothing changed


def test_no_state_changes_over_get(site: Site) -> None:
    with site.client() as c:
        site.login(c, "admin@example.org")
        proposal = review.pending(site.store)[0]["id"]
        for path in (f"/review/{proposal}?act=approve&reason=x", "/logout", "/lang?lang=ru"):
            assert c.get(path).status_code in (404, 405)
        assert review.pending(site.store)[0]["id"] == proposal
        assert c.get("/").status_code == 200


def test_a_viewer_reads_but_cannot_act(site: Site) -> None:
    with site.client() as c:
        site.login(c, "viewer@example.org")
        page = c.get("/review")
        assert 'name="reason"' not in page.text
        proposal = review.pending(site.store)[0]["id"]
        token = csrf(page.text)
        assert c.post(f"/review/{proposal}", data={"act": "approve", "reason": "x", "csrf": token}).status_code == 403
        assert c.post("/rulebooks/what-if", data={"source": "x", "csrf": token}).status_code == 403
        assert c.post("/rulebooks/upload", data={"source": "x", "action": "load", "csrf": token}).status_code == 403
        assert review.pending(site.store)[0]["id"] == proposal


def test_an_operator_acts_with_a_reason_kept(site: Site) -> None:
    with site.client() as c:
        site.login(c, "operator@example.org")
        proposal = review.pending(site.store)[0]["id"]
        token = csrf(c.get("/review").text)
        assert c.post(f"/review/{proposal}", data={"act": "approve", "reason": "", "csrf": token}).status_code == 400
        asked = c.post(f"/review/{proposal}", data={"act": "approve", "reason": "Five late changes", "csrf": token})
        assert asked.status_code == 200 and "Are you sure?" in asked.text, "a suspension is confirmed first"
        assert review.log(site.store) == []
        done = c.post(f"/review/{proposal}", data={"act": "approve", "reason": "Five late changes", "csrf": token,
                                                   "confirmed": "yes"}, follow_redirects=False)
        assert done.status_code == 303
        acts = review.log(site.store)
        assert acts[-1]["author"] == "operator@example.org" and acts[-1]["reason"] == "Five late changes"


def test_the_language_follows_the_switch_then_the_workspace(site: Site) -> None:
    with site.client() as c:
        site.login(c, "viewer@example.org")
        home = c.get("/")
        assert '<html lang="en">' in home.text  # the clinic example's workspace speaks English
        c.post("/lang", data={"csrf": csrf(home.text), "lang": "ru", "next": "/"})
        russian = c.get("/")
        assert '<html lang="ru">' in russian.text and "Сводка" in russian.text


def test_an_ingest_role_has_no_login(site: Site) -> None:
    with pytest.raises(FirmlyError, match="role"):
        users.create(site.store, "robot@example.org", "ingest", PASSWORD, 0)


def test_the_catalogues_are_complete() -> None:
    with (LOCALE / "messages.pot").open("rb") as fh:
        template = {m.id for m in read_po(fh) if m.id}
    with (LOCALE / "ru" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        russian = read_po(fh, locale="ru")
    ids = {m.id for m in russian if m.id}
    assert template == ids, "run pybabel update (see babel.cfg)"
    untranslated = [m.id for m in russian if m.id and (not m.string or (isinstance(m.string, tuple)
                                                                        and not all(m.string)))]
    assert untranslated == []
    assert not [m.id for m in russian if m.fuzzy and m.id]


def test_the_template_lists_every_message_of_the_templates() -> None:
    pattern = re.compile(r"""_\(\s*(['"])(.+?)\1""")
    templates = Path(__file__).resolve().parents[2] / "src" / "firmly" / "doors" / "web" / "templates"
    with (LOCALE / "messages.pot").open("rb") as fh:
        known = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    used = {m.group(2) for path in templates.glob("*.html") for m in pattern.finditer(path.read_text())}
    assert used - known == set(), "run pybabel extract (see babel.cfg)"


def test_money_and_dates_follow_the_language() -> None:
    i18n.use("ru")
    assert i18n.money("1500.5", "RUB").replace("\xa0", " ").replace("\u202f", " ") == "1 500,50 ₽"
    assert i18n.day(1_780_000_000_000_000, "Europe/Moscow").replace("\u202f", " ") == "28 мая 2026 г."
    i18n.use("en")
    assert i18n.money("1500.5", "EUR") == "€1,500.50"
    assert i18n.day(1_780_000_000_000_000, "Europe/Moscow") == "May 28, 2026"
    assert i18n.choose(None, "ru-RU,ru;q=0.9", None) == "ru"
    assert i18n.choose("en", "ru-RU", "ru") == "en"


def test_the_appendix_as_html_and_pdf(site: Site) -> None:
    with site.client() as c:
        site.login(c, "viewer@example.org")
        html = c.get("/rulebooks/smile/2026-05/appendix.html?lang=ru")
        assert html.status_code == 200 and '<html lang="ru">' in html.text
        pdf = c.get("/rulebooks/smile/2026-05/appendix.pdf?lang=en")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_user_create_from_the_command_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner  # noqa: PLC0415

    from firmly.doors.cli import app  # noqa: PLC0415

    db = f"sqlite:///{tmp_path / 'users.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["init", "--db", db, "-w", "w1"]).exit_code == 0
    made = runner.invoke(app, ["user", "create", "--role", "operator", "--email", "Olga@Example.org",
                               "--password", PASSWORD, "--db", db, "-w", "w1"])
    assert made.exit_code == 0, made.output
    listed = runner.invoke(app, ["user", "list", "--json", "--db", db, "-w", "w1"])
    assert '"email": "olga@example.org"' in listed.output and '"role": "operator"' in listed.output
    piped = runner.invoke(app, ["user", "create", "--role", "viewer", "--email", "v@example.org", "--password-stdin",
                                "--db", db, "-w", "w1"], input=PASSWORD + "\n")
    assert piped.exit_code == 0, piped.output
    assert users.authenticate(bootstrap.store(db, "w1"), "v@example.org", PASSWORD) is not None
    for bad in (["--role", "ingest", "--password", PASSWORD], ["--role", "viewer", "--password", "short"],
                ["--role", "viewer"]):
        refused = runner.invoke(app, ["user", "create", "--email", "x@example.org", *bad, "--db", db, "-w", "w1"])
        assert refused.exit_code == 1, (bad, refused.output)
    elsewhere = runner.invoke(app, ["init", "--db", db, "-w", "w2"])
    assert elsewhere.exit_code == 0
    taken = runner.invoke(app, ["user", "create", "--role", "admin", "--email", "olga@example.org",
                                "--password", PASSWORD, "--db", db, "-w", "w2"])
    assert taken.exit_code == 1 and "one workspace" in taken.output


def test_a_partners_karma_chart_is_on_its_conduct_page_and_its_public_page(database_url: str) -> None:
    store = bootstrap.store(database_url, "web-karma")
    demo.demo(store, "network-en", 0)
    users.create(store, "karma-viewer@example.org", "viewer", PASSWORD, 0)  # an email has one workspace
    site = Site(database_url, "web-karma")
    with site.client() as c:
        public = c.get("/partners/web-karma/northside")
        site.login(c, "karma-viewer@example.org")
        conduct = c.get("/counterparties/northside")
    for page in (public, conduct):
        assert page.status_code == 200
        assert page.text.count("Karma over time") == 2  # the heading and the chart's label
        assert 'id="karma-data"' in page.text


def test_a_counterparty_page_shows_their_personal_exceptions(database_url: str) -> None:
    from firmly.domain.clock import parse_instant  # noqa: PLC0415 - only this test ticks the clock
    from firmly.service import clock, exceptions  # noqa: PLC0415

    store = bootstrap.store(database_url, "web-exceptions")
    demo.demo(store, "leniency-ru", 0)
    exceptions.set_exception(store, "ivanova", "missed_visit", "2026-04-10T00:00:00+03:00", "паводок", "anna")
    clock.tick(store, parse_instant("2026-03-12T00:00:00+03:00"))
    users.create(store, "exceptions-viewer@example.org", "viewer", PASSWORD, 0)
    site = Site(database_url, "web-exceptions")
    with site.client() as c:
        site.login(c, "exceptions-viewer@example.org")
        page = c.get("/counterparties/ivanova")
        other = c.get("/counterparties/petrova")
    assert page.status_code == 200 and other.status_code == 200
    card = page.text[page.text.index('id="h-exceptions"'):]
    assert "Личные исключения" in card and "паводок" in card and "Если не можете прийти" in card
    assert "10.04.2026" in card or "9 апр" in card or "10 апр" in card, card[:600]
    assert 'id="h-exceptions"' not in other.text, "no card for someone without exceptions"
