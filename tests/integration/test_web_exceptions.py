"""A personal exception set and ended from the staff's counterparty page: the rule picked by its title, `until`
in the workspace's time zone, a required reason; refusals said at their field in ru and en with nothing stored;
admin and operator only; the form's CSRF token; ending asks first. In process, on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from firmly import bootstrap
from firmly.service import exceptions
from tests.integration.test_web import Site, csrf, demo_site

WS = "web-exc"


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    yield from demo_site(database_url, WS, "exc-")


def stored(site: Site) -> list[dict[str, object]]:
    return exceptions.listing(bootstrap.store(site.url, WS), "tom")


def rules_offered(page: str) -> dict[str, str]:
    box = page[page.index('id="ex-rule"'):]
    box = box[:box.index("</select>")]
    return {v: html.unescape(t) for v, t in re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', box)}


def local(days: float) -> str:
    return (datetime.now(ZoneInfo("UTC")) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def error_at(page: str, name: str) -> str:
    found = re.search(rf'id="ex-{name}-error">([^<]+)<', page)
    assert found is not None, f"no error at {name}"
    return html.unescape(found.group(1))


def test_an_operator_sets_an_exception_and_ends_it_after_confirming(site: Site) -> None:
    with site.client() as c:
        site.login(c, "exc-operator@example.org")
        page = c.get("/counterparties/tom").text
        offered = rules_offered(page)
        assert offered, "the form offers the counterparty's rules by title"
        rule, title = next(iter(offered.items()))
        assert title != rule or " " in title
        assert "Apply from an earlier time" in page and "made again" in page
        token = csrf(page)
        assert c.post("/counterparties/tom/exceptions", data={"csrf": "forged", "rule": rule, "until": local(10),
                                                              "reason": "a flood"}).status_code == 403
        assert stored(site) == []
        done = c.post("/counterparties/tom/exceptions", data={"csrf": token, "rule": rule, "until": local(10),
                                                              "reason": "a flood, the roads were closed"},
                      follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"].startswith("/counterparties/tom?excepted=1")
        after = c.get(done.headers["location"]).text
        assert "The exception is set" in after and "a flood, the roads were closed" in after
        assert "Set by exc-operator@example.org" in after and "End now" in after
        rows = stored(site)
        assert len(rows) == 1 and rows[0]["rule"] == rule and rows[0]["by"] == "exc-operator@example.org"
        assert rows[0]["state"] == "active"
        ident = str(rows[0]["id"])

        end = f"/counterparties/tom/exceptions/{ident}/end"
        assert c.post(end, data={"csrf": "forged", "reason": "x", "confirmed": "yes"}).status_code == 403
        asked = c.post(end, data={"csrf": token, "reason": "the roads are open"})
        assert asked.status_code == 200 and "End the exception?" in asked.text and 'name="confirmed"' in asked.text
        assert "the roads are open" in asked.text and stored(site)[0]["ended"] is None, "asking is not ending"
        empty = c.post(end, data={"csrf": token, "reason": " ", "confirmed": "yes"})
        assert empty.status_code == 422 and "Required" in empty.text and stored(site)[0]["ended"] is None
        ended = c.post(end, data={"csrf": token, "reason": "the roads are open", "confirmed": "yes"},
                       follow_redirects=False)
        assert ended.status_code == 303 and ended.headers["location"].startswith("/counterparties/tom?ended=1")
        final = c.get(ended.headers["location"]).text
        assert "The exception is ended" in final and "Ended early by exc-operator@example.org" in final
        row = stored(site)[0]
        assert row["state"] == "ended" and row["ended"]["reason"] == "the roads are open"  # type: ignore[index]
        assert "End now" not in final
        assert c.post(end, data={"csrf": token, "reason": "again", "confirmed": "yes"}).status_code == 409
        assert c.post("/counterparties/tom/exceptions/nothing/end",
                      data={"csrf": token, "reason": "x", "confirmed": "yes"}).status_code == 404


def test_refusals_are_said_at_their_field_and_nothing_is_stored(site: Site) -> None:
    with site.client() as c:
        site.login(c, "exc-admin@example.org")
        page = c.get("/counterparties/tom").text
        rule = next(iter(rules_offered(page)))
        token = csrf(page)
        past = c.post("/counterparties/tom/exceptions", data={"csrf": token, "rule": rule, "until": local(-1),
                                                              "reason": "late"})
        assert past.status_code == 422 and "Nothing was stored" in past.text
        assert "has passed" in error_at(past.text, "until")
        assert 'aria-invalid="true" aria-describedby="ex-until-error"' in past.text
        assert "late" in past.text, "what the person typed stays in the form"
        unknown = c.post("/counterparties/tom/exceptions", data={"csrf": token, "rule": "no_such_rule",
                                                                 "until": local(3), "reason": "why"})
        assert unknown.status_code == 422 and "their rules" in error_at(unknown.text, "rule")
        empty = c.post("/counterparties/tom/exceptions", data={"csrf": token, "rule": rule, "until": local(3),
                                                               "reason": "  "})
        assert empty.status_code == 422 and "Required" in error_at(empty.text, "reason")
        later = c.post("/counterparties/tom/exceptions", data={"csrf": token, "rule": rule, "until": local(3),
                                                               "reason": "why", "from": local(1)})
        assert later.status_code == 422 and "not earlier than now" in error_at(later.text, "from")
        garbled = c.post("/counterparties/tom/exceptions", data={"csrf": token, "rule": rule, "until": "soon",
                                                                 "reason": "why"})
        assert garbled.status_code == 422 and "2026-03-01 10:00" in error_at(garbled.text, "until")
        assert stored(site) == []

        c.post("/lang", data={"csrf": token, "lang": "ru", "next": "/"})
        ru = c.post("/counterparties/tom/exceptions", data={"csrf": token, "rule": "no_such_rule",
                                                            "until": local(-1), "reason": ""})
        assert ru.status_code == 422 and "Ничего не сохранено" in ru.text
        assert "Выберите одно из их правил" in error_at(ru.text, "rule")
        assert "Это время прошло" in error_at(ru.text, "until")
        assert "Обязательно" in error_at(ru.text, "reason")
        assert stored(site) == []


def test_an_exception_from_an_earlier_time_is_applied_from_then(site: Site) -> None:
    with site.client() as c:
        site.login(c, "exc-admin@example.org")
        page = c.get("/counterparties/tom").text
        rule = next(iter(rules_offered(page)))
        done = c.post("/counterparties/tom/exceptions", data={"csrf": csrf(page), "rule": rule, "until": local(5),
                                                              "reason": "a long illness", "from": local(-400)},
                      follow_redirects=False)
        assert done.status_code == 303
        rows = stored(site)
        assert len(rows) == 1 and rows[0]["from"] < rows[0]["set_at"]  # type: ignore[operator]


def test_a_viewer_sees_no_form_and_may_not_post(site: Site) -> None:
    with site.client() as staff:
        site.login(staff, "exc-admin@example.org")
        page = staff.get("/counterparties/tom").text
        rule = next(iter(rules_offered(page)))
        staff.post("/counterparties/tom/exceptions", data={"csrf": csrf(page), "rule": rule, "until": local(5),
                                                           "reason": "kept"})
    ident = str(stored(site)[0]["id"])
    with site.client() as c:
        site.login(c, "exc-viewer@example.org")
        page = c.get("/counterparties/tom").text
        assert "kept" in page, "a viewer sees the exceptions"
        assert 'id="exception-form"' not in page and "End now" not in page and "/end" not in page
        token = csrf(page)
        refused = c.post("/counterparties/tom/exceptions", data={"csrf": token, "rule": rule, "until": local(5),
                                                                 "reason": "not mine"})
        assert refused.status_code == 403
        ending = c.post(f"/counterparties/tom/exceptions/{ident}/end",
                        data={"csrf": token, "reason": "not mine", "confirmed": "yes"})
        assert ending.status_code == 403
    rows = stored(site)
    assert len(rows) == 1 and rows[0]["ended"] is None
