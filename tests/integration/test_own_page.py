"""The client's own page in process (ASGI client, SQLite and PostgreSQL): the signed link every message ends
with, what it opens, what it refuses (expired, revoked, changed, another workspace's), and the one thing the
page may change: a request for leniency stored as an event."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from firmly import bootstrap
from firmly.domain.errors import FirmlyError
from firmly.domain.events import validate
from firmly.domain.ports import Storage
from firmly.doors.api import create_app
from firmly.doors.cli import app as cli_app
from firmly.service import demo, ingest, outbox, own_page, wallclock
from tests.conftest import forget_workspace
from tests.own_pages import DAY, agency, letters, path_of

REFUSED_EN = "This link does not work"
REFUSED_RU = "Ссылка не работает"


URLS: dict[int, str] = {}  # a store's database URL, for the server and the CLI over it


@pytest.fixture
def store(database_url: str) -> Iterator[Storage]:
    for name in ("own-a", "own-b"):
        forget_workspace(database_url, name)
    found = agency(database_url, "own-a")
    URLS[id(found)] = database_url
    yield found
    URLS.pop(id(found), None)
    users = bootstrap.store(database_url, "")
    with users.write():  # the page's counts per address outlive a workspace on a shared PostgreSQL database
        users.drop_login_attempts()


def client(store: Storage) -> TestClient:
    return TestClient(create_app(store_url(store)), base_url="http://testserver")


def store_url(store: Storage) -> str:
    return URLS[id(store)]


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_every_letter_ends_with_a_link_that_opens_the_clients_own_page(store: Storage) -> None:
    sent = letters(store, "petrov")
    assert set(sent) == {"feedback", "warning", "fee"}
    for body in sent.values():
        lines = body.rstrip("\n").splitlines()
        assert lines[-1].startswith("http://127.0.0.1:8000/my/own-a/")
        assert lines[-2].startswith("Ваша страница")
    with client(store) as c:
        page = c.get(path_of(sent["fee"].rstrip().splitlines()[-1]))
        assert page.status_code == 200, page.text[:400]
        assert page.headers["cache-control"] == "no-store"
        html = page.text
        assert '<html lang="ru">' in html
        assert "Иван Петров" in html
        assert "Задачи — только через общую почту заказов" in html  # the rule, and its appendix
        assert "John Smith" not in html  # no other counterparty's data
        english = c.get(path_of(letters(store, "smith")["fee"].rstrip().splitlines()[-1]))
        assert '<html lang="en">' in english.text
        assert "Your standing under the rules" in english.text
        assert "Иван Петров" not in english.text


def test_a_changed_expired_revoked_or_foreign_link_opens_nothing(store: Storage, database_url: str) -> None:
    link = letters(store, "petrov")["fee"].rstrip().splitlines()[-1]
    path = path_of(link)
    other = agency(database_url, "own-b")
    foreign = path_of(letters(other, "petrov")["fee"].rstrip().splitlines()[-1])
    with store.write():
        old = own_page.link(store, store.settings(), "petrov", wallclock.now() - 40 * DAY)
    changed = path[:-6] + ("A" if path[-6] != "A" else "B") + path[-5:]
    with client(store) as c:
        for bad in (changed, path + "x", "/my/own-a/", "/my/own-a/nothing", "/my/nowhere/" + path.split("/")[-1],
                    foreign.replace("/own-b/", "/own-a/"), path_of(old)):
            answer = c.get(bad)
            assert answer.status_code in (403, 404), bad
            if answer.status_code == 403:
                assert REFUSED_EN in answer.text and REFUSED_RU in answer.text, bad
                assert "Иван Петров" not in answer.text and "Traceback" not in answer.text
        assert "expired" in c.get(path_of(old)).text
        assert c.get(foreign).status_code == 200  # in its own workspace it opens
        assert c.get(path).status_code == 200
        assert own_page.revoke(store, "petrov") == 1
        revoked = c.get(path)
        assert revoked.status_code == 403 and "withdrawn" in revoked.text
        fresh = own_page.show_link(store, "petrov", wallclock.now())
        assert c.get(path_of(fresh)).status_code == 200
        assert c.get(path_of(letters(store, "smith")["fee"].rstrip().splitlines()[-1])).status_code == 200


def test_the_link_lasts_the_workspaces_days_and_its_secret_is_never_listed(store: Storage) -> None:
    now = wallclock.now()
    assert own_page.holder(store, own_page.show_link(store, "smith", now).rsplit("/", 1)[1], now + 29 * DAY) == "smith"
    outbox.set_setting(store, "page_link_days", "7")
    outbox.set_setting(store, "page_url", "https://clinic.example.org/")
    link = own_page.show_link(store, "smith", now)
    assert link.startswith("https://clinic.example.org/my/own-a/")
    token = link.rsplit("/", 1)[1]
    assert own_page.holder(store, token, now + 6 * DAY) == "smith"
    with pytest.raises(own_page.Refusal, match="expired"):
        own_page.holder(store, token, now + 8 * DAY)
    with store.read():
        assert own_page.SECRET in store.settings()
    listed = outbox.settings(store)
    assert own_page.SECRET not in listed and not any(k.startswith(own_page.GENERATION) for k in listed)
    for name, value in (("page_link_days", "0"), ("page_link_days", "soon"), ("page_url", "clinic.example.org")):
        with pytest.raises(FirmlyError, match=name):
            outbox.set_setting(store, name, value)
    with pytest.raises(FirmlyError, match="page_secret"):
        outbox.set_setting(store, own_page.SECRET, "mine")


def test_a_request_for_leniency_becomes_an_event_read_for_tone(store: Storage) -> None:
    link = letters(store, "petrov")["fee"].rstrip().splitlines()[-1]
    with store.read():
        fee = next(d for d in store.decisions(counterparty="petrov") if d["action"] == "fee")
        strangers = next(d for d in store.decisions(counterparty="smith") if d["action"] == "fee")
    with client(store) as c:
        page = c.get(path_of(link))
        token = csrf(page.text)
        words = "Извините, пожалуйста, я не знал про общую почту. Прошу отменить штраф."
        assert c.post(path_of(link), data={"about": fee["id"], "ask": "waive_fee", "text": words}).status_code == 403
        foreign = c.post(path_of(link), data={"csrf": token, "about": strangers["id"], "ask": "waive_fee",
                                              "text": words})
        assert foreign.status_code == 422 and "Выберите одно из решений" in foreign.text
        assert c.post(path_of(link), data={"csrf": token, "about": fee["id"], "ask": "pay_me", "text": words}
                      ).status_code == 422
        assert c.post(path_of(link), data={"csrf": token, "about": fee["id"], "ask": "waive_fee", "text": " "}
                      ).status_code == 422
        with store.read():
            assert not [e for e in store.events_about(["petrov"]) if e.type == "exception.requested"]
        done = c.post(path_of(link), data={"csrf": token, "about": fee["id"], "ask": "waive_fee", "text": words},
                      follow_redirects=False)
        assert done.status_code == 303
        thanks = c.get(done.headers["location"])
        assert "Спасибо" in thanks.text
        grace = c.post(path_of(link), data={"csrf": token, "about": fee["id"], "ask": "grace",
                                            "text": "Оплачу в пятницу, простите за задержку."}, follow_redirects=False)
        assert grace.status_code == 303
    with store.read():
        events = store.events_about(["petrov"])
    (asked,) = [e for e in events if e.type == "exception.requested"]
    assert asked.data == {"text": words, "about": fee["id"], "ask": "waive_fee", "lang": "ru"}
    assert asked.tone is not None and asked.tone.tone == "polite"
    (graced,) = [e for e in events if e.type == "grace.requested"]
    assert graced.data == {"text": "Оплачу в пятницу, простите за задержку."}
    with store.read():
        assert not [e for e in store.events_about(["smith"]) if e.type in ("exception.requested", "grace.requested")]


def test_too_many_views_from_one_address_wait(store: Storage) -> None:
    users = bootstrap.store(store_url(store), "")
    now = wallclock.now()
    times, window = own_page.LIMITS["view"]
    assert all(own_page.take_turn(users, "view", "203.0.113.9", now) == 0 for _ in range(times))
    assert own_page.take_turn(users, "view", "203.0.113.9", now + 1) == 60
    assert own_page.take_turn(users, "view", "203.0.113.10", now + 1) == 0  # another address is not held up
    assert own_page.take_turn(users, "view", "203.0.113.9", now + window + 1) == 0


def test_the_cli_shows_and_revokes_the_link(store: Storage) -> None:
    runner = CliRunner()
    args = ["--db", store_url(store), "-w", "own-a"]
    shown = runner.invoke(cli_app, ["counterparty", "link", "show", "smith", *args])
    assert shown.exit_code == 0, shown.output
    token = shown.output.strip().rsplit("/", 1)[1]
    assert own_page.holder(store, token, wallclock.now()) == "smith"
    revoked = runner.invoke(cli_app, ["counterparty", "link", "revoke", "smith", *args])
    assert revoked.exit_code == 0, revoked.output
    with pytest.raises(own_page.Refusal, match="revoked"):
        own_page.holder(store, token, wallclock.now())
    missing = runner.invoke(cli_app, ["counterparty", "link", "show", "nobody", *args])
    assert missing.exit_code != 0 and "nobody" in missing.output
    listed = runner.invoke(cli_app, ["workspace", "show", "--json", *args])
    assert "page_secret" not in listed.output and "page_generation" not in listed.output


@pytest.mark.parametrize("value", ["http://", "https://", "ftp://clinic.example.org", "https://a b.org",
                                   "https://clinic.example.org/?x=1", "https://clinic.example.org/#top",
                                   "javascript:alert(1)", "https://" + "x" * 600])
def test_page_url_must_be_a_web_address(value: str) -> None:
    with pytest.raises(FirmlyError, match="page_url"):
        own_page.check_setting("page_url", value)


def test_the_reader_may_switch_language_and_a_post_to_a_bad_link_changes_nothing(store: Storage) -> None:
    link = letters(store, "petrov")["fee"].rstrip().splitlines()[-1]
    with store.read():
        fee = next(d for d in store.decisions(counterparty="petrov") if d["action"] == "fee")
    with client(store) as c:
        english = c.get(path_of(link) + "?lang=en")
        assert '<html lang="en">' in english.text and "Your standing under the rules" in english.text
        assert "Иван Петров" in english.text
        assert '<html lang="ru">' in c.get(path_of(link) + "?lang=xx").text  # an unknown one: its own language
        token = csrf(english.text)
        bad = path_of(link)[:-3] + "xyz"
        refused = c.post(bad, data={"csrf": token, "about": fee["id"], "ask": "waive_fee", "text": "Please."})
        assert refused.status_code == 403 and REFUSED_EN in refused.text
    with store.read():
        assert not [e for e in store.events_about(["petrov"]) if e.type == "exception.requested"]


def test_a_counterparty_sends_a_few_requests_a_day_at_most(store: Storage) -> None:
    now = wallclock.now()
    found = own_page.page(store, "petrov", now)
    about = found.decisions[0]["id"]
    assert isinstance(own_page.checked(found, about, "forgive_strike", "Простите, пожалуйста."), own_page.Plea)
    for n in range(own_page.REQUESTS_PER_DAY):
        plea = own_page.checked(own_page.page(store, "petrov", now), about, "forgive_strike", f"Простите {n}")
        assert isinstance(plea, own_page.Plea)
        raw = own_page.envelope("petrov", "ru", plea, now)
        assert ingest.ingest(store, [("page", 1, validate(raw))], now=now).stored == 1
    assert own_page.checked(own_page.page(store, "petrov", now), about, "forgive_strike", "Ещё раз") == "many"
    assert own_page.page(store, "smith", now).requests_today == 0


def test_an_address_that_brings_many_broken_links_waits_before_any_page(store: Storage) -> None:
    link = letters(store, "petrov")["fee"].rstrip().splitlines()[-1]
    times, _ = own_page.LIMITS["broken"]
    with client(store) as c:
        for n in range(times):
            assert c.get(f"/my/own-a/guess{n}").status_code == 403
        held = c.get(path_of(link))  # even a good link waits: a guesser learns nothing more for a while
        assert held.status_code == 429 and int(held.headers["retry-after"]) > 0
        assert "Иван Петров" not in held.text and "Подождите немного" in held.text


def test_a_prepaid_client_downloads_its_top_up_invoice(tmp_path: Path) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'studio.db'}"
    studio = bootstrap.store(sqlite_url, "studio")
    demo.demo(studio, "studio-en", 0)  # acme's balance is low: a top-up invoice is out; the seller's details set
    path = path_of(own_page.show_link(studio, "acme", wallclock.now()))
    with TestClient(create_app(sqlite_url)) as c:
        page = c.get(path)
        assert page.status_code == 200 and f'href="{path}/invoice.pdf"' in page.text
        assert "Balance" in page.text
        pdf = c.get(f"{path}/invoice.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
        assert pdf.headers["content-type"] == "application/pdf"
        assert c.get(path[:-2] + "zz/invoice.pdf").status_code == 403  # a broken link downloads nothing
        other = path_of(own_page.show_link(studio, next(k for k in listed(studio) if k != "acme"), wallclock.now()))
        assert c.get(f"{other}/invoice.pdf").status_code == 404  # none issued to that client


def listed(store: Storage) -> list[str]:
    with store.read():
        return [r.key for r in store.counterparties(None, None)]
