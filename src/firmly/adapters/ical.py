"""iCalendar files (RFC 5545 exports and iTIP messages, RFC 5546) read with the `icalendar` library into plain
values the pure mapping (domain/connectors/ical.py) compares with what the feed said before."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import icalendar

from firmly.domain.clock import iso, to_us
from firmly.domain.errors import FirmlyError


def _when(value: Any, zone: str) -> str | None:
    moment = getattr(value, "dt", value)
    if isinstance(moment, datetime):
        if moment.tzinfo is None:  # a "floating" time: the workspace's zone
            from zoneinfo import ZoneInfo  # noqa: PLC0415

            moment = moment.replace(tzinfo=ZoneInfo(zone))
        return iso(to_us(moment))
    if isinstance(moment, date):
        return iso(to_us(datetime(moment.year, moment.month, moment.day, tzinfo=UTC)))
    return None


def _address(value: Any) -> str | None:
    text = str(value or "")
    return text[7:] if text.lower().startswith("mailto:") else (text or None)


def read(text: bytes, where: str, zone: str) -> dict[str, Any]:
    """{"method", "events": [{"uid", "sequence", "start", "status", "summary", "organizer", "attendees": [{"email",
    "name", "partstat"}], "stamp", "modified", "created"}]} of one calendar file."""
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except ValueError as exc:
        raise FirmlyError(f"{where}: is not an iCalendar file ({exc})") from None
    events = []
    for vevent in calendar.walk("VEVENT"):
        attendees = vevent.get("ATTENDEE") or []
        if not isinstance(attendees, list):
            attendees = [attendees]
        events.append({
            "uid": str(vevent.get("UID") or ""),
            "sequence": int(vevent.get("SEQUENCE") or 0),
            "start": _when(vevent.get("DTSTART"), zone) if vevent.get("DTSTART") else None,
            "status": str(vevent.get("STATUS") or "").upper() or None,
            "summary": str(vevent.get("SUMMARY") or "") or None,
            "organizer": _address(vevent.get("ORGANIZER")),
            "attendees": [{"email": _address(a), "name": str(a.params.get("CN") or "") or None,
                           "partstat": str(a.params.get("PARTSTAT") or "").upper() or None} for a in attendees],
            "stamp": _when(vevent.get("DTSTAMP"), zone) if vevent.get("DTSTAMP") else None,
            "modified": _when(vevent.get("LAST-MODIFIED"), zone) if vevent.get("LAST-MODIFIED") else None,
            "created": _when(vevent.get("CREATED"), zone) if vevent.get("CREATED") else None,
        })
    method = calendar.get("METHOD")
    return {"method": str(method).upper() if method else None, "file": where, "events": events}
