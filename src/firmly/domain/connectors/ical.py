"""iCalendar feeds and iTIP messages (RFC 5545, RFC 5546), already read into plain values (adapters/ical.py):
successive snapshots of one feed are compared with what the connector remembers of each UID.

- a UID not seen before is a booking (`appointment.booked`);
- a higher SEQUENCE with a new DTSTART is a reschedule;
- STATUS:CANCELLED, or an iTIP `METHOD:CANCEL`, is a cancellation (`by: unknown`: a calendar does not say
  whose); an iTIP `METHOD:REPLY` in which the attendee DECLINED is a cancellation by the client;
- the same snapshot imported again stores nothing.

The client is the first attendee who is not the organizer, by e-mail in lower case. Times: LAST-MODIFIED,
else DTSTAMP, else CREATED (`time_from` says which).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from firmly.domain.connectors.common import (
    BadSignature,
    Context,
    Mapped,
    Unmappable,
    appointment,
    counterparty,
    envelope,
    event_id,
)

SOURCE = "ical"


def verify(secret: str, body: bytes, headers: Mapping[str, str], now: int, url: str) -> None:
    raise BadSignature("calendar files are imported (`firmly import ical FILE`), not posted")


def vendor_ids(body: Mapping[str, Any]) -> list[str]:
    return [f"{e.get('uid')}#{part}" for e in body.get("events") or [] if isinstance(e, Mapping)
            for part in ("start", "sequence")]


def translate(body: Mapping[str, Any], ctx: Context) -> Mapped:
    method = body.get("method")
    out = Mapped()
    for n, e in enumerate(body.get("events") or []):
        where = f"VEVENT {n + 1}"
        uid = str(e.get("uid") or "")
        if not uid:
            raise Unmappable(f"{where}.UID", "is missing")
        at, time_from = next(((e[k], name) for k, name in (("modified", "LAST-MODIFIED"), ("stamp", "DTSTAMP"),
                                                           ("created", "CREATED")) if e.get(k)), (None, ""))
        if at is None:
            raise Unmappable(f"{where} ({uid}).DTSTAMP", "no LAST-MODIFIED, DTSTAMP or CREATED to date it by")
        organizer = str(e.get("organizer") or "").lower()
        people = [a for a in e.get("attendees") or [] if str(a.get("email") or "").lower() != organizer]
        if not people:
            raise Unmappable(f"{where} ({uid}).ATTENDEE", "names no attendee besides the organizer")
        person = people[0]
        key = counterparty(SOURCE, person.get("email"), None, None, ctx.options)
        first = appointment(ctx, uid)
        seen_start, seen_sequence = ctx.aliases.get(f"{uid}#start"), ctx.aliases.get(f"{uid}#sequence")
        sequence = int(e.get("sequence") or 0)
        declined = method == "REPLY" and person.get("partstat") == "DECLINED"
        if method == "CANCEL" or e.get("status") == "CANCELLED" or declined:
            out.events.append(envelope(event_id(SOURCE, uid, "cancelled"), "appointment.cancelled", key, at,
                                       {"appointment": first, "by": "client" if declined else "unknown"},
                                       time_from))
            continue
        start = e.get("start")
        if not start:
            raise Unmappable(f"{where} ({uid}).DTSTART", "is missing")
        if seen_start is None:
            data: dict[str, Any] = {"appointment": first, "starts_at": start}
            if e.get("summary"):
                data["service"] = str(e["summary"])
            upsert: dict[str, Any] = {"kind": "client", "email": key}
            if person.get("name"):
                upsert["name"] = str(person["name"])
            out.events.append(envelope(event_id(SOURCE, uid, "client"), "counterparty.upserted", key, at, upsert,
                                       time_from))
            out.events.append(envelope(event_id(SOURCE, uid, "booked"), "appointment.booked", key, at, data,
                                       time_from))
        elif start != seen_start and sequence > int(seen_sequence or 0):
            out.events.append(envelope(event_id(SOURCE, uid, "moved", sequence), "appointment.rescheduled", key, at,
                                       {"appointment": first, "starts_at": start, "by": "unknown"}, time_from))
        else:
            continue
        out.aliases[f"{uid}#start"] = str(start)
        out.aliases[f"{uid}#sequence"] = str(sequence)
    return out
