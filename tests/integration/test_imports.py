"""`firmly import ical`: successive calendar snapshots and iTIP messages become bookings, reschedules and
cancellations under the clinic example, on SQLite and PostgreSQL; the same snapshot again stores nothing."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from firmly.doors.cli import app

CLINIC = Path(__file__).resolve().parents[2] / "src" / "firmly" / "examples" / "clinic-en" / "rulebook.yaml"


class Cli:
    def __init__(self, database_url: str) -> None:
        self.args = ["--db", database_url, "-w", f"imports-{uuid.uuid4().hex[:8]}"]
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int = 0) -> str:
        result = self.runner.invoke(app, [*args, *self.args])
        assert result.exit_code == code, result.output
        return result.output

    def json(self, *args: str, code: int = 0) -> Any:
        return json.loads(self(*args, "--json", code=code))


def vevent(uid: str, start: str, stamp: str, sequence: int = 0, status: str = "CONFIRMED",
           partstat: str = "ACCEPTED") -> str:
    return (f"BEGIN:VEVENT\r\nUID:{uid}\r\nSEQUENCE:{sequence}\r\nDTSTAMP:{stamp}\r\n"
            f"DTSTART;TZID=Europe/London:{start}\r\nDTEND;TZID=Europe/London:{start[:-4]}3000\r\n"
            f"SUMMARY:Check-up\r\nSTATUS:{status}\r\nORGANIZER;CN=Dr Hale:mailto:hale@brightsmile.example\r\n"
            f"ATTENDEE;CN=Jane Roe;PARTSTAT={partstat}:mailto:Jane.Roe@Example.com\r\nEND:VEVENT\r\n")


def calendar(*events: str, method: str | None = None) -> bytes:
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Bright Smile//Bookings//EN\r\n"
    if method:
        head += f"METHOD:{method}\r\n"
    return (head + "".join(events) + "END:VCALENDAR\r\n").encode()


def test_ical_snapshots_and_itip_messages(database_url: str, tmp_path: Path) -> None:
    cli = Cli(database_url)
    cli("init", "--locale", "en", "--timezone", "Europe/London")
    cli("rulebook", "load", str(CLINIC))
    first = tmp_path / "feed-1.ics"
    first.write_bytes(calendar(vevent("a1@clinic", "20261120T100000", "20261110T090000Z"),
                               vevent("b1@clinic", "20261125T100000", "20261110T090000Z")))
    second = tmp_path / "feed-2.ics"  # a1 moved (SEQUENCE 1), b1 cancelled 4 hours before
    second.write_bytes(calendar(vevent("a1@clinic", "20261121T100000", "20261112T090000Z", sequence=1),
                                vevent("b1@clinic", "20261125T100000", "20261125T060000Z", sequence=1,
                                       status="CANCELLED")))
    answer = cli.json("import", "ical", str(first), str(second))
    assert [f["stored"] for f in answer["files"]] == [4, 2]
    again = cli.json("import", "ical", str(second))
    assert again["files"][0]["stored"] == 0 and again["connector"] == answer["connector"]

    rows = cli.json("events", "--source", answer["connector"])
    assert [(r["type"], r["data"].get("appointment"), r["data"].get("starts_at")) for r in rows
            if r["type"] != "counterparty.upserted"] == [
        ("appointment.booked", "ical:a1@clinic", "2026-11-20T10:00:00+00:00"),
        ("appointment.booked", "ical:b1@clinic", "2026-11-25T10:00:00+00:00"),
        ("appointment.rescheduled", "ical:a1@clinic", "2026-11-21T10:00:00+00:00"),
        ("appointment.cancelled", "ical:b1@clinic", None)]
    assert {r["counterparty"] for r in rows} == {"jane.roe@example.com"}
    kept = json.loads(cli("connector", "payload", "ical:b1@clinic:cancelled").split("\n", 1)[1])
    assert kept["file"] == "feed-2.ics" and kept["events"][1]["status"] == "CANCELLED"  # the delivery, for audit
    # A calendar does not say who cancelled: by unknown, no strike
    assert [d for d in cli.json("decisions", "--counterparty", "jane.roe@example.com")
            if d["action"] == "feedback"] == []

    # iTIP: the attendee declines (a cancellation by the client, 3 hours before: a strike); an organizer's CANCEL
    invite = tmp_path / "invite.ics"
    invite.write_bytes(calendar(vevent("c1@clinic", "20261127T100000", "20261120T090000Z"), method="REQUEST"))
    declined = tmp_path / "reply.ics"
    declined.write_bytes(calendar(vevent("c1@clinic", "20261127T100000", "20261127T070000Z",
                                         partstat="DECLINED"), method="REPLY"))
    cli.json("import", "ical", str(invite), str(declined))
    strikes = [d for d in cli.json("decisions", "--counterparty", "jane.roe@example.com") if d["action"] == "feedback"]
    assert [d["event"] for d in strikes] == ["ical:c1@clinic:cancelled"]

    # No attendee: not imported, kept as a dead letter, exit 1 with the reason
    lonely = tmp_path / "lonely.ics"
    lonely.write_bytes(calendar("BEGIN:VEVENT\r\nUID:d1@clinic\r\nDTSTAMP:20261110T090000Z\r\n"
                                "DTSTART:20261130T100000Z\r\nEND:VEVENT\r\n"))
    output = cli("import", "ical", str(lonely), code=1)
    assert "ATTENDEE" in output and "dead letter" in output
    not_ics = tmp_path / "notes.ics"
    not_ics.write_text("hello")
    assert "is not an iCalendar file" in cli("import", "ical", str(not_ics), code=1)


CALCOM_COLUMNS = ["id", "uid", "title", "createdAt", "timeStatus", "eventTypeId", "eventLength", "startTime", "endTime",
                  "paid", "userEmail", "userUsername", "rating", "ratingFeedback", "noShowHost", "noShowGuests",
                  "noShowGuestsCount", "attendee1"]


def calcom_export(path: Path, *rows: dict[str, Any]) -> Path:
    """Cal.com's bookings export (Insights -> Download): one row per booking as it stands."""
    lines = [",".join(CALCOM_COLUMNS)]
    for n, row in enumerate(rows, 1):
        base = {"id": str(n), "title": "Check-up", "eventTypeId": "12", "eventLength": "30", "paid": "false",
                "userEmail": "hale@brightsmile.example", "userUsername": "hale", "rating": "",
                "ratingFeedback": "", "noShowHost": "false", "noShowGuests": "", "noShowGuestsCount": "0",
                "attendee1": "Jane Roe (Jane.Roe@Example.com)"}
        merged = {**base, **row}
        lines.append(",".join(f'"{merged.get(c, "")}"' for c in CALCOM_COLUMNS))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_csv_exports_through_the_shipped_calcom_map(database_url: str, tmp_path: Path) -> None:
    cli = Cli(database_url)
    cli("init", "--locale", "en", "--timezone", "Europe/London")
    cli("rulebook", "load", str(CLINIC))
    first = calcom_export(tmp_path / "bookings-1.csv",
                          {"uid": "u1", "createdAt": "2026-11-10T09:00:00.000Z", "timeStatus": "uncompleted",
                           "startTime": "2026-11-20T10:00:00.000Z", "endTime": "2026-11-20T10:30:00.000Z"},
                          {"uid": "u2", "createdAt": "2026-11-11T09:00:00.000Z", "timeStatus": "uncompleted",
                           "startTime": "2026-11-22T10:00:00.000Z", "endTime": "2026-11-22T10:30:00.000Z"})
    second = calcom_export(tmp_path / "bookings-2.csv",
                           {"uid": "u1", "createdAt": "2026-11-10T09:00:00.000Z", "timeStatus": "completed",
                            "startTime": "2026-11-20T10:00:00.000Z", "noShowGuestsCount": "1",
                            "noShowGuests": "Jane Roe (Jane.Roe@Example.com)"},
                           {"uid": "u2", "createdAt": "2026-11-11T09:00:00.000Z", "timeStatus": "cancelled",
                            "startTime": "2026-11-22T10:00:00.000Z"})
    answer = cli.json("import", "csv", str(first), str(second), "--map", "calcom")
    assert [f["stored"] for f in answer["files"]] == [4, 2]
    assert cli.json("import", "csv", str(second), "--map", "calcom")["files"][0]["stored"] == 0
    rows = cli.json("events", "--source", answer["connector"])
    assert [(r["type"], r["data"].get("appointment")) for r in rows if r["type"] != "counterparty.upserted"] == [
        ("appointment.booked", "csv:u1"), ("appointment.booked", "csv:u2"), ("appointment.cancelled", "csv:u2"),
        ("appointment.no_show", "csv:u1")]
    no_show = next(r for r in rows if r["type"] == "appointment.no_show")
    assert (no_show["occurred_at"], no_show["data"]["time_from"]) == ("2026-11-20T10:00:00+00:00", "column startTime")
    assert {r["counterparty"] for r in rows} == {"jane.roe@example.com"}
    assert [r["data"]["time_from"] for r in rows][:1] == ["column createdAt"]
    # A map naming a column the file lacks, and a map with a wrong field: clear errors, nothing stored
    bad_map = tmp_path / "map.yaml"
    bad_map.write_text("columns:\n  id: Booking\n  starts_at: Start\n  changed_at: Created\n  colour: Colour\n")
    assert "columns.colour" in cli("import", "csv", str(first), "--map", str(bad_map), code=1)
    bad_map.write_text("columns:\n  id: Booking\n  starts_at: Start\n  changed_at: Created\n")
    assert "does not have: Booking, Created, Start" in cli("import", "csv", str(first), "--map", str(bad_map), code=1)
