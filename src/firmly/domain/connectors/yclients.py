"""YCLIENTS (Altegio abroad) webhooks: a record created, updated (`attendance` 2 confirmed, 1 came, 0 waiting,
-1 did not come; a moved `datetime`) or deleted.

Followed: the YCLIENTS REST API documentation (developers.yclients.com, "Webhooks" and the Record object):
a delivery is `{"company_id", "resource": "record", "resource_id", "status": "create"|"update"|"delete",
"data": RECORD}`, the record having `id`, `client` (`id`, `name`, `phone`, `email`), `services[]`,
`datetime` and `create_date` and `last_change_date` as `2026-11-20T10:00:00+0300`, `attendance`, `deleted`.
YCLIENTS signs nothing: the connector's id in the URL (64 random bits) is what keeps strangers out, so give the
URL to YCLIENTS only.

YCLIENTS sends the whole record on each change and never says what changed: the connector remembers each
record's time and attendance, so a moved visit is a reschedule, an attendance set back from -1 withdraws the
no-show, and a record re-sent unchanged stores nothing. It does not say who deleted a record: `by: unknown`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from firmly.domain.connectors.common import (
    Context,
    Mapped,
    Unmappable,
    appointment,
    counterparty,
    envelope,
    event_id,
    need,
    occurred,
    when,
)

SOURCE = "yclients"


def verify(secret: str, body: bytes, headers: Mapping[str, str], now: int, url: str) -> None:
    """Nothing to check: YCLIENTS does not sign its webhooks (see the module's docstring)."""


def vendor_ids(body: Mapping[str, Any]) -> list[str]:
    record = body.get("data")
    rid = record.get("id") if isinstance(record, Mapping) else body.get("resource_id")
    return [f"{rid}#datetime", f"{rid}#attendance"] if rid is not None else []


def translate(body: Mapping[str, Any], ctx: Context) -> Mapped:
    if body.get("resource") != "record":
        return Mapped(ignored=f"a {body.get('resource')!r} is not a record: firmly follows records only")
    status = body.get("status")
    r = body.get("data")
    if not isinstance(r, Mapping):
        raise Unmappable("data", "must be the record")
    rid = str(need(r, "id"))
    client = r.get("client") if isinstance(r.get("client"), Mapping) else {}
    assert isinstance(client, Mapping)
    key = counterparty(SOURCE, client.get("email"), client.get("id"), client.get("phone"), ctx.options)
    first = appointment(ctx, rid)
    at, time_from = occurred(body, "data.last_change_date", "data.create_date")
    out = Mapped()
    if status == "delete" or r.get("deleted") is True:
        out.events.append(envelope(event_id(SOURCE, rid, "cancelled"), "appointment.cancelled", key, at,
                                   {"appointment": first, "by": "unknown"}, time_from))
        return out
    if status not in ("create", "update"):
        raise Unmappable("status", f"must be create, update or delete, got {status!r}")
    starts = when(need(r, "datetime"), "data.datetime")
    attendance = r.get("attendance", 0)
    if attendance not in (-1, 0, 1, 2):
        raise Unmappable("data.attendance", f"must be 2, 1, 0 or -1, got {attendance!r}")
    seen_at, seen_attendance = ctx.aliases.get(f"{rid}#datetime"), ctx.aliases.get(f"{rid}#attendance")
    if seen_at is None:
        booked_at, booked_from = occurred(body, "data.create_date", "data.last_change_date")
        upsert: dict[str, Any] = {"kind": "client"}
        for name in ("name", "phone"):
            if client.get(name):
                upsert[name] = str(client[name])
        if client.get("email"):
            upsert["email"] = str(client["email"]).lower()
        out.events.append(envelope(event_id(SOURCE, rid, "client"), "counterparty.upserted", key, booked_at,
                                   upsert, booked_from))
        data: dict[str, Any] = {"appointment": first, "starts_at": starts}
        services = r.get("services")
        if isinstance(services, list) and services and isinstance(services[0], Mapping) and services[0].get("title"):
            data["service"] = str(services[0]["title"])
        out.events.append(envelope(event_id(SOURCE, rid, "booked"), "appointment.booked", key, booked_at, data,
                                   booked_from))
    elif seen_at != starts:
        out.events.append(envelope(event_id(SOURCE, rid, "moved", starts), "appointment.rescheduled", key, at,
                                   {"appointment": first, "starts_at": starts, "by": "unknown"}, time_from))
    out.aliases[f"{rid}#datetime"] = starts
    out.aliases[f"{rid}#attendance"] = str(attendance)
    if str(attendance) == seen_attendance:
        return out
    no_show = event_id(SOURCE, rid, "no_show")
    if seen_attendance == "-1":  # the "did not come" mark is taken back
        out.events.append(envelope(event_id(SOURCE, rid, "no_show", "retracted", attendance), "event.retracted",
                                   key, at, {"event": no_show, "reason": "YCLIENTS: the attendance was changed"},
                                   time_from))
    if attendance == -1:
        out.events.append(envelope(no_show, "appointment.no_show", key, at, {"appointment": first}, time_from))
    elif attendance == 1:
        out.events.append(envelope(event_id(SOURCE, rid, "attended"), "appointment.attended", key, at,
                                   {"appointment": first}, time_from))
    return out
