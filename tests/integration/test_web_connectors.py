"""The connectors' pages (admins): add one and see its secret once, its dead letters run again, a calendar
uploaded; other roles are refused. In process (ASGI client), on SQLite and PostgreSQL, over the clinic demo."""

from __future__ import annotations

import re

from tests.integration.test_imports import calendar, vevent
from tests.integration.test_web import Site, csrf, site

__all__ = ["site"]


def test_an_admin_adds_a_connector_reruns_its_dead_letters_and_uploads_a_calendar(site: Site) -> None:
    with site.client() as c:
        site.login(c, "admin@example.org")
        listed = c.get("/connectors")
        assert listed.status_code == 200 and "Cal.com" in listed.text
        made = c.post("/connectors", data={"csrf": csrf(listed.text), "source": "calcom", "name": "Front desk",
                                           "key": "email", "attended_after": "2h"})
        assert made.status_code == 200 and "shown once" in made.text
        found = re.search(r"/v1/hooks/(hk[0-9a-f]+)", made.text)
        assert found is not None
        connector = found.group(1)
        assert "attended after" in made.text

        hooks = c.post(f"/v1/hooks/{connector}", content=b"{not json", headers={"X-Cal-Signature-256": "x"})
        assert hooks.status_code == 401  # signed with another secret: refused, nothing kept
        page = c.get(f"/connectors/{connector}")
        assert "None." in page.text

        upload = c.post("/connectors/import", data={"csrf": csrf(page.text), "map": "calcom"}, files={
            "file": ("feed.ics", calendar(vevent("w1@clinic", "20261120T100000", "20261110T090000Z")),
                     "text/calendar")})
        assert upload.status_code == 200 and "feed.ics: 2 events stored" in upload.text
        lonely = calendar("BEGIN:VEVENT\r\nUID:w2@clinic\r\nDTSTAMP:20261110T090000Z\r\n"
                          "DTSTART:20261130T100000Z\r\nEND:VEVENT\r\n")
        refused = c.post("/connectors/import", data={"csrf": csrf(upload.text), "map": "calcom"},
                         files={"file": ("lonely.ics", lonely, "text/calendar")})
        assert refused.status_code == 422 and "was not imported" in refused.text
        feed = re.search(r'href="/connectors/(hk[0-9a-f]+)">iCalendar files', refused.text)
        assert feed is not None
        letters = c.get(f"/connectors/{feed.group(1)}")
        assert "ATTENDEE" in letters.text and "Run them again" in letters.text
        again = c.post(f"/connectors/{feed.group(1)}/rerun", data={"csrf": csrf(letters.text)},
                       follow_redirects=False)
        assert again.status_code == 303
        assert "Events it stored" in c.get(f"/connectors/{feed.group(1)}").text

        removed = c.post(f"/connectors/{connector}/remove", data={"csrf": csrf(letters.text)}, follow_redirects=False)
        assert removed.status_code == 303
        assert c.get(f"/connectors/{connector}").status_code == 404


def test_only_admins_see_connectors(site: Site) -> None:
    for role in ("operator", "viewer"):
        with site.client() as c:
            site.login(c, f"{role}@example.org")
            assert c.get("/connectors").status_code == 403
            assert 'href="/connectors"' not in c.get("/").text
