"""Every number, text and time in an event has a range, checked before anything is stored: a value out of it
is refused with its field and the event's id, and a value at the edge is kept. The lengths are the columns'
(adapters/sql/tables.py), so SQLite and PostgreSQL keep exactly the same events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Column, String

from firmly.adapters.sql import tables
from firmly.domain import limits
from firmly.domain.clock import TimeError, parse_instant
from firmly.domain.durations import DurationError, parse_duration
from firmly.domain.events import EventError, validate
from firmly.domain.money import MoneyError, parse_amount

AT = "2026-03-01T10:00:00+03:00"


def event(kind: str, data: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    return {"id": "ev-1", "type": kind, "counterparty": "anna", "occurred_at": AT, "data": data, **envelope}


def deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


OUT_OF_RANGE: list[tuple[str, dict[str, Any], str, str]] = [
    # (type, data, the field named, words of the message)
    ("work.logged", {"minutes": 10**30}, "data.minutes", "from 0 to 1000000000"),
    ("work.logged", {"minutes": 1e308}, "data.minutes", "from 0 to 1000000000"),
    ("work.logged", {"minutes": float("nan")}, "data.minutes", "from 0 to"),
    ("work.logged", {"minutes": float("inf")}, "data.minutes", "from 0 to"),
    ("request.received", {"effort_minutes": 10**9 + 1}, "data.effort_minutes", "from 0 to"),
    ("service.rendered", {"service": "x", "quantity": 1e25}, "data.quantity", "at most 1000000000"),
    ("service.rendered", {"service": "x", "quantity": 1e308}, "data.quantity", "at most 1000000000"),
    ("delivery.completed", {"order": "o", "due_at": AT, "defects": 10**20}, "data.defects", "from 0 to"),
    ("grace.requested", {"text": "a day more", "late_by": "99999999999999999999d"}, "data.late_by", "100 years"),
    ("grace.requested", {"text": "a day more", "late_by": "36526d"}, "data.late_by", "100 years"),
    ("grace.requested", {"text": "a day more", "late_by": "²d"}, "data.late_by", "duration"),
    ("appointment.booked", {"appointment": "a", "starts_at": "9999-12-31T23:00:00-05:00"}, "data.starts_at",
     "between 1970 and 2200"),
    ("appointment.booked", {"appointment": "a", "starts_at": "0001-01-01T00:00:00+03:00"}, "data.starts_at",
     "between 1970 and 2200"),
    ("invoice.issued", {"invoice": "i", "amount": "10.00", "due_at": "2200-01-01T00:00:00Z"}, "data.due_at",
     "between 1970 and 2200"),
    ("order.submitted", {"order": "o", "for_date": "9999-12-31"}, "data.for_date", "between 1970 and 2200"),
    ("payment.received", {"amount": "1e308"}, "data.amount", "decimal string"),
    ("payment.received", {"amount": 10**30}, "data.amount", "below 1000000000000000"),
    ("payment.received", {"amount": "1" * 16}, "data.amount", "below 1000000000000000"),
    ("payment.received", {"amount": "1500.001"}, "data.amount", "two decimals"),
    ("payment.received", {"amount": "١٥٠٠"}, "data.amount", "decimal string"),
    ("counterparty.upserted", {"tier": "t" * 101}, "data.tier", "at most 100 characters"),
    ("counterparty.upserted", {"prices": {"c" * 101: "10.00"}}, "data.prices", "at most 100 characters"),
    ("appointment.booked", {"appointment": "a", "starts_at": AT, "partner": "p" * 201}, "data.partner",
     "at most 200 characters"),
    ("appointment.cancelled", {"appointment": "a", "partner": "p" * 201}, "data.partner", "at most 200"),
    ("custom.thing", {"partner": "p" * 201}, "data.partner", "at most 200 characters"),
    ("appointment.attended", {"appointment": "a" * 201}, "data.appointment", "at most 200 characters"),
    ("service.rendered", {"service": "s" * 101}, "data.service", "at most 100 characters"),
    ("message.received", {"text": "я" * (limits.TEXT + 1)}, "data.text", f"at most {limits.TEXT}"),
    ("custom.thing", {"note": "x" * (limits.TEXT + 1)}, "data.note", f"at most {limits.TEXT}"),
    ("custom.thing", {"size": 10**30}, "data.size", "below 10^15"),
    ("custom.thing", {"size": -1e300}, "data.size", "below 10^15"),
    ("custom.thing", {"nested": {"list": [1, 2, {"deep": 10**16}]}}, "data.nested.list[2].deep", "below 10^15"),
    ("custom.thing", {"tree": deep(limits.DEPTH + 1)}, "data.tree" + "[0]" * limits.DEPTH, "levels deep"),
    ("custom.thing", {"x" * 101: 1}, "data", "field name"),
    ("custom.thing", {"x" * 101: None}, "data", "field name"),
    ("work.logged", {"minutes": 10**400}, "data.minutes", "from 0 to"),  # too big for a float: no OverflowError
    ("custom.thing", {"size": -(10**400)}, "data.size", "below 10^15"),
    ("custom.thing", {"blob": ["y" * 60_000] * 5}, "event", "at most 262144"),
]


@pytest.mark.parametrize(("kind", "data", "field", "says"), OUT_OF_RANGE,
                         ids=[f"{k}:{f}:{n}" for n, (k, _, f, _) in enumerate(OUT_OF_RANGE)])
def test_a_value_out_of_its_range_is_refused_with_its_field_and_event(kind: str, data: dict[str, Any],
                                                                       field: str, says: str) -> None:
    with pytest.raises(EventError) as caught:
        validate(event(kind, data))
    assert (caught.value.field, caught.value.event_id) == (field, "ev-1")
    assert says in caught.value.message
    assert len(str(caught.value)) < 300, "a long value is quoted cut short"


@pytest.mark.parametrize(("name", "longest"), [("id", 200), ("type", 100), ("counterparty", 200)])
def test_envelope_texts_longer_than_their_columns_are_refused(name: str, longest: int) -> None:
    validate(event("custom.thing", {}, **{name: "k" * longest}))
    with pytest.raises(EventError) as caught:
        validate(event("custom.thing", {}, **{name: "k" * (longest + 1)}))
    assert caught.value.field == name
    assert f"at most {longest} characters" in caught.value.message
    assert caught.value.event_id == (None if name == "id" else "ev-1")


def test_an_occurred_at_too_long_for_its_column_is_refused() -> None:
    with pytest.raises(EventError) as caught:
        validate(event("custom.thing", {}, occurred_at="2026-03-01T10:00:00.123456+03:00:00.123456"))
    assert caught.value.field == "occurred_at"


EDGES: list[tuple[str, dict[str, Any]]] = [
    ("work.logged", {"minutes": 10**9}),
    ("work.logged", {"minutes": 0}),
    ("service.rendered", {"service": "s" * 100, "quantity": 1.5}),
    ("grace.requested", {"text": "t", "late_by": "36525d"}),
    ("appointment.booked", {"appointment": "a" * 200, "starts_at": "2199-12-31T23:59:59+00:00",
                            "partner": "p" * 200}),
    ("invoice.issued", {"invoice": "00042", "amount": "999999999999999.99", "due_at": "1970-01-01T00:00:00Z"}),
    ("counterparty.upserted", {"tier": "t" * 100, "name": "n" * limits.TEXT}),
    ("custom.thing", {"tree": deep(limits.DEPTH), "size": 10**15 - 1, "ratio": -1e14}),
]


@pytest.mark.parametrize(("kind", "data"), EDGES)
def test_values_at_the_edge_of_their_range_are_kept(kind: str, data: dict[str, Any]) -> None:
    assert validate(event(kind, data)).data == data


def length(column: Column[Any]) -> int:
    kind = column.type
    assert isinstance(kind, String) and kind.length is not None
    return kind.length


def test_the_limits_are_the_columns_lengths() -> None:
    """Both databases keep the same events: what the door lets in fits every column it is written to."""
    events, counterparties, postings = tables.events.c, tables.counterparties.c, tables.postings.c
    assert length(events.id) == length(tables.decisions.c.event) == limits.ID
    assert length(events.counterparty) == length(events.partner) == length(counterparties.key) == limits.KEY
    assert length(events.type) == limits.TYPE
    assert length(counterparties.tier) == limits.TIER
    assert length(postings.service) == limits.SERVICE
    assert length(events.occurred_at) == limits.TIME_TEXT


def test_times_outside_1970_to_2200_are_refused() -> None:
    assert parse_instant("1970-01-01T00:00:00+00:00") == 0
    assert parse_instant("2199-12-31T23:59:59.999999+00:00") > 0
    for moment in ("1969-12-31T23:59:59+00:00", "1970-01-01T02:00:00+03:00", "2200-01-01T00:00:00Z",
                   "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"):
        with pytest.raises(TimeError, match="between 1970 and 2200"):
            parse_instant(moment)


def test_durations_are_at_most_100_years_of_ascii_digits() -> None:
    assert parse_duration("36525d") == timedelta(days=36525)
    assert parse_duration(" 3 h ") == timedelta(hours=3)
    for value in ("99999999999999999999d", "5219w", "1" * 30 + "s"):
        with pytest.raises(DurationError):
            parse_duration(value)
    for value in ("٣h", "²d", "3"):
        with pytest.raises(DurationError, match="like"):
            parse_duration(value)


def test_amounts_are_ascii_decimals_below_10_to_the_15() -> None:
    assert str(parse_amount("999999999999999.99")) == "999999999999999.99"
    assert str(parse_amount(42)) == "42.00"
    for value, says in (("1000000000000000", "below"), (10**5000, "below"), ("9" * 5000, "below"),
                        ("0.001", "two decimals"), ("١٥٠٠", "decimal string"), ("NaN", "decimal string"),
                        ("Infinity", "decimal string"), (1e308, "float")):
        with pytest.raises(MoneyError, match=says) as caught:
            parse_amount(value)
        assert len(str(caught.value)) < 200
