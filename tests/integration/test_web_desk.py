"""The desk's pages in process (ASGI client) on SQLite and PostgreSQL: events recorded by hand go through the
API's validation and writer, with roles and CSRF; the start page loads a rulebook for admins only; uploads
report by line; lists sort and export what they show; a missing page is HTML in a browser, JSON for the API."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from firmly import bootstrap
from firmly.domain import limits
from firmly.doors.api import create_app
from firmly.service import demo, rulebooks, users
from tests.conftest import forget_workspace

PASSWORD = "correct horse battery"
HTML = {"accept": "text/html"}


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


@pytest.fixture
def url(database_url: str) -> Iterator[str]:
    forget_workspace(database_url, "desk-it")
    store = bootstrap.store(database_url, "desk-it")
    demo.demo(store, "clinic-en", 0)
    for role in ("admin", "operator", "viewer"):
        users.create(store, f"{role}@desk.example.org", role, PASSWORD, 0)
    yield database_url


def client(url: str, role: str) -> TestClient:
    c = TestClient(create_app(url), base_url="http://testserver", headers=HTML)
    token = csrf(c.get("/login").text)
    answer = c.post("/login", data={"csrf": token, "email": f"{role}@desk.example.org", "password": PASSWORD},
                    follow_redirects=False)
    assert answer.status_code == 303
    return c


def events_of(url: str, key: str) -> list[str]:
    store = bootstrap.store(url, "desk-it")
    with store.read():
        return [e.id for e in store.events_about([key])]


def test_an_event_recorded_by_hand_is_stored_as_the_apis_are(url: str) -> None:
    with client(url, "operator") as c:
        token = csrf(c.get("/record/message.received").text)
        form = {"counterparty": "tom", "occurred_at": "2026-05-20T10:00", "text": "Thank you, see you soon",
                "lang": "en"}
        assert c.post("/record/message.received", data=form).status_code == 403  # no CSRF token
        done = c.post("/record/message.received", data={**form, "csrf": token}, follow_redirects=False)
        assert done.status_code == 303
        made = re.search(r"recorded=(ui-message-tom-\d+)", done.headers["location"])
        assert made is not None and made.group(1) in events_of(url, "tom")
        before = events_of(url, "tom")
        refused = c.post("/record/payment.received", data={**form, "csrf": token, "amount": "-5"})
        assert refused.status_code == 422
        assert 'id="amount-error"' in refused.text and 'aria-invalid="true"' in refused.text
        late = c.post("/record/incident.reported", data={**form, "csrf": token, "severity": "major",
                                                          "occurred_at": "2100-01-01T10:00"})
        assert late.status_code == 422  # the API's horizon, at its field, in the reader's words
        assert re.search(r'id="occurred_at-error">This is ahead of now; record what has already happened.<', late.text)
        assert events_of(url, "tom") == before  # nothing of a refused form is stored
    with client(url, "viewer") as c:
        assert c.get("/record/payment.received").status_code == 403


def test_a_counterparty_with_tier_language_and_special_prices(url: str) -> None:
    with client(url, "operator") as c:
        token = csrf(c.get("/record/counterparty.upserted").text)
        answer = c.post("/record/counterparty.upserted", data={
            "csrf": token, "counterparty": "vera", "occurred_at": "2026-05-20T10:00", "kind": "client",
            "name": "Vera Orlova", "tier": "family", "locale": "ru", "email": "vera@example.org",
            "prices": "consultation = 90,00\n\ncheckup = 1 200.50"}, follow_redirects=False)
        assert answer.status_code == 303
        page = c.get("/counterparties/vera").text
        assert "Vera Orlova" in page and "vera@example.org" in page
        store = bootstrap.store(url, "desk-it")
        with store.read():
            state = store.load_states(["vera"])["vera"]
        assert state.prices == {"consultation": Decimal("90.00"), "checkup": Decimal("1200.50")}
        assert (state.tier, state.locale) == ("family", "ru")


def test_the_start_page_loads_a_rulebook_for_admins_only(url: str) -> None:
    answers = {"business": "aggregator", "name": "CareLink", "preset": "strict", "notice_hours": "12",
               "fee": "25", "currency": "EUR"}
    with client(url, "operator") as c:
        preview = c.get("/start", params={**answers, "preview": "1"})
        assert preview.status_code == 200 and "CareLink" in preview.text
        assert "/start/load" not in preview.text  # the button is an admin's
        assert c.post("/start/load", data={**answers, "csrf": csrf(preview.text)}).status_code == 403
    with client(url, "admin") as c:
        bad = c.get("/start", params={**answers, "preview": "1", "fee": "0", "name": ""})
        assert bad.status_code == 422 and 'id="fee-error"' in bad.text and 'id="name-error"' in bad.text
        token = csrf(c.get("/start").text)
        loaded = c.post("/start/load", data={**answers, "csrf": token}, follow_redirects=False)
        assert loaded.status_code == 303 and loaded.headers["location"] == "/start/events?loaded=aggregator"
        made = c.post("/start/token", data={"csrf": token, "name": "CRM"})
        issued = re.search(r"fy_[0-9a-f]{12}_[\w-]+", made.text)
        assert issued is not None
    book = {r.id: r for r in rulebooks.stored(bootstrap.store(url, "desk-it"))}["aggregator"]
    assert "applies_to:\n- partner" in book.source and "fee:" not in book.source
    with TestClient(create_app(url)) as api:  # the token sends events to the API
        sent = api.post("/v1/events", headers={"Authorization": f"Bearer {issued.group(0)}"}, json={
            "id": "from-crm-1", "type": "message.received", "counterparty": "tom",
            "occurred_at": "2026-05-20T11:00:00Z", "data": {"text": "hello"}})
        assert sent.status_code == 200


def test_an_event_file_is_reported_by_line(url: str) -> None:
    rows = ("id,type,counterparty,occurred_at,data.text,data.amount\n"
            "up-1,message.received,tom,2026-05-21T10:00:00Z,Thanks,\n"
            "up-2,payment.received,tom,2026-05-21T11:00:00Z,,lots\n")
    with client(url, "operator") as c:
        token = csrf(c.get("/events/upload").text)
        answer = c.post("/events/upload", data={"csrf": token},
                        files={"file": ("day.csv", rows.encode(), "text/csv")})
        assert answer.status_code == 422
        table = re.findall(r"<tr><td class=\"num\">(\d+)</td><td><code>([^<]*)</code></td><td>([^<]+)</td>",
                           answer.text)
        assert table == [("3", "up-2", "data.amount")]
        assert "up-1" in events_of(url, "tom") and "up-2" not in events_of(url, "tom")
        again = c.post("/events/upload", data={"csrf": token},
                       files={"file": ("notes.txt", b"hello", "text/plain")})
        assert again.status_code == 422 and ".jsonl" in again.text


def test_lists_sort_page_and_export_what_they_show(url: str) -> None:
    with client(url, "viewer") as c:
        page = c.get("/counterparties", params={"sort": "-name"}).text
        names = re.findall(r'<td><a href="/counterparties/[^"]+">([^<]+)</a>', page)
        assert names == sorted(names, key=str.casefold, reverse=True) and len(names) > 1
        assert 'aria-sort="descending"' in page
        exported = list(csv.DictReader(io.StringIO(c.get("/counterparties.csv?sort=-name").text.lstrip("\ufeff"))))
        assert [r["name"] for r in exported] == names  # one page here: the export is the same list
        report = c.get("/reports/cost-to-serve.csv", params={"currency": "GBP", "sort": "revenue"}).text
        rows = list(csv.DictReader(io.StringIO(report)))
        assert rows and {r["currency"] for r in rows} == {"GBP"}
        revenue = [float(r["revenue"]) for r in rows]
        assert revenue == sorted(revenue)


def test_a_missing_page_is_html_in_a_browser_and_json_for_the_api(url: str) -> None:
    with client(url, "viewer") as c:
        page = c.get("/rulebooks/smile")
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
        assert "<h1>" in page.text
        api = c.get("/v1/nothing-here", headers={"accept": "application/json"})
        assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"


def test_a_refused_line_says_why_in_the_pages_language(url: str) -> None:
    rows = ("id,type,counterparty,occurred_at,data.rating\n"
            "ru-1,review.received,tom,2026-05-21T10:00:00Z,9\n")
    with client(url, "operator") as c:
        c.post("/lang", data={"csrf": csrf(c.get("/").text), "lang": "ru", "next": "/"})
        token = csrf(c.get("/events/upload").text)
        answer = c.post("/events/upload", data={"csrf": token},
                        files={"file": ("day.csv", rows.encode(), "text/csv")})
        assert answer.status_code == 422
        assert "<td>должно быть целым числом от 1 до 5, а указано 9</td>" in answer.text
        assert "must be a whole number" not in answer.text
        long = "x" * (limits.TEXT + 1)  # past the browser's maxlength, as a script may send it
        form = c.post("/record/message.received", data={"csrf": token, "counterparty": "tom",
                                                          "occurred_at": "2026-05-21 10:00", "text": long})
        assert form.status_code == 422
        assert f"Слишком длинно: должно быть не длиннее {limits.TEXT} символов, а в нём {limits.TEXT + 1}" in form.text
