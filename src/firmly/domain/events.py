"""The event envelope and the catalogue of EVENTS.md, validated field by field.

Decoding is msgspec (JSON to builtins, >1M small objects/s); validation is a table of
per-type field checks, so every message names the field that is wrong.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import msgspec

from firmly.domain.clock import TimeError, parse_instant
from firmly.domain.durations import DurationError, parse_duration
from firmly.domain.money import MoneyError, parse_amount
from firmly.domain.tone import Tone

RESERVED_PREFIX = "firmly."  # person acts recorded by firmly itself; never ingested


class Event(msgspec.Struct, gc=False):
    """One fact. `at` is UTC microseconds; `seq` is the arrival order in its workspace."""

    id: str
    type: str
    counterparty: str
    occurred_at: str
    at: int
    data: dict[str, Any]
    digest: str
    seq: int = 0
    partner: str | None = None  # the partner company a booking is about too (data.partner), if any
    tone: Tone | None = None  # of a message's text, found at ingest and again by replay (not part of the digest)

    def envelope(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "counterparty": self.counterparty,
                "occurred_at": self.occurred_at, "data": self.data}


class EventError(ValueError):
    """An event refused: which field and why."""

    def __init__(self, field: str, message: str, event_id: str | None = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.event_id = event_id


Check = Callable[[object], str | None]


def _text(value: object) -> str | None:
    return None if isinstance(value, str) and value.strip() else "must be a non-empty string"


def _time(value: object) -> str | None:
    try:
        parse_instant(value)
    except TimeError as exc:
        return str(exc)
    return None


def _date(value: object) -> str | None:
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            date.fromisoformat(value)
            return None
        except ValueError:
            pass
    return f"must be a date like \"2026-03-01\", got {value!r}"


def _money(value: object) -> str | None:
    """Money an event carries is an amount, never negative: a refund is its own kind of event."""
    try:
        amount = parse_amount(value)
    except MoneyError as exc:
        return str(exc)
    return f"must not be negative, got {value!r}" if amount < 0 else None


def _count(value: object) -> str | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
    return None if ok else f"must be a number of zero or more, got {value!r}"


def _positive(value: object) -> str | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
    return None if ok else f"must be a number above zero, got {value!r}"


def _flag(value: object) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false, got {value!r}"


def _duration(value: object) -> str | None:
    try:
        parse_duration(value)
    except DurationError as exc:
        return str(exc)
    return None


def _one_of(*choices: str) -> Check:
    def check(value: object) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}, got {value!r}"

    return check


def _rating(value: object) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5
    return None if ok else f"must be a whole number from 1 to 5, got {value!r}"


def _prices(value: object) -> str | None:
    if not isinstance(value, dict):
        return "must map price-list codes to decimal strings"
    for code, price in value.items():
        problem = _money(price)
        if problem:
            return f"{code}: {problem}"
    return None


def _names(value: object) -> str | None:
    ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    return None if ok else "must be a list of rulebook ids"


KINDS = ("client", "partner", "supplier")
SEVERITIES = ("minor", "major", "fatal")

# type -> (required fields, {field: check}); checks apply to optional fields when present.
CATALOGUE: dict[str, tuple[tuple[str, ...], dict[str, Check]]] = {
    "counterparty.upserted": ((), {
        "kind": _one_of(*KINDS), "name": _text, "tier": _text, "locale": _one_of("ru", "en"),
        "timezone": _text, "prices": _prices, "switching_cost": _money, "rulebooks": _names}),
    "appointment.booked": (("appointment", "starts_at"), {
        "appointment": _text, "starts_at": _time, "price": _money, "partner": _text}),
    "appointment.rescheduled": (("appointment", "starts_at"), {
        "appointment": _text, "starts_at": _time, "by": _one_of("client", "provider", "partner", "unknown")}),
    "appointment.cancelled": (("appointment",), {
        "appointment": _text, "by": _one_of("client", "provider", "partner", "unknown")}),
    "appointment.attended": (("appointment",), {"appointment": _text}),
    "appointment.no_show": (("appointment",), {"appointment": _text}),
    "order.submitted": (("order", "for_date"), {"order": _text, "for_date": _date}),
    "delivery.completed": (("order", "due_at"), {"order": _text, "due_at": _time, "defects": _count}),
    "invoice.issued": (("invoice", "amount", "due_at"), {
        "invoice": _text, "amount": _money, "due_at": _time}),
    "payment.received": (("amount",), {"amount": _money, "invoice": _text}),
    "request.received": ((), {"request": _text, "channel": _text, "topic": _text, "effort_minutes": _count}),
    "work.logged": (("minutes",), {"minutes": _count, "in_tariff": _flag, "request": _text, "by": _text}),
    "service.rendered": (("service",), {"service": _text, "quantity": _positive, "request": _text}),
    "message.received": (("text",), {"text": _text, "channel": _text, "lang": _one_of("ru", "en")}),
    "grace.requested": (("text",), {"text": _text, "late_by": _duration, "invoice": _text}),
    "incident.reported": (("severity",), {
        "severity": _one_of(*SEVERITIES), "category": _text, "description": _text, "appointment": _text,
        "reported_by": _text}),
    "event.retracted": (("event",), {"event": _text, "reason": _text}),
    "review.received": (("rating",), {
        "rating": _rating, "text": _text, "author": _text, "appointment": _text,
        "publish": _flag}),
}

_ENVELOPE = ("id", "type", "counterparty", "occurred_at")
_encoder = msgspec.json.Encoder(order="sorted")


def digest(envelope: Mapping[str, Any]) -> str:
    """The content fingerprint that tells a duplicate from a conflicting reuse of an id."""
    return hashlib.blake2b(_encoder.encode(envelope), digest_size=16).hexdigest()


def validate(raw: object, *, internal: bool = False) -> Event:
    """An Event from a decoded envelope, or EventError naming the first field that is wrong."""
    if not isinstance(raw, dict):
        raise EventError("event", "must be a JSON object with id, type, counterparty, occurred_at and data")
    event_id = raw.get("id")
    for name in _ENVELOPE:
        value = raw.get(name)
        if value is None:
            raise EventError(name, "is missing", event_id if isinstance(event_id, str) else None)
        if not isinstance(value, str) or not value.strip():
            raise EventError(name, f"must be a non-empty string, got {value!r}",
                             event_id if isinstance(event_id, str) else None)
    assert isinstance(event_id, str)
    kind: str = raw["type"]
    if kind.startswith(RESERVED_PREFIX) and not internal:
        raise EventError("type", f"{kind!r} is reserved for acts recorded by firmly itself", event_id)
    try:
        at = parse_instant(raw["occurred_at"])
    except TimeError as exc:
        raise EventError("occurred_at", str(exc), event_id) from None
    data = raw.get("data", {})
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise EventError("data", "must be an object of the event's fields", event_id)
    spec = CATALOGUE.get(kind)
    if spec is not None:
        required, checks = spec
        for name in required:
            if data.get(name) is None:
                raise EventError(f"data.{name}", f"is required for {kind}", event_id)
        for name, value in data.items():  # events carry few fields: walk them, not the catalogue
            check = checks.get(name)
            if check is not None and value is not None:
                problem = check(value)
                if problem:
                    raise EventError(f"data.{name}", problem, event_id)
    counterparty = raw["counterparty"]
    envelope = {"id": event_id, "type": kind, "counterparty": counterparty, "occurred_at": raw["occurred_at"],
                "data": data}
    partner = data.get("partner")
    try:
        encoded = _encoder.encode(envelope)
    except UnicodeEncodeError:
        raise EventError("event", "contains text that is not valid Unicode (a lone surrogate)", event_id) from None
    if b"\\u0000" in encoded:  # both databases must store the same values; PostgreSQL text holds no NUL
        raise EventError("event", "contains a NUL character", event_id)
    return Event(id=event_id, type=kind, counterparty=counterparty, occurred_at=raw["occurred_at"], at=at,
                 data=data, digest=hashlib.blake2b(encoded, digest_size=16).hexdigest(),
                 partner=partner if isinstance(partner, str) and partner and partner != counterparty else None)


_json_decoder = msgspec.json.Decoder()


def decode_json(line: str | bytes) -> Event:
    try:
        raw = _json_decoder.decode(line)
    except msgspec.DecodeError as exc:
        raise EventError("json", f"is not valid JSON ({exc})") from None
    return validate(raw)
