"""Event validation (EVENTS.md "Envelope" and "Bad input"): a malformed event is refused with the
field that is wrong and the event's id; a good one keeps everything it carries."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit.conftest import raw

from firmly.domain.clock import parse_instant
from firmly.domain.events import Event, EventError, validate


def good(**data: Any) -> dict[str, Any]:
    return raw("bk-1", "appointment.booked", "patient-42", "2026-03-01T10:00:00+03:00",
               **(data or {"appointment": "bk-1001", "starts_at": "2026-03-10T10:00:00+03:00"}))


def refused(envelope: object) -> EventError:
    with pytest.raises(EventError) as caught:
        validate(envelope)
    return caught.value


def test_a_good_event_is_accepted_with_its_instant_in_utc() -> None:
    ev = validate(good())
    assert isinstance(ev, Event)
    assert (ev.id, ev.type, ev.counterparty) == ("bk-1", "appointment.booked", "patient-42")
    assert ev.occurred_at == "2026-03-01T10:00:00+03:00"
    assert ev.at == parse_instant("2026-03-01T07:00:00+00:00")


@pytest.mark.parametrize("name", ["id", "type", "counterparty", "occurred_at"])
def test_a_missing_envelope_field_is_named(name: str) -> None:
    envelope = good()
    del envelope[name]
    error = refused(envelope)
    assert error.field == name
    assert "missing" in error.message
    if name != "id":
        assert error.event_id == "bk-1", "the refusal names the event it is about"


@pytest.mark.parametrize("name", ["id", "type", "counterparty", "occurred_at"])
@pytest.mark.parametrize("value", ["", "   ", 42])
def test_an_empty_or_non_text_envelope_field_is_named(name: str, value: object) -> None:
    envelope = good()
    envelope[name] = value
    assert refused(envelope).field == name


@pytest.mark.parametrize("moment", ["2026-03-09 20:00", "2026-03-09T20:00:00", "yesterday",
                                    "2026-13-01T00:00Z"])
def test_a_time_without_an_offset_or_not_a_time_is_refused(moment: str) -> None:
    envelope = good()
    envelope["occurred_at"] = moment
    error = refused(envelope)
    assert error.field == "occurred_at"
    assert error.event_id == "bk-1"


def test_a_time_field_in_the_data_needs_an_offset_too() -> None:
    error = refused(good(appointment="bk-1001", starts_at="2026-03-10T10:00:00"))
    assert error.field == "data.starts_at"


@pytest.mark.parametrize("amount", [1500.5, 1500.0, "1500,50", "15.005", "lots", True])
def test_an_amount_that_is_not_a_decimal_string_is_refused(amount: object) -> None:
    error = refused(raw("bad-money", "payment.received", "dina", "2026-03-02T10:00:00+03:00", amount=amount))
    assert (error.field, error.event_id) == ("data.amount", "bad-money")


@pytest.mark.parametrize("amount", ["1500.00", "1500", "0.5", "0.00"])
def test_a_decimal_string_amount_is_accepted(amount: str) -> None:
    validate(raw("p", "payment.received", "dina", "2026-03-02T10:00:00+03:00", amount=amount))


@pytest.mark.parametrize(("kind", "data", "field"), [
    ("payment.received", {"amount": "-10.00"}, "data.amount"),
    ("counterparty.upserted", {"prices": {"consultation": "-100.00"}}, "data.prices"),
])
def test_negative_money_is_refused(kind: str, data: dict[str, object], field: str) -> None:
    """Amounts are unsigned (INTERFACES.md); a negative price would credit the balance on every service."""
    error = refused(raw("neg", kind, "dina", "2026-03-02T10:00:00+03:00", **data))
    assert error.field == field and "negative" in error.message


def test_an_unknown_severity_is_refused() -> None:
    error = refused(raw("inc", "incident.reported", "clinic-7", "2026-03-02T10:00:00+03:00",
                        severity="awful"))
    assert error.field == "data.severity"


@pytest.mark.parametrize("severity", ["minor", "major", "fatal"])
def test_the_known_severities_are_accepted(severity: str) -> None:
    validate(raw("inc", "incident.reported", "clinic-7", "2026-03-02T10:00:00+03:00", severity=severity))


@pytest.mark.parametrize("rating", [0, 6, 7, -1, 3.5, "5", True])
def test_a_rating_outside_one_to_five_is_refused(rating: object) -> None:
    error = refused(raw("bad-rating", "review.received", "clinic-7", "2026-03-02T10:00:00+03:00",
                        rating=rating, text="?"))
    assert (error.field, error.event_id) == ("data.rating", "bad-rating")


@pytest.mark.parametrize("rating", [1, 2, 3, 4, 5])
def test_a_rating_from_one_to_five_is_accepted(rating: int) -> None:
    validate(raw("r", "review.received", "clinic-7", "2026-03-02T10:00:00+03:00", rating=rating))


def test_a_required_data_field_of_a_catalogue_type_is_named() -> None:
    error = refused(raw("d0", "appointment.booked", "dina", "2026-03-01T10:00:00+03:00", appointment="d0"))
    assert error.field == "data.starts_at"


@pytest.mark.parametrize("kind", ["firmly.review", "firmly.anything"])
def test_the_reserved_type_prefix_is_refused_from_outside(kind: str) -> None:
    envelope = raw("r-1", kind, "anna", "2026-03-01T10:00:00+03:00", decision="d-1", act="approve")
    error = refused(envelope)
    assert error.field == "type"
    assert validate(envelope, internal=True).type == kind, "firmly itself may record such an event"


def test_unknown_extra_fields_are_kept() -> None:
    ev = validate(good(appointment="bk-1001", starts_at="2026-03-10T10:00:00+03:00", room="12",
                       service="surgery", nested={"a": [1, 2]}))
    assert ev.data["room"] == "12"
    assert ev.data["service"] == "surgery"
    assert ev.data["nested"] == {"a": [1, 2]}
    assert ev.envelope()["data"]["room"] == "12"


def test_a_type_outside_the_catalogue_is_accepted_with_its_data() -> None:
    ev = validate(raw("x-1", "parcel.lost", "anna", "2026-03-01T10:00:00+03:00", parcel="p-9", weight=2.5))
    assert ev.type == "parcel.lost"
    assert ev.data == {"parcel": "p-9", "weight": 2.5}


def test_missing_data_is_an_empty_mapping_and_non_mapping_data_is_refused() -> None:
    envelope = {"id": "x", "type": "parcel.lost", "counterparty": "anna",
                "occurred_at": "2026-03-01T10:00:00Z"}
    assert validate(envelope).data == {}
    assert refused({**envelope, "data": [1, 2]}).field == "data"


def test_something_that_is_not_an_object_is_refused() -> None:
    assert refused(["not", "an", "event"]).field == "event"


# -- the content digest, which tells a duplicate from a conflicting reuse of an id -------------

def test_equal_content_has_an_equal_digest() -> None:
    a = validate(good())
    b = validate(good())
    assert a.digest == b.digest


def test_the_digest_does_not_depend_on_key_order_or_arrival() -> None:
    envelope = good()
    reordered = {k: envelope[k] for k in reversed(list(envelope))}
    reordered["data"] = {k: envelope["data"][k] for k in reversed(list(envelope["data"]))}
    a, b = validate(envelope), validate(reordered)
    b.seq = 99
    assert a.digest == b.digest


@pytest.mark.parametrize(("field", "value"), [
    ("counterparty", "patient-43"),
    ("occurred_at", "2026-03-01T10:00:01+03:00"),
    ("type", "appointment.rescheduled"),
])
def test_different_envelope_content_has_a_different_digest(field: str, value: str) -> None:
    other = good()
    other[field] = value
    assert validate(good()).digest != validate(other).digest


def test_different_data_has_a_different_digest() -> None:
    a = validate(good(appointment="bk-1001", starts_at="2026-03-10T10:00:00+03:00"))
    b = validate(good(appointment="bk-1001", starts_at="2026-03-10T11:00:00+03:00"))
    c = validate(good(appointment="bk-1001", starts_at="2026-03-10T10:00:00+03:00", room="12"))
    assert len({a.digest, b.digest, c.digest}) == 3



def test_a_retraction_names_the_event_it_withdraws() -> None:
    ok = validate({"id": "x", "type": "event.retracted", "counterparty": "c", "occurred_at": "2026-06-01T10:00:00Z",
                   "data": {"event": "ns1", "reason": "marked by mistake"}})
    assert ok.data["event"] == "ns1"
    with pytest.raises(EventError) as refused:
        validate({"id": "y", "type": "event.retracted", "counterparty": "c", "occurred_at": "2026-06-01T10:00:00Z",
                  "data": {"reason": "no target"}})
    assert (refused.value.field, refused.value.event_id) == ("data.event", "y")
    for by in ("client", "provider", "partner", "unknown"):
        validate({"id": "z", "type": "appointment.cancelled", "counterparty": "c",
                  "occurred_at": "2026-06-01T10:00:00Z", "data": {"appointment": "a", "by": by}})
    with pytest.raises(EventError):
        validate({"id": "z", "type": "appointment.cancelled", "counterparty": "c",
                  "occurred_at": "2026-06-01T10:00:00Z", "data": {"appointment": "a", "by": "somebody"}})
