"""Hypothesis strategies for hostile event input, shared by the fuzzing suites of the decoder (unit), the file
reader (integration) and `POST /v1/events` (e2e): huge and non-finite numbers, deep JSON, invalid UTF-8, BOMs,
lone surrogates, NUL, long strings, digits that are not ASCII, years 0001 and 9999."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from firmly.domain.events import CATALOGUE

AT = "2026-03-01T10:00:00+03:00"
TYPES = [*sorted(CATALOGUE), "custom.thing", "firmly.reserved"]
FIELDS = sorted({name for _, checks in CATALOGUE.values() for name in checks} | {"note", "x" * 101})

ODD_TEXT = ["", " ", "\x00", "a\x00b", "\ud800", "²", "١٥٠٠", "٣h", "１２", "NaN", "Infinity", "-inf", "1e308",
            "1e999", "\ufeff", "\u2028", "0" * 5000, "9" * 5000, "x" * 201, "я" * 101, "99999999999999999999d",
            "36526d", "0001-01-01T00:00:00+03:00", "9999-12-31T23:00:00-05:00", "2026-03-01T10:00:00",
            "2200-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "00042", "1001", "true", "-0", "1500.001"]
ODD_NUMBERS: list[Any] = [2**63, 2**64, -(2**63) - 1, 10**30, 10**400, 1e308, -1e308, 1e25, 1e-320, 0, -1, 1.5,
                          10**9, 10**9 + 1, 10**15, True, False]


def deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


scalars = st.one_of(
    st.sampled_from(ODD_TEXT), st.sampled_from(ODD_NUMBERS), st.none(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.integers(min_value=0, max_value=70_000).map(lambda n: "ю" * n),
)
values = st.one_of(
    scalars,
    st.integers(min_value=15, max_value=60).map(deep),
    st.lists(scalars, max_size=3),
    st.dictionaries(st.sampled_from(FIELDS), scalars, max_size=3),
)


GOOD: dict[str, dict[str, Any]] = {  # a valid data object for each type, before a field is made hostile
    "counterparty.upserted": {"kind": "client", "name": "Anna", "tier": "vip"},
    "appointment.booked": {"appointment": "a-1", "starts_at": "2026-03-05T10:00:00+03:00", "price": "1500.00"},
    "appointment.rescheduled": {"appointment": "a-1", "starts_at": "2026-03-06T10:00:00+03:00"},
    "appointment.cancelled": {"appointment": "a-1", "by": "client"},
    "appointment.attended": {"appointment": "a-1"},
    "appointment.no_show": {"appointment": "a-1"},
    "order.submitted": {"order": "o-1", "for_date": "2026-03-02"},
    "delivery.completed": {"order": "o-1", "due_at": AT, "defects": 0},
    "invoice.issued": {"invoice": "00042", "amount": "1500.00", "due_at": "2026-03-10T10:00:00+03:00"},
    "payment.received": {"amount": "1500.00", "invoice": "00042"},
    "request.received": {"request": "r-1", "channel": "email", "effort_minutes": 15},
    "work.logged": {"minutes": 30, "in_tariff": True},
    "service.rendered": {"service": "consultation", "quantity": 1},
    "message.received": {"text": "Thank you!", "lang": "en"},
    "grace.requested": {"text": "May I pay on Friday?", "late_by": "3d", "invoice": "00042"},
    "incident.reported": {"severity": "minor", "appointment": "a-1"},
    "review.received": {"rating": 5, "text": "Great", "publish": True},
    "event.retracted": {"event": "nsh-1", "reason": "marked by mistake"},
    "exception.set": {"rule": "no_show", "until": "2027-03-10T10:00:00+03:00", "reason": "a flood", "by": "anna",
                      "from": "2026-03-01T10:00:00+03:00"},
    "exception.ended": {"exception": "ex-1", "reason": "back to normal", "by": "anna"},
    "exception.requested": {"text": "Please waive the fee", "about": "nsh-1", "ask": "waive_fee", "lang": "en"},
    "custom.thing": {"note": "kept"},
    "firmly.reserved": {},
}


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    """A valid event of any type with one or two of its data fields (or, less often, of its envelope's)
    replaced by hostile values: deep enough to reach every field's check."""
    kind = draw(st.sampled_from(TYPES))
    data = dict(GOOD[kind])
    own = sorted(CATALOGUE.get(kind, ((), {}))[1]) or ["note"]
    for name in draw(st.lists(st.sampled_from(own + FIELDS), min_size=1, max_size=2, unique=True)):
        data[name] = draw(values)
    event: dict[str, Any] = {"id": f"fz-{draw(st.integers(0, 10**6))}", "type": kind, "counterparty": "anna",
                             "occurred_at": AT, "data": data}
    if draw(st.integers(0, 4)) == 0:
        event[draw(st.sampled_from(["id", "type", "counterparty", "occurred_at", "data"]))] = draw(values)
    return event


def to_json(event: Any) -> bytes:
    """As a sender writes it: a lone surrogate as its escape, huge numbers as digits."""
    return json.dumps(event, ensure_ascii=True).encode()


raw_lines = st.one_of(
    events().map(to_json),
    st.binary(max_size=60),
    st.sampled_from([b"\xef\xbb\xbf{}", b"\xff\xfe{", b'{"id": "\xff"}', b"[" * 3000 + b"]" * 3000,
                     b'{"a": 1e999}', b'{"a": NaN}', b"null", b"[]", b'"\\ud800"', b"\x00", b"{" * 50_000]),
)
