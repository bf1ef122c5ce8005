"""Square Appointments webhooks: booking.created and booking.updated (CANCELLED_BY_CUSTOMER,
CANCELLED_BY_SELLER, DECLINED, NO_SHOW, a moved `start_at`).

Followed: developer.squareup.com/reference/square/webhooks/booking.created and booking.updated (the body is
`{"merchant_id", "type", "event_id", "created_at", "data": {"type": "booking", "id", "object": {"booking":
{...}}}}`, the Booking object with `id`, `version`, `status`, `created_at`, `updated_at`, `start_at`,
`customer_id`, `appointment_segments`, `creator_details`), and "Validate and verify notifications"
(developer.squareup.com/docs/webhooks/step3validate): `x-square-hmacsha256-signature` is the base64
HMAC-SHA256 of the notification URL followed by the raw body, keyed with the subscription's signature key.

Square sends the whole booking on every change and never says what changed: the connector remembers each
booking's `start_at` (as it keeps aliases), so a moved visit is a reschedule and a booking re-sent unchanged
stores nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
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
    header,
    need,
    occurred,
    when,
)

SOURCE = "square"
SIGNATURE = "x-square-hmacsha256-signature"
CANCELLED = {"CANCELLED_BY_CUSTOMER": "client", "CANCELLED_BY_SELLER": "provider", "DECLINED": "provider"}


def verify(secret: str, body: bytes, headers: Mapping[str, str], now: int, url: str) -> None:
    presented = header(headers, SIGNATURE)
    expected = base64.b64encode(hmac.new(secret.encode(), url.encode() + body, hashlib.sha256).digest()).decode()
    if not presented or not hmac.compare_digest(expected, presented.strip()):
        raise BadSignature(f"the {SIGNATURE} header does not match the notification URL and body signed with "
                           "this connector's signature key (is the connector's --url the one Square calls?)")


def _booking(body: Mapping[str, Any]) -> Mapping[str, Any]:
    found = need(body, "data.object.booking")
    if not isinstance(found, Mapping):
        raise Unmappable("data.object.booking", "must be a Booking object")
    return found


def _moment_key(booking_id: str) -> str:
    return f"{booking_id}#start_at"


def vendor_ids(body: Mapping[str, Any]) -> list[str]:
    try:
        booking_id = str(_booking(body).get("id") or "")
    except Unmappable:
        return []
    return [booking_id, _moment_key(booking_id)] if booking_id else []


def translate(body: Mapping[str, Any], ctx: Context) -> Mapped:
    kind = body.get("type")
    if kind not in ("booking.created", "booking.updated"):
        return Mapped(ignored=f"{kind} is not a booking change firmly follows")
    b = _booking(body)
    booking_id = str(need(b, "id"))
    status = str(b.get("status") or "")
    key = counterparty(SOURCE, None, need(b, "customer_id"), None, ctx.options)
    first = appointment(ctx, booking_id)
    starts = when(need(b, "start_at"), "data.object.booking.start_at")
    out = Mapped()
    if kind == "booking.created" or _moment_key(booking_id) not in ctx.aliases:
        at, time_from = occurred(body, "data.object.booking.created_at", "created_at")
        data: dict[str, Any] = {"appointment": first, "starts_at": starts}
        segments = b.get("appointment_segments")
        if isinstance(segments, list) and segments and isinstance(segments[0], Mapping):
            service = segments[0].get("service_variation_id")
            if service:
                data["service"] = str(service)
        out.events.append(envelope(event_id(SOURCE, booking_id, "booked"), "appointment.booked", key, at, data,
                                   time_from))
        out.aliases[_moment_key(booking_id)] = starts
    at, time_from = occurred(body, "data.object.booking.updated_at", "created_at")
    if status in CANCELLED:
        out.events.append(envelope(event_id(SOURCE, booking_id, "cancelled"), "appointment.cancelled", key, at,
                                   {"appointment": first, "by": CANCELLED[status]}, time_from))
    elif status == "NO_SHOW":
        out.events.append(envelope(event_id(SOURCE, booking_id, "no_show"), "appointment.no_show", key, at,
                                   {"appointment": first}, time_from))
    elif kind == "booking.updated" and ctx.aliases.get(_moment_key(booking_id)) not in (None, starts):
        by = "client" if (b.get("creator_details") or {}).get("creator_type") == "CUSTOMER" else "unknown"
        version = b.get("version") or starts
        out.events.append(envelope(event_id(SOURCE, booking_id, "moved", version), "appointment.rescheduled", key, at,
                                   {"appointment": first, "starts_at": starts, "by": by}, time_from))
        out.aliases[_moment_key(booking_id)] = starts
    return out
