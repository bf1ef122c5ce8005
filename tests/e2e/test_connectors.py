"""Connectors over real HTTP: deliveries shaped and signed as Cal.com and Calendly send them, posted to a running
server, and the events and decisions they cause under the clinic example (workspace B of the harness: the
clinic's rulebook, no events). On SQLite and PostgreSQL.

The clinic asks 12 hours' notice of a cancellation and reminds 24 h and 2 h before a visit; late cancellations
and no-shows climb one ladder (feedback, warning, fee, ...).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from firmly import bootstrap
from firmly.domain.clock import parse_instant
from firmly.doors.api import create_app
from firmly.service import clock, replay
from tests.e2e.api_harness import Api, running, serve

ORGANIZER = {"name": "Dr Hale", "email": "hale@brightsmile.example", "timeZone": "Europe/London"}
JANE = {"name": "Jane Roe", "email": "Jane.Roe@Example.com", "timeZone": "Europe/London",
        "language": {"locale": "en"}}


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    with running(database_url) as live:
        yield live


# -- the vendors' side: their payloads and their signatures ------------------------------------------------
def calcom_body(trigger: str, created_at: str, **payload: Any) -> bytes:
    """Cal.com's envelope: {"triggerEvent", "createdAt", "payload"} (its booking payload is a CalendarEvent)."""
    base = {"type": "checkup", "title": "Check-up between Dr Hale and Jane Roe", "organizer": ORGANIZER,
            "attendees": [JANE], "status": "ACCEPTED", "location": "Bright Smile, room 2"}
    return json.dumps({"triggerEvent": trigger, "createdAt": created_at, "payload": {**base, **payload}}).encode()


def calcom_sign(secret: str, body: bytes) -> dict[str, str]:
    """X-Cal-Signature-256: hex HMAC-SHA256 of the raw body."""
    return {"X-Cal-Signature-256": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
            "Content-Type": "application/json"}


def calendly_sign(key: str, body: bytes, at: int | None = None) -> dict[str, str]:
    """Calendly-Webhook-Signature: t=UNIX,v1=hex HMAC-SHA256 of "t.body"."""
    t = str(int(time.time()) if at is None else at)
    v1 = hmac.new(key.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"Calendly-Webhook-Signature": f"t={t},v1={v1}", "Content-Type": "application/json"}


SCHEDULED = "https://api.calendly.com/scheduled_events"


def invitee(uuid: str, event: str, start: str, created: str, **more: Any) -> dict[str, Any]:
    """Calendly's Invitee resource, as its webhooks carry it."""
    return {"uri": f"{SCHEDULED}/{event}/invitees/{uuid}", "email": "jane.roe@example.com", "name": "Jane Roe",
            "first_name": None, "last_name": None, "timezone": "Europe/London", "status": "active",
            "rescheduled": False, "old_invitee": None, "new_invitee": None, "created_at": created,
            "updated_at": created, "event": f"{SCHEDULED}/{event}", "text_reminder_number": None,
            "cancel_url": f"https://calendly.com/cancellations/{uuid}",
            "reschedule_url": f"https://calendly.com/reschedulings/{uuid}", "no_show": None,
            "cancellation": None, "questions_and_answers": [], "tracking": {}, "payment": None,
            "scheduled_event": {"uri": f"{SCHEDULED}/{event}", "name": "Check-up", "status": "active",
                                "start_time": start, "end_time": start, "event_type": "https://api.calendly.com/"
                                "event_types/CHECKUP", "location": {"type": "physical", "location": "Room 2"}},
            **more}


def calendly_body(kind: str, created_at: str, payload: dict[str, Any]) -> bytes:
    return json.dumps({"event": kind, "created_at": created_at,
                       "created_by": "https://api.calendly.com/users/HALE", "payload": payload}).encode()


# -- reading back -----------------------------------------------------------------------------------------
def connector(api: Api, source: str, secret: str) -> str:
    made = api.client(api.b).post("/v1/connectors", json={"source": source, "secret": secret})
    assert made.status_code == 201, made.text
    assert made.json()["path"] == f"/v1/hooks/{made.json()['id']}"
    return str(made.json()["id"])


def events(api: Api, **query: str) -> list[dict[str, Any]]:
    got = api.client(api.b, "viewer").get("/v1/events", params=query)
    assert got.status_code == 200, got.text
    rows: list[dict[str, Any]] = got.json()
    return rows


def decisions(api: Api, key: str) -> list[dict[str, Any]]:
    got = api.client(api.b, "viewer").get("/v1/decisions", params={"counterparty": key})
    assert got.status_code == 200, got.text
    rows: list[dict[str, Any]] = got.json()
    return rows


def post(hooks: httpx.Client, cid: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return hooks.post(f"/v1/hooks/{cid}", content=body, headers=headers)


JANE_KEY = "jane.roe@example.com"


def test_calcom_booking_reschedule_cancellations_no_show_and_its_retraction(api: Api) -> None:
    secret = "whsec-calcom-clinic"
    cid = connector(api, "calcom", secret)
    hooks = api.anonymous()

    def send(body: bytes) -> dict[str, Any]:
        answer = post(hooks, cid, body, calcom_sign(secret, body))
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    # A booking: the client known by her e-mail in lower case, two reminders scheduled before the visit
    booked = calcom_body("BOOKING_CREATED", "2026-11-10T09:00:00.000Z", uid="bk1", bookingId=101,
                         startTime="2026-11-20T10:00:00Z", endTime="2026-11-20T10:30:00Z")
    first = send(booked)
    assert first["stored"] == 2 and first["events"] == ["calcom:bk1:client", "calcom:bk1:booked"]
    stored = events(api, source=cid, type="appointment.booked")
    assert [(e["counterparty"], e["data"]["appointment"], e["data"]["starts_at"], e["data"]["time_from"])
            for e in stored] == [(JANE_KEY, "calcom:bk1", "2026-11-20T10:00:00+00:00", "createdAt")]
    reminders = [d for d in decisions(api, JANE_KEY) if d["action"] == "reminder"]
    assert sorted(d["at"] for d in reminders) == ["2026-11-19T10:00:00+00:00", "2026-11-20T08:00:00+00:00"]

    # The same delivery again (a vendor's retry) is a duplicate: nothing stored twice
    again = send(booked)
    assert (again["stored"], again["duplicates"]) == (0, 2)
    assert len(events(api, source=cid)) == 2

    # Rescheduled by the client: Cal.com makes a new booking (uid bk1b) that names the first (rescheduleUid)
    moved = send(calcom_body("BOOKING_RESCHEDULED", "2026-11-12T09:00:00Z", uid="bk1b", rescheduleUid="bk1",
                             rescheduledBy="jane.roe@example.com", startTime="2026-11-21T10:00:00Z"))
    assert moved["stored"] == 1
    rescheduled = events(api, type="appointment.rescheduled")[0]["data"]
    assert (rescheduled["appointment"], rescheduled["by"]) == ("calcom:bk1", "client")
    reminders = [d for d in decisions(api, JANE_KEY) if d["action"] == "reminder" and d["status"] == "scheduled"]
    assert sorted(d["at"] for d in reminders) == ["2026-11-20T10:00:00+00:00", "2026-11-21T08:00:00+00:00"]

    # Cancelled by the client 6 hours before the moved visit (the new uid, firmly's first id): a strike
    late = send(calcom_body("BOOKING_CANCELLED", "2026-11-21T04:00:00Z", uid="bk1b", status="CANCELLED",
                            cancelledBy="jane.roe@example.com", cancellationReason="feeling unwell",
                            startTime="2026-11-21T10:00:00Z"))
    assert late["decisions"] >= 1
    strikes = [d for d in decisions(api, JANE_KEY) if d["rule"] == "late_change" and d["action"] == "feedback"]
    assert [(d["event"], d["status"]) for d in strikes] == [("calcom:bk1b:cancelled", "applied")]

    # Cancelled late by the clinic (the organizer): no strike
    send(calcom_body("BOOKING_CREATED", "2026-11-22T09:00:00Z", uid="bk2", startTime="2026-11-25T10:00:00Z"))
    send(calcom_body("BOOKING_CANCELLED", "2026-11-25T08:00:00Z", uid="bk2", cancelledBy=ORGANIZER["email"],
                     startTime="2026-11-25T10:00:00Z"))
    # Cancelled late and Cal.com does not say by whom: by unknown, never counted against the client
    send(calcom_body("BOOKING_CREATED", "2026-11-25T09:00:00Z", uid="bk3", startTime="2026-11-26T10:00:00Z"))
    send(calcom_body("BOOKING_CANCELLED", "2026-11-26T08:00:00Z", uid="bk3", startTime="2026-11-26T10:00:00Z"))
    # The host asked the client to book another time: the provider's doing
    send(calcom_body("BOOKING_CREATED", "2026-11-26T09:00:00Z", uid="bk5", startTime="2026-11-27T10:00:00Z"))
    send(calcom_body("BOOKING_CANCELLED", "2026-11-27T08:00:00Z", uid="bk5", requestReschedule=True,
                     cancelledBy=ORGANIZER["email"], startTime="2026-11-27T10:00:00Z"))
    cancels = {e["data"]["appointment"]: e["data"]["by"] for e in events(api, type="appointment.cancelled")}
    assert cancels == {"calcom:bk1": "client", "calcom:bk2": "provider", "calcom:bk3": "unknown",
                       "calcom:bk5": "provider"}
    ladder = [d for d in decisions(api, JANE_KEY) if d["rule"] in ("late_change", "no_show")
              and d["action"] != "reminder" and d["status"] != "superseded"]
    assert [d["event"] for d in ladder] == ["calcom:bk1b:cancelled"]

    # A no-show marked, then taken back: the strike and its decision are superseded, both events stay
    send(calcom_body("BOOKING_CREATED", "2026-11-27T09:00:00Z", uid="bk4", startTime="2026-11-28T10:00:00Z"))
    marked = {"message": "x_marked_as_no_show", "bookingUid": "bk4", "bookingId": 104}
    send(json.dumps({"triggerEvent": "BOOKING_NO_SHOW_UPDATED", "createdAt": "2026-11-28T11:00:00Z",
                     "payload": {**marked, "attendees": [{"email": JANE["email"], "noShow": True}]}}).encode())
    no_show = [d for d in decisions(api, JANE_KEY) if d["rule"] == "no_show" and d["action"] != "thanks"]
    assert [(d["action"], d["status"]) for d in no_show] == [("warning", "applied")]  # the second strike
    send(json.dumps({"triggerEvent": "BOOKING_NO_SHOW_UPDATED", "createdAt": "2026-11-28T12:00:00Z",
                     "payload": {**marked, "message": "x_unmarked_as_no_show",
                                 "attendees": [{"email": JANE["email"], "noShow": False}]}}).encode())
    after = {d["id"]: d["status"] for d in decisions(api, JANE_KEY)}
    assert after[no_show[0]["id"]] == "superseded"
    retraction = events(api, type="event.retracted")
    assert [e["data"]["event"] for e in retraction] == [f"calcom:bk4:no_show:{JANE_KEY}"]
    assert len(events(api, type="appointment.no_show")) == 1
    page = api.client(api.b, "viewer").get(f"/v1/counterparties/{JANE_KEY}").json()
    assert page["rules"]["no_show"]["strikes"] == 1 and page["rules"]["no_show"]["broken"] == 0


def test_calendly_booking_reschedule_in_either_order_cancellations_and_no_show(api: Api) -> None:
    key = "calendly-signing-key"
    cid = connector(api, "calendly", key)
    hooks = api.anonymous()

    def send(kind: str, created_at: str, payload: dict[str, Any]) -> dict[str, Any]:
        body = calendly_body(kind, created_at, payload)
        answer = post(hooks, cid, body, calendly_sign(key, body))
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    send("invitee.created", "2026-11-10T09:00:01.000000Z",
         invitee("INV1", "EV1", "2026-11-20T10:00:00.000000Z", "2026-11-10T09:00:00.000000Z"))
    booked = events(api, source=cid, type="appointment.booked")
    assert [(e["counterparty"], e["data"]["appointment"], e["occurred_at"]) for e in booked] == [
        (JANE_KEY, "calendly:INV1", "2026-11-10T09:00:00+00:00")]

    # Rescheduled, the cancelled half first: nothing is cancelled; the new invitee moves the first booking
    half = send("invitee.canceled", "2026-11-12T09:00:00Z", invitee(
        "INV1", "EV1", "2026-11-20T10:00:00Z", "2026-11-10T09:00:00Z", status="canceled", rescheduled=True,
        new_invitee=f"{SCHEDULED}/EV2/invitees/INV2",
        cancellation={"canceled_by": "Jane Roe", "reason": None, "canceler_type": "invitee",
                      "created_at": "2026-11-12T09:00:00Z"}))
    assert half["stored"] == 0 and "reschedule" in half["ignored"]
    send("invitee.created", "2026-11-12T09:00:02Z", invitee(
        "INV2", "EV2", "2026-11-21T10:00:00Z", "2026-11-12T09:00:00Z", old_invitee=f"{SCHEDULED}/EV1/invitees/INV1"))
    # ... and a second reschedule, the new invitee first this time
    send("invitee.created", "2026-11-13T09:00:02Z", invitee(
        "INV3", "EV3", "2026-11-22T10:00:00Z", "2026-11-13T09:00:00Z", old_invitee=f"{SCHEDULED}/EV2/invitees/INV2"))
    send("invitee.canceled", "2026-11-13T09:00:03Z", invitee(
        "INV2", "EV2", "2026-11-21T10:00:00Z", "2026-11-12T09:00:00Z", status="canceled", rescheduled=True,
        new_invitee=f"{SCHEDULED}/EV3/invitees/INV3"))
    moves = [(e["data"]["appointment"], e["data"]["starts_at"]) for e in events(api, type="appointment.rescheduled")]
    assert moves == [("calendly:INV1", "2026-11-21T10:00:00+00:00"), ("calendly:INV1", "2026-11-22T10:00:00+00:00")]
    assert events(api, type="appointment.cancelled") == []

    # Cancelled by the invitee 5 hours before: dated by cancellation.created_at, a strike
    send("invitee.canceled", "2026-11-22T05:00:09Z", invitee(
        "INV3", "EV3", "2026-11-22T10:00:00Z", "2026-11-13T09:00:00Z", status="canceled",
        cancellation={"canceled_by": "Jane Roe", "reason": "car trouble", "canceler_type": "invitee",
                      "created_at": "2026-11-22T05:00:00Z"}))
    cancelled = events(api, type="appointment.cancelled")
    assert [(e["data"]["appointment"], e["data"]["by"], e["occurred_at"], e["data"]["time_from"])
            for e in cancelled] == [("calendly:INV1", "client", "2026-11-22T05:00:00+00:00",
                                     "payload.cancellation.created_at")]
    strikes = [d for d in decisions(api, JANE_KEY) if d["rule"] == "late_change" and d["action"] == "feedback"]
    assert [d["event"] for d in strikes] == ["calendly:INV3:cancelled"]

    # Cancelled late by the host: no strike
    send("invitee.created", "2026-11-23T09:00:00Z",
         invitee("INV4", "EV4", "2026-11-25T10:00:00Z", "2026-11-23T09:00:00Z"))
    send("invitee.canceled", "2026-11-25T08:00:00Z", invitee(
        "INV4", "EV4", "2026-11-25T10:00:00Z", "2026-11-23T09:00:00Z", status="canceled",
        cancellation={"canceled_by": "Dr Hale", "reason": "ill", "canceler_type": "host",
                      "created_at": "2026-11-25T08:00:00Z"}))
    # A no-show, and its mark deleted: the decision superseded
    send("invitee.created", "2026-11-25T09:00:00Z",
         invitee("INV5", "EV5", "2026-11-27T10:00:00Z", "2026-11-25T09:00:00Z"))
    shown = invitee("INV5", "EV5", "2026-11-27T10:00:00Z", "2026-11-25T09:00:00Z",
                    no_show={"uri": "https://api.calendly.com/invitee_no_shows/NS5",
                             "created_at": "2026-11-27T11:00:00Z"})
    send("invitee_no_show.created", "2026-11-27T11:00:01Z", shown)
    no_show = [d for d in decisions(api, JANE_KEY) if d["rule"] == "no_show" and d["action"] != "thanks"]
    assert [(d["event"], d["action"]) for d in no_show] == [("calendly:INV5:no_show", "warning")]
    send("invitee_no_show.deleted", "2026-11-27T12:00:00Z", {**shown, "no_show": None})
    assert {d["id"]: d["status"] for d in decisions(api, JANE_KEY)}[no_show[0]["id"]] == "superseded"
    assert [e["source"] for e in events(api, counterparty=JANE_KEY)] == [cid] * len(events(api, counterparty=JANE_KEY))


def test_bad_deliveries_get_clear_answers_and_nothing_half_stored(api: Api) -> None:
    secret = "whsec-calcom-clinic"
    cid = connector(api, "calcom", secret)
    hooks = api.anonymous()
    body = calcom_body("BOOKING_CREATED", "2026-11-10T09:00:00Z", uid="bk9", startTime="2026-11-20T10:00:00Z")

    forged = post(hooks, cid, body, calcom_sign("not-the-secret", body))
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "bad_signature"
    unsigned = post(hooks, cid, body, {"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    tampered = post(hooks, cid, body.replace(b"bk9", b"bk8"), calcom_sign(secret, body))
    assert tampered.status_code == 401
    nobody = post(hooks, "hk0000000000000000", body, calcom_sign(secret, body))
    assert nobody.status_code == 404 and "no connector" in nobody.json()["error"]["message"]
    assert events(api, source=cid) == []

    # Signed but not JSON, and signed JSON that cannot be mapped: 202, kept as dead letters with the reason
    malformed = b'{"triggerEvent": "BOOKING_CREATED", "payload": {'
    kept = post(hooks, cid, malformed, calcom_sign(secret, malformed))
    assert kept.status_code == 202 and "not valid JSON" in kept.json()["failed"]["reason"]
    no_time = calcom_body("BOOKING_CREATED", "2026-11-10T09:00:00Z", uid="bk7", startTime="20 November, 10am")
    kept = post(hooks, cid, no_time, calcom_sign(secret, no_time))
    assert kept.status_code == 202 and kept.json()["failed"]["field"] == "payload.startTime"
    assert post(hooks, cid, no_time, calcom_sign(secret, no_time)).status_code == 202  # the same again: one letter
    assert events(api, source=cid) == []
    admin = api.client(api.b)
    letters = admin.get(f"/v1/connectors/{cid}/failures").json()
    assert len(letters) == 2 and {bool(letter["body"]) for letter in letters} == {True}
    assert admin.get(f"/v1/connectors/{cid}").json()["failures"] == 2
    rerun = admin.post(f"/v1/connectors/{cid}/rerun").json()
    assert [r["failed"]["id"] for r in rerun] == [letter["id"] for letter in letters]  # still not mappable
    # A connector of another workspace is not this token's to see
    assert api.client(api.a).get(f"/v1/connectors/{cid}").status_code == 404


# -- Square Appointments ------------------------------------------------------------------------------------
def square_sign(key: str, url: str, body: bytes) -> dict[str, str]:
    """x-square-hmacsha256-signature: base64 HMAC-SHA256 of the notification URL and the body."""
    digest = hmac.new(key.encode(), url.encode() + body, hashlib.sha256).digest()
    return {"x-square-hmacsha256-signature": base64.b64encode(digest).decode(), "Content-Type": "application/json"}


def square_body(kind: str, created_at: str, booking_id: str, version: int, status: str, start: str,
                updated: str, creator: str = "CUSTOMER") -> bytes:
    booking = {"id": booking_id, "version": version, "status": status, "created_at": "2026-11-10T09:00:00Z",
               "updated_at": updated, "location_id": "LEB8VD5V58JRC", "customer_id": "4M2WS16MS6FK3E2BV6D3ETHFKM",
               "customer_note": "", "seller_note": "", "start_at": start, "all_day": False,
               "appointment_segments": [{"duration_minutes": 30, "service_variation_id": "6UM6EVSTSKHMQTYEBCMGNPVE",
                                         "team_member_id": "TMDyStfFEnUegMWS",
                                         "service_variation_version": 1738639584095}],
               "transition_time_minutes": 0, "creator_details": {"creator_type": creator},
               "source": "FIRST_PARTY_BUYER", "location_type": "BUSINESS_LOCATION"}
    return json.dumps({"merchant_id": "ML8M1AQ1GQG2K", "type": kind, "event_id": f"ev-{booking_id}-{version}",
                       "created_at": created_at,
                       "data": {"type": "booking", "id": f"{booking_id}:{version}", "object": {"booking": booking}}
                       }).encode()


def test_square_booking_move_cancellations_no_show_and_a_resent_booking(api: Api) -> None:
    key = "square-signature-key"
    cid = connector(api, "square", key)
    hooks = api.anonymous()
    url = f"{api.base}/v1/hooks/{cid}"
    client = "square:4M2WS16MS6FK3E2BV6D3ETHFKM"

    def send(body: bytes) -> dict[str, Any]:
        answer = post(hooks, cid, body, square_sign(key, url, body))
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    assert send(square_body("booking.created", "2026-11-10T09:00:01Z", "sq1", 0, "ACCEPTED",
                            "2026-11-20T10:00:00Z", "2026-11-10T09:00:00Z"))["stored"] == 1
    # The whole booking re-sent with no change stores nothing
    same = send(square_body("booking.updated", "2026-11-10T09:05:00Z", "sq1", 0, "ACCEPTED",
                            "2026-11-20T10:00:00Z", "2026-11-10T09:00:00Z"))
    assert same["stored"] == 0 and same["events"] == []
    # Moved by the customer, then cancelled by the customer 4 hours before: a reschedule and a strike
    send(square_body("booking.updated", "2026-11-12T09:00:01Z", "sq1", 1, "ACCEPTED", "2026-11-21T10:00:00Z",
                     "2026-11-12T09:00:00Z"))
    send(square_body("booking.updated", "2026-11-21T06:00:01Z", "sq1", 2, "CANCELLED_BY_CUSTOMER",
                     "2026-11-21T10:00:00Z", "2026-11-21T06:00:00Z"))
    moved = events(api, type="appointment.rescheduled")
    assert [(e["data"]["appointment"], e["data"]["starts_at"], e["data"]["by"]) for e in moved] == [
        ("square:sq1", "2026-11-21T10:00:00+00:00", "client")]
    strikes = [d for d in decisions(api, client) if d["rule"] == "late_change" and d["action"] == "feedback"]
    assert [(d["event"], d["at"]) for d in strikes] == [("square:sq1:cancelled", "2026-11-21T06:00:00+00:00")]

    # Cancelled late by the seller: no strike; a no-show: the next step
    send(square_body("booking.created", "2026-11-22T09:00:01Z", "sq2", 0, "ACCEPTED", "2026-11-25T10:00:00Z",
                     "2026-11-22T09:00:00Z"))
    send(square_body("booking.updated", "2026-11-25T08:00:01Z", "sq2", 1, "CANCELLED_BY_SELLER",
                     "2026-11-25T10:00:00Z", "2026-11-25T08:00:00Z", creator="TEAM_MEMBER"))
    send(square_body("booking.created", "2026-11-25T09:00:01Z", "sq3", 0, "ACCEPTED", "2026-11-27T10:00:00Z",
                     "2026-11-25T09:00:00Z"))
    send(square_body("booking.updated", "2026-11-27T11:00:01Z", "sq3", 1, "NO_SHOW", "2026-11-27T10:00:00Z",
                     "2026-11-27T11:00:00Z"))
    cancels = {e["data"]["appointment"]: e["data"]["by"] for e in events(api, type="appointment.cancelled")}
    assert cancels == {"square:sq1": "client", "square:sq2": "provider"}
    ladder = [(d["event"], d["action"]) for d in decisions(api, client)
              if d["action"] in ("feedback", "warning", "fee") and d["status"] != "superseded"]
    assert ladder == [("square:sq1:cancelled", "feedback"), ("square:sq3:no_show", "warning")]
    # A delivery signed for another URL is refused
    body = square_body("booking.created", "2026-11-28T09:00:01Z", "sq4", 0, "ACCEPTED", "2026-11-30T10:00:00Z",
                       "2026-11-28T09:00:00Z")
    assert post(hooks, cid, body, square_sign(key, "https://elsewhere.example/hook", body)).status_code == 401


# -- YCLIENTS ---------------------------------------------------------------------------------------------
def yclients_body(status: str, rid: int, start: str, changed: str, attendance: int = 0) -> bytes:
    """YCLIENTS's record webhook: {"company_id", "resource": "record", "resource_id", "status", "data"}."""
    record = {"id": rid, "company_id": 4564, "staff_id": 17, "date": start[:10] + " " + start[11:19],
              "datetime": start, "create_date": "2026-11-10T12:00:00+0300", "last_change_date": changed,
              "comment": "", "online": True, "attendance": attendance, "confirmed": 1, "seance_length": 1800,
              "length": 1800, "deleted": status == "delete",
              "services": [{"id": 331, "title": "Осмотр", "cost": 1500, "discount": 0, "amount": 1}],
              "staff": {"id": 17, "name": "Д-р Хейл"},
              "client": {"id": 7781, "name": "Иван Петров", "phone": "+79161234567", "email": ""}}
    return json.dumps({"company_id": 4564, "resource": "record", "resource_id": rid, "status": status,
                       "data": record}, ensure_ascii=False).encode()


def test_yclients_record_moved_deleted_attendance_and_a_resent_record(api: Api) -> None:
    cid = connector(api, "yclients", "unused")
    hooks = api.anonymous()
    client = "yclients:7781"

    def send(body: bytes) -> dict[str, Any]:
        answer = post(hooks, cid, body, {"Content-Type": "application/json"})
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    assert send(yclients_body("create", 501, "2026-11-20T13:00:00+0300", "2026-11-10T12:00:00+0300"))["stored"] == 2
    assert send(yclients_body("update", 501, "2026-11-20T13:00:00+0300", "2026-11-10T12:00:00+0300"))["stored"] == 0
    send(yclients_body("update", 501, "2026-11-21T13:00:00+0300", "2026-11-12T12:00:00+0300", attendance=2))
    moved = events(api, type="appointment.rescheduled")
    assert [(e["data"]["appointment"], e["data"]["starts_at"]) for e in moved] == [
        ("yclients:501", "2026-11-21T10:00:00+00:00")]
    # Deleted 3 hours before: YCLIENTS does not say by whom, so no strike
    send(yclients_body("delete", 501, "2026-11-21T13:00:00+0300", "2026-11-21T10:00:00+0300"))
    assert [e["data"]["by"] for e in events(api, type="appointment.cancelled")] == ["unknown"]
    # Did not come (-1), then corrected to came (1): the no-show withdrawn, the visit attended
    send(yclients_body("create", 502, "2026-11-25T13:00:00+0300", "2026-11-22T12:00:00+0300"))
    send(yclients_body("update", 502, "2026-11-25T13:00:00+0300", "2026-11-25T14:00:00+0300", attendance=-1))
    no_show = [d for d in decisions(api, client) if d["rule"] == "no_show" and d["action"] == "feedback"]
    assert [d["status"] for d in no_show] == ["applied"]
    send(yclients_body("update", 502, "2026-11-25T13:00:00+0300", "2026-11-25T15:00:00+0300", attendance=1))
    assert {d["id"]: d["status"] for d in decisions(api, client)}[no_show[0]["id"]] == "superseded"
    assert [e["type"] for e in events(api, source=cid, counterparty=client)][-2:] == [
        "event.retracted", "appointment.attended"]
    page = api.client(api.b, "viewer").get(f"/v1/counterparties/{client}").json()
    assert page["name"] == "Иван Петров" and page["rules"]["late_change"]["strikes"] == 0


# -- Telegram ---------------------------------------------------------------------------------------------
def test_telegram_messages_and_edits_with_the_secret_token(api: Api) -> None:
    secret = "tg_secret-Token_123"
    cid = connector(api, "telegram", secret)
    hooks = api.anonymous()
    sender = {"id": 424242, "is_bot": False, "first_name": "Иван", "language_code": "ru"}
    message = {"message_id": 77, "from": sender, "chat": {"id": 424242, "type": "private", "first_name": "Иван"},
               "date": 1795000000, "text": "Здравствуйте! Можно перенести запись на пятницу?"}
    body = json.dumps({"update_id": 900001, "message": message}, ensure_ascii=False).encode()
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret, "Content-Type": "application/json"}
    assert post(hooks, cid, body, headers).json()["stored"] == 1
    assert post(hooks, cid, body, headers).json()["duplicates"] == 1
    edited = {**message, "edit_date": 1795000100, "text": "Thank you, Friday at ten suits me"}
    post(hooks, cid, json.dumps({"update_id": 900002, "edited_message": edited}).encode(), headers)
    got = events(api, source=cid)
    assert [(e["counterparty"], e["data"]["channel"], e["data"]["lang"]) for e in got] == [
        ("telegram:424242", "telegram", "ru"), ("telegram:424242", "telegram", "en")]
    wrong = post(hooks, cid, body, {"X-Telegram-Bot-Api-Secret-Token": "guess", "Content-Type": "application/json"})
    assert wrong.status_code == 401
    sticker = json.dumps({"update_id": 900003, "message": {**message, "message_id": 78, "text": None,
                                                            "sticker": {"file_id": "x"}}}).encode()
    assert "ignored" in post(hooks, cid, sticker, headers).json()


# -- amoCRM and Bitrix24: stages through a map -------------------------------------------------------------
STAGE_MAP = """\
stages:
  "53512345": {event: appointment.booked}
  "53512346": {event: appointment.cancelled, by: client}
  "142": {event: appointment.attended}
fields:
  starts_at: "771234"
  email: "771237"
timezone: Europe/Moscow
account: brightsmile
"""


def amocrm_form(lead: int, status: int, modified: int, starts: str, account: str = "brightsmile") -> bytes:
    """amoCRM's webhook: form data with PHP-style keys."""
    fields = {"leads[status][0][id]": lead, "leads[status][0][status_id]": status,
              "leads[status][0][pipeline_id]": 6789, "leads[status][0][old_status_id]": 53512344,
              "leads[status][0][last_modified]": modified, "leads[status][0][responsible_user_id]": 11,
              "leads[status][0][custom_fields][0][id]": 771234, "leads[status][0][custom_fields][0][name]": "Визит",
              "leads[status][0][custom_fields][0][values][0][value]": starts,
              "leads[status][0][custom_fields][1][id]": 771237, "leads[status][0][custom_fields][1][name]": "Email",
              "leads[status][0][custom_fields][1][values][0][value]": "Olga@Example.ru",
              "account[subdomain]": account, "account[id]": 30012345}
    return urlencode(fields).encode()


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_amocrm_stages_through_the_map_and_a_dead_letter_rerun_after_the_map_is_fixed(api: Api) -> None:
    made = api.client(api.b).post("/v1/connectors", json={"source": "amocrm"}).json()
    cid = made["id"]
    admin, hooks = api.client(api.b), api.anonymous()
    # No map yet: the stage cannot be mapped; kept as a dead letter, answered 202
    early = post(hooks, cid, amocrm_form(9001, 53512345, 1795000000, "20.11.2026 13:00"), FORM)
    assert early.status_code == 202 and "stage map" in early.json()["failed"]["reason"]
    bad_map = admin.put(f"/v1/connectors/{cid}/map", content=b"stages:\n  '1': {event: appointment.lost}\n")
    assert bad_map.status_code == 422 and bad_map.json()["error"]["field"] == "stages.1.event"
    assert admin.put(f"/v1/connectors/{cid}/map", content=STAGE_MAP.encode()).status_code == 200
    rerun = admin.post(f"/v1/connectors/{cid}/rerun").json()
    assert [r["stored"] for r in rerun] == [1] and admin.get(f"/v1/connectors/{cid}/failures").json() == []
    booked = events(api, source=cid)
    assert [(e["counterparty"], e["type"], e["data"]["starts_at"]) for e in booked] == [
        ("olga@example.ru", "appointment.booked", "2026-11-20T10:00:00+00:00")]

    # Cancelled by the client 3 hours before: a strike; an unmapped stage: a dead letter; another account: 401
    late = post(hooks, cid, amocrm_form(9001, 53512346, 1795165200, "20.11.2026 13:00"), FORM)
    assert late.status_code == 200 and late.json()["stored"] == 1
    strikes = [d for d in decisions(api, "olga@example.ru") if d["action"] == "feedback"]
    assert [d["rule"] for d in strikes] == ["late_change"]
    unknown = post(hooks, cid, amocrm_form(9002, 99999, 1795165300, "21.11.2026 13:00"), FORM)
    assert unknown.status_code == 202 and "stage 99999 is not in" in unknown.json()["failed"]["reason"]
    stranger = post(hooks, cid, amocrm_form(9003, 53512345, 1795165300, "21.11.2026 13:00", "elsewhere"), FORM)
    assert stranger.status_code == 401
    assert len(events(api, source=cid)) == 2


def bitrix_form(token: str, deal: int, stage: str | None, ts: int, visit: str) -> bytes:
    fields: dict[str, Any] = {"event": "ONCRMDEALUPDATE", "data[FIELDS][ID]": deal, "ts": ts,
                              "auth[domain]": "brightsmile.bitrix24.ru", "auth[member_id]": "a1b2c3",
                              "auth[application_token]": token}
    if stage is not None:
        fields.update({"data[FIELDS][STAGE_ID]": stage, "data[FIELDS][UF_CRM_VISIT]": visit,
                       "data[FIELDS][UF_CRM_EMAIL]": "olga@example.ru"})
    return urlencode(fields).encode()


def test_bitrix24_deals_by_stage_the_application_token_and_bot_messages(api: Api) -> None:
    token = "b24apptoken0123456789"
    cid = connector(api, "bitrix24", token)
    admin, hooks = api.client(api.b), api.anonymous()
    crm_map = ("stages:\n  C1:NEW: {event: appointment.booked}\n  C1:LOSE: {event: appointment.cancelled, by: provider}"
               "\n  C1:WON: {event: ignore}\nfields:\n  starts_at: UF_CRM_VISIT\n  email: UF_CRM_EMAIL\n"
               "timezone: Europe/Moscow\n")
    assert admin.put(f"/v1/connectors/{cid}/map", content=crm_map.encode()).status_code == 200
    assert post(hooks, cid, bitrix_form("wrong", 5, "C1:NEW", 1795000000, "2026-11-20 13:00"), FORM).status_code == 401
    assert post(hooks, cid, bitrix_form(token, 5, "C1:NEW", 1795000000, "2026-11-20 13:00"), FORM).json()["stored"] == 1
    bare = post(hooks, cid, bitrix_form(token, 5, None, 1795000100, ""), FORM)
    assert bare.status_code == 202 and bare.json()["failed"]["field"] == "data.FIELDS.STAGE_ID"
    post(hooks, cid, bitrix_form(token, 5, "C1:LOSE", 1795165200, "2026-11-20 13:00"), FORM)
    assert [(e["type"], e["data"].get("by")) for e in events(api, source=cid)] == [
        ("appointment.booked", None), ("appointment.cancelled", "provider")]
    assert [d for d in decisions(api, "olga@example.ru") if d["action"] == "feedback"] == []
    message = urlencode({"event": "ONIMBOTMESSAGEADD", "ts": 1795165300, "data[PARAMS][MESSAGE]": "Спасибо!",
                         "data[PARAMS][MESSAGE_ID]": 4411, "data[PARAMS][FROM_USER_ID]": 77,
                         "data[USER][EMAIL]": "olga@example.ru", "auth[application_token]": token}).encode()
    assert post(hooks, cid, message, FORM).json()["stored"] == 1
    said = events(api, type="message.received")
    assert [(e["counterparty"], e["data"]["lang"]) for e in said] == [("olga@example.ru", "ru")]


# -- attended_after: an attendance no source sends ----------------------------------------------------------
def test_attended_after_records_visits_nothing_else_was_heard_of_and_replays_identically(api: Api) -> None:
    secret = "whsec-calcom-clinic"
    made = api.client(api.b).post("/v1/connectors", json={"source": "calcom", "secret": secret,
                                                          "attended_after": "2h"})
    assert made.status_code == 201 and made.json()["options"]["attended_after"] == "2h"
    cid = made.json()["id"]
    hooks = api.anonymous()
    for uid, start in (("at1", "2026-11-20T10:00:00Z"), ("at2", "2026-11-21T10:00:00Z"),
                       ("at3", "2026-11-22T10:00:00Z")):
        body = calcom_body("BOOKING_CREATED", "2026-11-10T09:00:00Z", uid=uid, startTime=start)
        assert post(hooks, cid, body, calcom_sign(secret, body)).status_code == 200
    cancel = calcom_body("BOOKING_CANCELLED", "2026-11-15T09:00:00Z", uid="at2", cancelledBy=JANE["email"])
    post(hooks, cid, cancel, calcom_sign(secret, cancel))
    store = bootstrap.store(api.database_url, api.b)
    clock.tick(store, parse_instant("2026-11-21T13:00:00+00:00"))
    attended = events(api, type="appointment.attended")
    assert [(e["id"], e["occurred_at"], e["counterparty"], e["source"]) for e in attended] == [
        ("calcom:at1:attended-after", "2026-11-20T12:00:00+00:00", JANE_KEY, cid)]
    clock.tick(store, parse_instant("2026-11-23T13:00:00+00:00"))
    clock.tick(store, parse_instant("2026-11-23T14:00:00+00:00"))  # a second tick makes nothing new
    assert [e["id"] for e in events(api, type="appointment.attended")] == [
        "calcom:at1:attended-after", "calcom:at3:attended-after"]
    page = api.client(api.b, "viewer").get(f"/v1/counterparties/{JANE_KEY}").json()
    assert page["rules"]["late_change"]["kept"] == 3  # two visits attended, one cancelled in good time
    before = decisions(api, JANE_KEY)
    replay.replay(store)
    assert decisions(api, JANE_KEY) == before


def test_a_flood_of_deliveries_is_answered_429_per_connector(api: Api) -> None:
    secret = "whsec-calcom-clinic"
    cid, other = connector(api, "calcom", secret), connector(api, "calcom", secret)
    body = calcom_body("BOOKING_CREATED", "2026-11-10T09:00:00Z", uid="fl1", startTime="2026-11-20T10:00:00Z")
    with serve(create_app(api.database_url, rate=0.5)) as slow, httpx.Client(base_url=slow, timeout=10) as hooks:
        assert post(hooks, cid, body, calcom_sign(secret, body)).status_code == 200
        flooded = post(hooks, cid, body, calcom_sign(secret, body))
        assert flooded.status_code == 429 and 1 <= int(flooded.headers["retry-after"]) <= 2
        assert post(hooks, other, body, calcom_sign(secret, body)).status_code == 200  # its own bucket
