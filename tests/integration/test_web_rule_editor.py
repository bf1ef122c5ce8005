"""The rule editor's pages in process (ASGI client) on SQLite and PostgreSQL: a loaded rulebook in forms,
problems shown at their fields in the reader's language, the YAML diff and a what-if before saving, and a
save that loads a new version recorded with the person who loaded it."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from firmly import bootstrap
from firmly.doors.api import create_app
from firmly.service import demo, listing, rulebooks, users, what_if_jobs
from tests.conftest import forget_workspace

PASSWORD = "correct horse battery"
EDIT = "/rulebooks/smile/2026-05/edit"


def csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


@pytest.fixture
def url(database_url: str) -> Iterator[str]:
    forget_workspace(database_url, "editor-it")
    store = bootstrap.store(database_url, "editor-it")
    demo.demo(store, "clinic-en", 0)
    for role in ("admin", "operator", "viewer"):
        users.create(store, f"{role}@editor.example.org", role, PASSWORD, 0)
    yield database_url


def _client(url: str, role: str, lang: str = "en") -> TestClient:
    client = TestClient(create_app(url), base_url="http://testserver")
    client.cookies.set("firmly_lang", lang)
    token = csrf(client.get("/login").text)
    answer = client.post("/login", data={"csrf": token, "email": f"{role}@editor.example.org", "password": PASSWORD,
                                         "next": "/"}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return client


def _form(page: str) -> dict[str, str]:
    """The editor's fields as the page shows them: inputs, text areas and the chosen option of each select."""
    inputs = re.findall(r'<input id="f\d+" name="([^"]+)" value="([^"]*)"', page)
    fields = {html.unescape(n): html.unescape(v) for n, v in inputs}
    for n, v in re.findall(r'<textarea id="f\d+" name="([^"]+)"[^>]*>([^<]*)</textarea>', page):
        fields[html.unescape(n)] = html.unescape(v)
    for n, body in re.findall(r'<select id="f\d+" name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        fields[html.unescape(n)] = html.unescape(chosen.group(1)) if chosen else ""
    fields["csrf"] = csrf(page)
    return fields


def test_every_section_is_in_forms_with_visible_labels(url: str) -> None:
    with _client(url, "operator") as c:
        page = c.get(EDIT)
        assert page.status_code == 200
        text = page.text
        for heading in ("The rulebook", "Ladder: attendance", "Tier: family",
                        "Rule: Cancel at least 12 hours before your visit", "Rule: Tell us if you cannot come"):
            assert f"<legend>{heading}</legend>" in text
        fields = _form(text)
        assert fields["y/rules/late_change/min_notice"] == "12h"
        assert fields["y/ladders/attendance/steps/2/fee"] == "25.00"
        assert fields["y/rules/late_change/remind/at"] == "24h, 2h"
        assert fields["y/rules/late_change/kind"] == "notice"
        ids = re.findall(r'<(?:input|select|textarea) id="(f\d+)"', text)
        labelled = set(re.findall(r'<label for="(f\d+)">[^<]+</label>', text))
        assert ids and set(ids) <= labelled
        assert ">Minimum notice</label>" in text and ">Step 3 · fee</label>" in text
        assert "Save as a new version" not in text  # an operator checks and tries; an admin saves


def test_the_rulebook_page_links_to_the_editor(url: str) -> None:
    with _client(url, "admin") as c:
        assert f'href="{EDIT}"' in c.get("/rulebooks/smile/2026-05").text
        assert f'href="{EDIT}"' in c.get("/rulebooks").text
    with _client(url, "viewer") as c:
        assert EDIT not in c.get("/rulebooks/smile/2026-05").text
        assert c.get(EDIT).status_code == 403


@pytest.mark.parametrize(("lang", "words"), [("en", "must be a duration like"), ("ru", "должно быть длительностью")])
def test_a_problem_is_shown_at_its_field_in_the_readers_language(url: str, lang: str, words: str) -> None:
    with _client(url, "admin", lang) as c:
        form = _form(c.get(EDIT).text)
        form.update({"y/rules/late_change/min_notice": "twelve hours", "y/version": "2026-06", "action": "save"})
        answer = c.post(EDIT, data=form)
        assert answer.status_code == 422
        field = re.search(r'<input id="(f\d+)" name="y/rules/late_change/min_notice" value="twelve hours" '
                          r'autocomplete="off" spellcheck="false" aria-invalid="true" aria-describedby="(f\d+)-error">',
                          answer.text)
        assert field is not None and field.group(1) == field.group(2)
        error = re.search(rf'<p class="field-error" id="{field.group(1)}-error">([^<]+)</p>', answer.text)
        assert error is not None and words in html.unescape(error.group(1)), answer.text[:3000]
    with _client(url, "admin") as c:
        assert [v.version for v in rulebooks.stored(bootstrap.store(url, "editor-it"))] == ["2026-05"]


def test_a_change_shows_its_diff_and_a_what_if_then_saves_a_new_version(url: str) -> None:
    with _client(url, "admin") as c:
        form = _form(c.get(EDIT).text)
        form.update({"y/ladders/attendance/steps/2/fee": "40.00", "y/version": "2026-06", "action": "preview"})
        preview = c.post(EDIT, data=form)
        assert preview.status_code == 200, preview.text[:2000]
        lines = [html.unescape(s) for s in re.findall(r'<span class="(?:add|del)">([^<]*)</span>', preview.text)]
        assert lines == ['− version: "2026-05"', '+ version: "2026-06"', '−       - fee: "25.00"',
                         '+       - fee: "40.00"']
        # the what-if runs on the changed text: still working, or (a small workspace) done before the page is drawn
        assert 'id="job"' in preview.text or 'id="result"' in preview.text
        assert 'value="40.00"' in preview.text  # what was typed stays in the form
        assert len(rulebooks.stored(bootstrap.store(url, "editor-it"))) == 1  # a preview stores nothing
        form["action"] = "save"
        saved = c.post(EDIT, data=form, follow_redirects=False)
        assert saved.status_code == 303
        assert saved.headers["location"] == "/rulebooks/smile/2026-06?loaded=new"
        versions = rulebooks.stored(bootstrap.store(url, "editor-it"))
        assert [(v.version, v.loaded_by) for v in versions] == [("2026-05", None),
                                                                ("2026-06", "admin@editor.example.org")]
        assert versions[1].source == versions[0].source.replace('"2026-05"', '"2026-06"', 1).replace(
            'fee: "25.00"', 'fee: "40.00"')
        listed = c.get("/rulebooks").text
        assert "admin@editor.example.org" in listed


def test_a_change_kept_under_the_same_version_is_refused_at_the_version_field(url: str) -> None:
    with _client(url, "admin") as c:
        form = _form(c.get(EDIT).text)
        form.update({"y/rules/no_show/thank_for": "60d", "action": "save"})
        answer = c.post(EDIT, data=form)
        assert answer.status_code == 422
        assert re.search(r'name="y/version" value="2026-05" autocomplete="off" spellcheck="false" '
                         r'aria-invalid="true"', answer.text)
        assert "is loaded already" in answer.text


def test_an_operator_may_preview_but_not_save_and_nothing_changed_says_so(url: str) -> None:
    with _client(url, "operator") as c:
        form = _form(c.get(EDIT).text)
        same = c.post(EDIT, data={**form, "action": "preview"})
        assert same.status_code == 200 and "Nothing was changed." in same.text
        form.update({"y/version": "2026-07", "action": "save"})
        assert c.post(EDIT, data=form).status_code == 403
        assert c.post(EDIT, data={**form, "csrf": "forged"}).status_code in (400, 403)
        assert c.get("/rulebooks/smile/nine/edit").status_code == 404


def test_a_rule_a_step_a_price_and_a_tier_are_added_then_completed_and_saved(url: str) -> None:
    with _client(url, "admin") as c:
        form = _form(c.get(EDIT).text)
        form.update({"y/version": "2026-08", "new/rule/id": "late_payment", "new/rule/kind": "forbidden",
                     "new/rule/title": "Pay on the day", "new/step/ladder": "attendance", "new/step/action": "fee",
                     "new/step/value": "60.00", "new/price/code": "cleaning", "new/price/title": "Cleaning",
                     "new/price/price": "80.00", "new/tier/name": "vip", "action": "preview"})
        first = c.post(EDIT, data=form)
        assert first.status_code == 422  # a forbidden rule needs the event it forbids: asked at its field
        assert "<legend>Rule: Pay on the day</legend>" in first.text and "<legend>Tier: VIP</legend>" in first.text
        event = re.search(r'<input id="(f\d+)" name="y/rules/late_payment/event" value="" autocomplete="off" '
                          r'spellcheck="false" aria-invalid="true"', first.text)
        assert event is not None
        again = _form(first.text)
        assert again["y/ladders/attendance/steps/6/fee"] == "60.00"
        assert again["y/prices/cleaning/price"] == "80.00"
        base = re.search(r'<input type="hidden" name="base" value="([^"]*)"', first.text)
        assert base is not None
        again.update({"base": html.unescape(base.group(1)), "y/rules/late_payment/event": "appointment.no_show",
                      "action": "save"})
        saved = c.post(EDIT, data=again, follow_redirects=False)
        assert saved.status_code == 303, saved.text[:3000]
        book = rulebooks.stored(bootstrap.store(url, "editor-it"))[-1]
        assert book.version == "2026-08" and book.loaded_by == "admin@editor.example.org"
        assert "  late_payment:\n    title: Pay on the day\n    kind: forbidden\n    event: appointment.no_show\n" \
            in book.source
        assert '      - fee: "60.00"\n\ntiers:' in book.source  # the new step before the blank line, as written
        assert 'cleaning: {title: Cleaning, price: "80.00"}' in book.source


def test_an_entry_whose_name_is_taken_is_refused_plainly(url: str) -> None:
    with _client(url, "admin") as c:
        form = _form(c.get(EDIT).text)
        form.update({"y/version": "2026-09", "new/rule/id": "no_show", "new/rule/kind": "forbidden",
                     "action": "preview"})
        answer = c.post(EDIT, data=form)
        assert answer.status_code == 422
        assert "no_show is taken already in this rulebook" in answer.text


def test_a_posted_text_that_is_no_rulebook_is_refused_with_a_page_not_a_traceback(url: str) -> None:
    with _client(url, "operator") as c:
        form = _form(c.get(EDIT).text)
        for base in ("- a list\n- not a mapping\n", "a: [unclosed\n", "a: &a [x, x]\n" + "".join(
                f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8))):
            answer = c.post(EDIT, data={**form, "base": base, "action": "preview"})
            assert answer.status_code == 400, (base, answer.text[:500])
            assert "text/html" in answer.headers["content-type"]
        assert c.post(EDIT, data={**form, "base": "x" * (1024 * 1024 + 1)}).status_code in (400, 413)


def test_a_what_if_done_before_its_page_is_drawn_shows_its_result_by_name(url: str,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """On a small workspace the what-if may end before the editor's page is drawn: the page then shows its
    result, naming the counterparties (the real job, only waited for here so that the order is certain)."""
    started = what_if_jobs.start

    def finished_first(*args: Any, **kwargs: Any) -> what_if_jobs.Job:
        job = started(*args, **kwargs)
        deadline = time.monotonic() + 60
        while job.running and time.monotonic() < deadline:
            time.sleep(0.05)
        assert job.result is not None, job.error
        return job

    monkeypatch.setattr(what_if_jobs, "start", finished_first)
    with _client(url, "admin") as c:
        form = _form(c.get(EDIT).text)
        form.update({"y/ladders/attendance/steps/2/fee": "40.00", "y/version": "2026-06", "action": "preview"})
        preview = c.post(EDIT, data=form)
        assert preview.status_code == 200, preview.text[:2000]
        names = {r.key: r.name for r in listing.scan(bootstrap.store(url, "editor-it")).rows if r.name}
        shown = re.findall(r'href="/counterparties/([^"]+)"[^>]*>([^<]+)<', preview.text)
        assert shown and all(names.get(key, key) == html.unescape(name) for key, name in shown)
        assert any(key in names for key, _ in shown)  # named, not only keys
