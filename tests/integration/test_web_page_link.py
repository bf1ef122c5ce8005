"""The staff's counterparty page shows the client's own page link to copy and a Revoke button (admin and
operator); revoking asks first in plain words (ru and en), needs the form's CSRF token, and ends every link
made before. In process, on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest

from tests.integration.test_web import Site, csrf, demo_site
from tests.own_pages import path_of

WS = "web-link"


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    yield from demo_site(database_url, WS, "link-")


def shown_link(page: str) -> str:
    found = re.search(r'id="own-page-link"[^>]*value="([^"]+)"', page)
    assert found is not None, "no link to the client's own page"
    return html.unescape(found.group(1))


def test_an_operator_copies_the_link_and_revokes_every_link_after_confirming(site: Site) -> None:
    with site.client() as c, site.client() as client:
        site.login(c, "link-operator@example.org")
        page = c.get("/counterparties/tom").text
        assert "The client&#39;s own page" in page or "The client's own page" in page
        link = shown_link(page)
        assert f"/my/{WS}/" in link and 'data-copy="own-page-link"' in page
        opened = client.get(path_of(link))  # the client, with no login
        assert opened.status_code == 200 and "Tom Baker" in opened.text

        token = csrf(page)
        assert c.post("/counterparties/tom/link/revoke", data={"csrf": "forged", "confirmed": "yes"}).status_code == 403
        asked = c.post("/counterparties/tom/link/revoke", data={"csrf": token})
        assert asked.status_code == 200
        assert "Are you sure?" in asked.text and "stops working" in asked.text and 'name="confirmed"' in asked.text
        assert client.get(path_of(link)).status_code == 200, "asking is not revoking"

        done = c.post("/counterparties/tom/link/revoke", data={"csrf": token, "confirmed": "yes"},
                      follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/counterparties/tom?revoked=1"
        after = c.get(done.headers["location"]).text
        assert "Every earlier link to this page has stopped working." in after
        refused = client.get(path_of(link))
        assert refused.status_code == 403 and "Tom Baker" not in refused.text
        fresh = shown_link(after)
        assert fresh != link and client.get(path_of(fresh)).status_code == 200
        missing = c.post("/counterparties/nobody/link/revoke", data={"csrf": token, "confirmed": "yes"})
        assert missing.status_code == 404


def test_the_confirmation_speaks_russian(site: Site) -> None:
    with site.client() as c:
        site.login(c, "link-admin@example.org")
        token = csrf(c.get("/counterparties/tom").text)
        c.post("/lang", data={"csrf": token, "lang": "ru", "next": "/"})
        page = c.get("/counterparties/tom").text
        assert "Страница клиента" in page and "Отозвать все ссылки на эту страницу" in page
        asked = c.post("/counterparties/tom/link/revoke", data={"csrf": token}).text
        assert "Отзыв ссылок на страницу клиента Tom Baker" in asked
        assert "Да, отозвать ссылки" in asked and "Нет, пусть работают" in asked


def test_a_viewer_sees_no_link_and_may_not_revoke(site: Site) -> None:
    with site.client() as staff:
        site.login(staff, "link-admin@example.org")
        link = shown_link(staff.get("/counterparties/tom").text)
    with site.client() as c:
        site.login(c, "link-viewer@example.org")
        page = c.get("/counterparties/tom").text
        assert "Tom Baker" in page and "own-page-link" not in page and "/link/revoke" not in page
        refused = c.post("/counterparties/tom/link/revoke", data={"csrf": csrf(page), "confirmed": "yes"})
        assert refused.status_code == 403
        assert c.get(path_of(link)).status_code == 200, "the viewer's attempt revoked nothing"
