"""The agenda: today's and this week's appointments with their reminders and the counterparty's standing, as
a receptionist reads it (the page, in English and Russian) over the clinic example."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from firmly import bootstrap
from firmly.domain.clock import parse_instant
from firmly.service import agenda, demo, ingest, users
from tests.integration.test_web import PASSWORD, Site, csrf


def booking(n: int, who: str, booked: str, starts: str) -> list[dict[str, Any]]:
    return [{"id": f"ag-{n}", "type": "appointment.booked", "counterparty": who, "occurred_at": booked,
             "data": {"appointment": f"ag-{n}", "starts_at": starts, "service": "check-up", "price": "60.00"}}]


def clinic(tmp_path: Path) -> Site:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    store = bootstrap.store(url, "w")
    demo.demo(store, "clinic-en", 0)
    users.create(store, "agenda-desk@example.org", "operator", PASSWORD, 0)
    ingest.ingest(store, ingest.parsed("today", [
        *booking(1, "tom", "2026-06-10T08:00:00+01:00", "2026-06-10T15:00:00+01:00"),   # today, Tom must prepay
        *booking(2, "anna", "2026-06-10T08:05:00+01:00", "2026-06-13T11:00:00+01:00"),  # later this week
        *booking(3, "anna", "2026-06-10T08:06:00+01:00", "2026-07-20T11:00:00+01:00"),  # next month: not shown
    ]))
    return Site(url, "w")


def test_today_and_this_week_with_reminders_and_standing(tmp_path: Path) -> None:
    site = clinic(tmp_path)
    today = agenda.agenda(site.store, "day")
    assert [(i.counterparty, i.ref) for i in today.items] == [("tom", "ag-1")]
    (tom,) = today.items
    assert tom.at == parse_instant("2026-06-10T15:00:00+01:00")
    assert tom.standing == "restricted" and [t for t, _ in tom.restrictions] == ["require_prepayment"]
    assert tom.reminders == (parse_instant("2026-06-10T13:00:00+01:00"),), "the 24-hour one was already due"
    week = agenda.agenda(site.store, "week")
    assert [(i.counterparty, i.ref) for i in week.items] == [("tom", "ag-1"), ("anna", "ag-2")]
    assert len(week.items[1].reminders) == 2 and week.items[1].standing == "active"


def test_the_page_in_english_and_russian(tmp_path: Path) -> None:
    site = clinic(tmp_path)
    with site.client() as c:
        site.login(c, "agenda-desk@example.org")
        page = c.get("/agenda").text
        assert "Tom Baker" in page and "appointment ag-1" in page and "prepayment required until" in page
        assert "1 to go, next" in page and "ag-2" not in page
        week = c.get("/agenda?span=week").text
        assert "ag-2" in week and "2 to go, next" in week and "ag-3" not in week
        c.post("/lang", data={"csrf": csrf(page), "lang": "ru"})
        russian = c.get("/agenda").text
        assert "Расписание" in russian and "предоплат" in russian
