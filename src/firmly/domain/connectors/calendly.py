"""Calendly webhooks (API v2): invitee.created, invitee.canceled (a reschedule is a cancellation with
`rescheduled: true` plus an invitee.created whose `old_invitee` names the first one, in either order),
invitee_no_show.created and invitee_no_show.deleted.

Followed: developer.calendly.com "Webhook payload" and "Webhook signatures": the body is `{"event",
"created_at", "created_by", "payload"}`; the payload is the Invitee resource (`uri`, `email`, `name`,
`timezone`, `status`, `rescheduled`, `old_invitee`, `new_invitee`, `created_at`, `updated_at`,
`scheduled_event` with `start_time` and `name`, `cancellation` with `canceler_type` host|invitee and
`created_at`, `no_show`); `Calendly-Webhook-Signature: t=UNIX,v1=HEX` where HEX is HMAC-SHA256 of `t + "." +
body` with the webhook signing key, and a `t` older than three minutes is refused (a replayed delivery).
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
    header,
    hmac_hex,
    need,
    occurred,
    same,
    when,
)

SOURCE = "calendly"
SIGNATURE = "Calendly-Webhook-Signature"
TOLERANCE_US = 180 * 1_000_000


def verify(secret: str, body: bytes, headers: Mapping[str, str], now: int, url: str) -> None:
    value = header(headers, SIGNATURE)
    if not value:
        raise BadSignature(f"the {SIGNATURE} header is missing")
    parts = dict(part.strip().partition("=")[::2] for part in value.split(","))
    stamp, signature = parts.get("t", ""), parts.get("v1")
    if not stamp.isdigit() or not signature:
        raise BadSignature(f"the {SIGNATURE} header must read t=SECONDS,v1=SIGNATURE")
    if not same(hmac_hex(secret, stamp.encode() + b"." + body), signature):
        raise BadSignature(f"the {SIGNATURE} header does not match the body signed with this connector's key")
    if abs(now - int(stamp) * 1_000_000) > TOLERANCE_US:
        raise BadSignature(f"the {SIGNATURE} was made more than three minutes ago: a replayed delivery")


def _short(uri: object) -> str:
    """An invitee's uuid, the last part of its URI."""
    return str(uri).rstrip("/").rpartition("/")[2]


def vendor_ids(body: Mapping[str, Any]) -> list[str]:
    p = body.get("payload")
    if not isinstance(p, Mapping):
        return []
    return [_short(v) for v in (p.get("uri"), p.get("old_invitee"), p.get("new_invitee"), p.get("invitee")) if v]


def _key(p: Mapping[str, Any], ctx: Context) -> str:
    return counterparty(SOURCE, p.get("email"), _short(p.get("uri")) if p.get("uri") else None,
                        p.get("text_reminder_number"), ctx.options)


def translate(body: Mapping[str, Any], ctx: Context) -> Mapped:
    kind = body.get("event")
    p = body.get("payload")
    if not isinstance(p, Mapping):
        raise Unmappable("payload", "is missing")
    if kind in ("invitee_no_show.created", "invitee_no_show.deleted"):
        return _no_show(body, p, ctx, kind == "invitee_no_show.created")
    if kind not in ("invitee.created", "invitee.canceled"):
        return Mapped(ignored=f"{kind} is not a booking change firmly follows")
    invitee = _short(need(p, "uri"))
    key = _key(p, ctx)
    out = Mapped()
    if kind == "invitee.canceled":
        if p.get("rescheduled"):
            # The first half of a reschedule: the booking moves, it is not cancelled. The new invitee's
            # invitee.created (with old_invitee) moves it; until then the new id is known as an alias.
            if p.get("new_invitee"):
                out.aliases[_short(p["new_invitee"])] = appointment(ctx, invitee)
            out.ignored = "the first half of a reschedule: the invitee.created that completes it moves the booking"
            return out
        at, time_from = occurred(body, "payload.cancellation.created_at", "payload.updated_at", "created_at")
        canceler = (p.get("cancellation") or {}).get("canceler_type") if isinstance(p.get("cancellation"),
                                                                                    Mapping) else None
        by = {"invitee": "client", "host": "provider"}.get(str(canceler), "unknown")
        data: dict[str, Any] = {"appointment": appointment(ctx, invitee), "by": by}
        reason = (p.get("cancellation") or {}).get("reason") if isinstance(p.get("cancellation"), Mapping) else None
        if reason:
            data["reason"] = str(reason)
        out.events.append(envelope(event_id(SOURCE, invitee, "cancelled"), "appointment.cancelled", key, at, data,
                                   time_from))
        return out
    at, time_from = occurred(body, "payload.created_at", "created_at")
    starts = when(need(p, "scheduled_event.start_time"), "payload.scheduled_event.start_time")
    if p.get("old_invitee"):
        first = appointment(ctx, _short(p["old_invitee"]))
        out.aliases[invitee] = first
        out.events.append(envelope(event_id(SOURCE, invitee, "rescheduled"), "appointment.rescheduled", key, at,
                                   {"appointment": first, "starts_at": starts, "by": "unknown"}, time_from))
        return out
    upsert: dict[str, Any] = {"kind": "client"}
    if p.get("name"):
        upsert["name"] = str(p["name"])
    if p.get("email"):
        upsert["email"] = str(p["email"]).lower()
    if p.get("timezone"):
        upsert["timezone"] = str(p["timezone"])
    out.events.append(envelope(event_id(SOURCE, invitee, "client"), "counterparty.upserted", key, at, upsert,
                               time_from))
    data = {"appointment": appointment(ctx, invitee), "starts_at": starts}
    service = (p.get("scheduled_event") or {}).get("name")
    if service:
        data["service"] = str(service)
    out.events.append(envelope(event_id(SOURCE, invitee, "booked"), "appointment.booked", key, at, data,
                               time_from))
    return out


def _no_show(body: Mapping[str, Any], p: Mapping[str, Any], ctx: Context, marked: bool) -> Mapped:
    """The payload is the invitee (with `no_show`); an older shape names the invitee's URI in `invitee`."""
    invitee = _short(p.get("invitee") or need(p, "uri"))
    key = _key(p, ctx)
    no_show = event_id(SOURCE, invitee, "no_show")
    if marked:
        at, time_from = occurred(body, "payload.no_show.created_at", "payload.updated_at", "created_at")
        return Mapped(events=[envelope(no_show, "appointment.no_show", key, at,
                                       {"appointment": appointment(ctx, invitee)}, time_from)])
    at, time_from = occurred(body, "created_at")
    return Mapped(events=[envelope(event_id(SOURCE, invitee, "no_show", "retracted"), "event.retracted", key, at,
                                   {"event": no_show, "reason": "Calendly: the no-show mark was deleted"},
                                   time_from)])
