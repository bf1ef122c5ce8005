"""Cal.com webhooks: BOOKING_CREATED, BOOKING_RESCHEDULED, BOOKING_CANCELLED (with `requestReschedule`) and
BOOKING_NO_SHOW_UPDATED (`noShow` true and false).

Followed: Cal.com's webhook docs (cal.com/docs/developing/guides/automation/webhooks): the body is
`{"triggerEvent", "createdAt", "payload"}`, signed with `X-Cal-Signature-256` = hex HMAC-SHA256 of the raw body
with the webhook's secret; the booking payload (CalendarEvent) carries `uid`, `startTime`, `type`, `title`,
`organizer`, `attendees[]`, and for a reschedule `rescheduleUid` (the booking it replaces) and `rescheduledBy`,
for a cancellation `cancelledBy` and `cancellationReason`; calcom/cal.com
packages/trpc/server/routers/publicViewer/noShow.handler.ts sends BOOKING_NO_SHOW_UPDATED as
`{"message", "attendees": [{"email", "noShow"}], "bookingUid", "bookingId"}`.

Cal.com does not send when a booking was made or cancelled inside the payload: the envelope's `createdAt`
(the moment Cal.com fired the webhook) dates every event.
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
    get,
    header,
    hmac_hex,
    need,
    occurred,
    same,
    when,
)

SOURCE = "calcom"
SIGNATURE = "X-Cal-Signature-256"
TIMES = ("createdAt",)


def verify(secret: str, body: bytes, headers: Mapping[str, str], now: int, url: str) -> None:
    if not same(hmac_hex(secret, body), header(headers, SIGNATURE)):
        raise BadSignature(f"the {SIGNATURE} header does not match the body signed with this connector's secret")


def vendor_ids(body: Mapping[str, Any]) -> list[str]:
    p = body.get("payload") if isinstance(body.get("payload"), Mapping) else {}
    assert isinstance(p, Mapping)
    return [str(v) for v in (p.get("uid"), p.get("rescheduleUid"), p.get("bookingUid")) if v]


def _attendee(p: Mapping[str, Any]) -> Mapping[str, Any]:
    attendees = p.get("attendees")
    if not isinstance(attendees, list) or not attendees or not isinstance(attendees[0], Mapping):
        raise Unmappable("payload.attendees", "names no attendee")
    first: Mapping[str, Any] = attendees[0]
    return first


def _who(p: Mapping[str, Any], by_email: object) -> str:
    """Whose act it was, from the e-mail Cal.com names: the attendee's is the client's, the organizer's the
    provider's; anything else (or nothing) is unknown."""
    if not isinstance(by_email, str) or not by_email:
        return "unknown"
    attendee = get(p, "attendees")
    emails = {str(a.get("email", "")).lower() for a in attendee or [] if isinstance(a, Mapping)}
    if by_email.lower() in emails:
        return "client"
    if by_email.lower() == str(get(p, "organizer.email") or "").lower():
        return "provider"
    return "unknown"


def translate(body: Mapping[str, Any], ctx: Context) -> Mapped:
    trigger = body.get("triggerEvent")
    p = body.get("payload")
    if trigger == "PING" or not isinstance(p, Mapping):
        return Mapped(ignored=f"{trigger or 'a delivery'} carries no booking")
    at, time_from = occurred(body, *TIMES)
    if trigger == "BOOKING_NO_SHOW_UPDATED":
        return _no_show(p, ctx, at, time_from)
    if trigger not in ("BOOKING_CREATED", "BOOKING_RESCHEDULED", "BOOKING_CANCELLED"):
        return Mapped(ignored=f"{trigger} is not a booking change firmly follows")
    uid = str(need(p, "uid"))
    person = _attendee(p)
    key = counterparty(SOURCE, person.get("email"), person.get("id"), person.get("phoneNumber"), ctx.options)
    out = Mapped()
    if trigger == "BOOKING_CANCELLED":
        by = "provider" if p.get("requestReschedule") else _who(p, p.get("cancelledBy"))
        data: dict[str, Any] = {"appointment": appointment(ctx, uid), "by": by}
        if p.get("cancellationReason"):
            data["reason"] = str(p["cancellationReason"])
        if p.get("requestReschedule"):
            data["reschedule_requested"] = True
        out.events.append(envelope(event_id(SOURCE, uid, "cancelled"), "appointment.cancelled", key, at, data,
                                   time_from))
        return out
    starts = when(need(p, "startTime"), "payload.startTime")
    upsert: dict[str, Any] = {"kind": "client"}
    if person.get("name"):
        upsert["name"] = str(person["name"])
    if person.get("email"):
        upsert["email"] = str(person["email"]).lower()
    locale = get(person, "language.locale")
    if locale in ("ru", "en"):
        upsert["locale"] = locale
    if person.get("timeZone"):
        upsert["timezone"] = str(person["timeZone"])
    service = p.get("type") or p.get("title")
    if trigger == "BOOKING_RESCHEDULED" and p.get("rescheduleUid"):
        first = appointment(ctx, str(p["rescheduleUid"]))
        out.aliases[uid] = first
        data = {"appointment": first, "starts_at": starts, "by": _who(p, p.get("rescheduledBy"))}
        out.events.append(envelope(event_id(SOURCE, uid, "rescheduled"), "appointment.rescheduled", key, at, data,
                                   time_from))
        return out
    out.events.append(envelope(event_id(SOURCE, uid, "client"), "counterparty.upserted", key, at, upsert,
                               time_from))
    data = {"appointment": appointment(ctx, uid), "starts_at": starts}
    if service:
        data["service"] = str(service)
    out.events.append(envelope(event_id(SOURCE, uid, "booked"), "appointment.booked", key, at, data, time_from))
    return out


def _no_show(p: Mapping[str, Any], ctx: Context, at: str, time_from: str) -> Mapped:
    uid = str(need(p, "bookingUid"))
    attendees = p.get("attendees")
    if not isinstance(attendees, list) or not attendees:
        raise Unmappable("payload.attendees", "names no attendee whose attendance changed")
    out = Mapped()
    for n, person in enumerate(attendees):
        if not isinstance(person, Mapping) or not isinstance(person.get("noShow"), bool):
            raise Unmappable(f"payload.attendees[{n}].noShow", "must be true or false")
        key = counterparty(SOURCE, person.get("email"), person.get("id"), None, ctx.options)
        marked = event_id(SOURCE, uid, "no_show", key)
        if person["noShow"]:
            out.events.append(envelope(marked, "appointment.no_show", key, at,
                                       {"appointment": appointment(ctx, uid)}, time_from))
        else:
            out.events.append(envelope(event_id(SOURCE, uid, "no_show", key, "retracted"), "event.retracted", key,
                                       at, {"event": marked, "reason": "Cal.com: the no-show mark was taken back"},
                                       time_from))
    return out
