"""The event envelope and the catalogue of EVENTS.md, validated field by field.

Decoding is msgspec (JSON to builtins, >1M small objects/s); validation is a table of
per-type field checks, so every message names the field that is wrong.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

import msgspec

from firmly.domain import limits
from firmly.domain.clock import TimeError, parse_instant
from firmly.domain.contacts import contacts_problem
from firmly.domain.durations import DurationError, parse_duration
from firmly.domain.limits import shown
from firmly.domain.money import MoneyError, parse_amount
from firmly.domain.said import N_, Said, said_of
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
        self.message = str.__str__(message)  # plain text for JSON, logs and the database
        self.said = message if isinstance(message, Said) else None  # the same, for the reader's language
        self.event_id = event_id


Check = Callable[[object], str | None]


def _text_of(longest: int) -> Check:
    """A non-empty string of at most `longest` characters (a column's length, or a text's)."""

    def check(value: object) -> str | None:
        if not isinstance(value, str) or not value.strip():
            return Said(N_("must be a non-empty string, got {value}"), value=shown(value))
        if len(value) > longest:
            return Said(N_("must be at most {longest} characters, got {length}"), longest=longest,
                        length=len(value))
        return None

    return check


_text = _text_of(limits.TEXT)  # free text: a message, a review, a name
_ref = _text_of(limits.REFERENCE)  # an appointment, invoice, order or request id, a channel, an author


def _time(value: object) -> str | None:
    try:
        parse_instant(value)
    except TimeError as exc:
        return said_of(exc)
    return None


def _date(value: object) -> str | None:
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            day = date.fromisoformat(value)
        except ValueError:
            pass
        else:
            if limits.FIRST_YEAR <= day.year < limits.END_YEAR:
                return None
            return Said(N_("must be between {first} and {end}, got {value}"), first=limits.FIRST_YEAR,
                        end=limits.END_YEAR, value=repr(value))
    return Said(N_("must be a date like \"2026-03-01\", got {value}"), value=shown(value))


def _money(value: object) -> str | None:
    """Money an event carries is an amount, never negative: a refund is its own kind of event."""
    try:
        amount = parse_amount(value)
    except MoneyError as exc:
        return said_of(exc)
    return Said(N_("must not be negative, got {value}"), value=repr(value)) if amount < 0 else None


def _is_number(value: object) -> bool:
    """A finite number, not true/false (math.isfinite would overflow on a huge int: ints are finite anyway)."""
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int) and not isinstance(value, bool)


def _count(value: object) -> str | None:
    ok = _is_number(value) and 0 <= value <= limits.COUNT  # type: ignore[operator]
    return None if ok else Said(N_("must be a number from 0 to {most}, got {value}"), most=limits.COUNT,
                                value=shown(value))


def _positive(value: object) -> str | None:
    ok = _is_number(value) and 0 < value <= limits.COUNT  # type: ignore[operator]
    return None if ok else Said(N_("must be a number above 0 and at most {most}, got {value}"),
                                most=limits.COUNT, value=shown(value))


def _flag(value: object) -> str | None:
    return None if isinstance(value, bool) else Said(N_("must be true or false, got {value}"), value=shown(value))


def _duration(value: object) -> str | None:
    try:
        parse_duration(value)
    except DurationError as exc:
        return said_of(exc)
    return None


def _one_of(*choices: str) -> Check:
    def check(value: object) -> str | None:
        return None if value in choices else Said(N_("must be one of {choices}, got {value}"),
                                                  choices=", ".join(choices), value=shown(value))

    return check


def _rating(value: object) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5
    return None if ok else Said(N_("must be a whole number from 1 to 5, got {value}"), value=shown(value))


def _prices(value: object) -> str | None:
    if not isinstance(value, dict):
        return Said(N_("must map price-list codes to decimal strings"))
    for code, price in value.items():
        if len(code) > limits.SERVICE:
            return f"a price-list code must be at most {limits.SERVICE} characters, got {shown(code)}"
        problem = _money(price)
        if problem:
            return f"{code}: {problem}"
    return None


def _names(value: object) -> str | None:
    ok = isinstance(value, list) and all(isinstance(v, str) and len(v) <= limits.REFERENCE for v in value)
    return None if ok else Said(N_("must be a list of rulebook ids"))


def _contacts(value: object) -> str | None:
    """Contacts by role (domain/contacts.py): the message names the role and field that is wrong."""
    found = contacts_problem(value)
    if found is None:
        return None
    where, problem = found
    return Said(N_("{where}: {problem}"), where=where.lstrip("."), problem=problem) if where else problem


def _within(value: object, depth: int = 1) -> tuple[str, str] | None:
    """Where a value inside an event's data passes a limit (a path like "[3].note", and the problem), or None:
    numbers finite and below 10^15, texts and field names not too long, nesting not too deep."""
    if isinstance(value, str):
        if len(value) > limits.TEXT:
            return "", f"is a text of {len(value)} characters; at most {limits.TEXT}"
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if not (_is_number(value) and -limits.NUMBER < value < limits.NUMBER):
            return "", f"must be a finite number below 10^15 in size, got {shown(value)}"
    elif isinstance(value, dict | list):
        if depth > limits.DEPTH:
            return "", f"nests objects and lists more than {limits.DEPTH} levels deep"
        items: Iterable[tuple[object, object]] = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and len(key) > limits.FIELD_NAME:
                return "", f"has a field name of {len(key)} characters; at most {limits.FIELD_NAME}"
            found = _within(item, depth + 1)
            if found is not None:
                step = f".{key}" if isinstance(key, str) else f"[{key}]"
                return step + found[0], found[1]
    return None


KINDS = ("client", "partner", "supplier")
BUYER_DETAILS = ("legal_name", "address", "inn", "kpp", "vat_id")  # what an invoice to the counterparty carries
SEVERITIES = ("minor", "major", "fatal")
# the events whose text is read for tone on arrival (and again by replay), and counted in courtesy
TONE_EVENTS = frozenset({"message.received", "grace.requested", "exception.requested"})

# type -> (required fields, {field: check}); checks apply to optional fields when present.
_key = _text_of(limits.KEY)
_service = _text_of(limits.SERVICE)
_BY = _one_of("client", "provider", "partner", "unknown")  # unknown: the source does not say who

# type -> (required fields, {field: check}); checks apply to optional fields when present. A CSV reader
# reads a cell as a number where the check is _count, _positive or _rating, as true/false where it is _flag.
CATALOGUE: dict[str, tuple[tuple[str, ...], dict[str, Check]]] = {
    "counterparty.upserted": ((), {
        "kind": _one_of(*KINDS), "name": _text, "tier": _text_of(limits.TIER), "locale": _one_of("ru", "en"),
        "timezone": _ref, "prices": _prices, "switching_cost": _money, "rulebooks": _names,
        "legal_name": _text, "address": _text, "inn": _ref, "kpp": _ref, "vat_id": _ref, "contacts": _contacts}),
    "appointment.booked": (("appointment", "starts_at"), {
        "appointment": _ref, "starts_at": _time, "price": _money, "partner": _key, "service": _service}),
    "appointment.rescheduled": (("appointment", "starts_at"), {"appointment": _ref, "starts_at": _time, "by": _BY}),
    "appointment.cancelled": (("appointment",), {"appointment": _ref, "by": _BY}),
    "appointment.attended": (("appointment",), {"appointment": _ref}),
    "appointment.no_show": (("appointment",), {"appointment": _ref}),
    "order.submitted": (("order", "for_date"), {"order": _ref, "for_date": _date}),
    "delivery.completed": (("order", "due_at"), {"order": _ref, "due_at": _time, "defects": _count}),
    "invoice.issued": (("invoice", "amount", "due_at"), {"invoice": _ref, "amount": _money, "due_at": _time}),
    "payment.received": (("amount",), {"amount": _money, "invoice": _ref}),
    "request.received": ((), {"request": _ref, "channel": _ref, "topic": _text, "effort_minutes": _count}),
    "work.logged": (("minutes",), {"minutes": _count, "in_tariff": _flag, "request": _ref, "by": _ref}),
    "service.rendered": (("service",), {"service": _service, "quantity": _positive, "request": _ref}),
    "message.received": (("text",), {"text": _text, "channel": _ref, "lang": _one_of("ru", "en")}),
    "grace.requested": (("text",), {"text": _text, "late_by": _duration, "invoice": _ref}),
    "incident.reported": (("severity",), {
        "severity": _one_of(*SEVERITIES), "category": _ref, "description": _text, "appointment": _ref,
        "reported_by": _ref}),
    "event.retracted": (("event",), {"event": _ref, "reason": _text}),
    # a person's discretion (docs/discretion.md): a personal exception to one rule, and its early end
    "exception.set": (("rule", "until", "reason"), {
        "rule": _ref, "until": _time, "reason": _text, "by": _ref, "from": _time}),
    "exception.ended": (("exception",), {"exception": _ref, "reason": _text, "by": _ref}),
    # a counterparty asks for leniency about a decision, or the event behind one
    "exception.requested": (("text", "about", "ask"), {
        "text": _text, "about": _ref, "ask": _one_of("waive_fee", "forgive_strike", "change_booking"),
        "lang": _one_of("ru", "en")}),
    "review.received": (("rating",), {
        "rating": _rating, "text": _text, "author": _ref, "appointment": _ref, "publish": _flag}),
}
for _required, _checks in CATALOGUE.values():
    _checks.setdefault("partner", _key)  # any event may name the partner it is about too (EVENTS.md "Partners")
NUMBERS = frozenset({_count, _positive, _rating})  # the checks of fields that hold a number
FLAGS = frozenset({_flag})
DECIMALS = frozenset({_money, _count, _positive})  # fields that may hold a fraction ("1500,50" in a ";" CSV)

_ENVELOPE = ("id", "type", "counterparty", "occurred_at")
_LONGEST = {"id": limits.ID, "type": limits.TYPE, "counterparty": limits.KEY}  # occurred_at: parse_instant's
_ANY_TYPE: dict[str, Check] = {"partner": _key}  # a type outside the catalogue: data.partner is still a key
_encoder = msgspec.json.Encoder(order="sorted")


def digest(envelope: Mapping[str, Any]) -> str:
    """The content fingerprint that tells a duplicate from a conflicting reuse of an id."""
    return hashlib.blake2b(_encoder.encode(envelope), digest_size=16).hexdigest()


def validate(raw: object, *, internal: bool = False) -> Event:
    """An Event from a decoded envelope, or EventError naming the first field that is wrong."""
    if not isinstance(raw, dict):
        raise EventError("event", Said(N_("must be a JSON object with id, type, counterparty, occurred_at and data")))
    event_id = raw.get("id")
    named = event_id if isinstance(event_id, str) and 0 < len(event_id) <= limits.ID else None
    for name in _ENVELOPE:
        value = raw.get(name)
        if value is None:
            raise EventError(name, Said(N_("is missing")), named)
        if not isinstance(value, str) or not value.strip():
            raise EventError(name, Said(N_("must be a non-empty string, got {value}"), value=shown(value)), named)
    assert isinstance(event_id, str)
    kind: str = raw["type"]
    if len(event_id) > limits.ID or len(kind) > limits.TYPE or len(raw["counterparty"]) > limits.KEY:
        for name, longest in _LONGEST.items():
            if len(raw[name]) > longest:
                raise EventError(name, f"must be at most {longest} characters, got {len(raw[name])}: "
                                 f"{shown(raw[name])}", named)
    if kind.startswith(RESERVED_PREFIX) and not internal:
        raise EventError("type", Said(N_("{type} is reserved for acts recorded by firmly itself"), type=repr(kind)),
                         event_id)
    try:
        at = parse_instant(raw["occurred_at"])
    except TimeError as exc:
        raise EventError("occurred_at", said_of(exc), event_id) from None
    data = raw.get("data", {})
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise EventError("data", Said(N_("must be an object of the event's fields")), event_id)
    spec = CATALOGUE.get(kind)
    required, checks = spec if spec is not None else ((), _ANY_TYPE)
    for name in required:
        if data.get(name) is None:
            raise EventError(f"data.{name}", Said(N_("is required for {type}"), type=kind), event_id)
    for name, value in data.items():  # events carry few fields: walk them, not the catalogue
        if len(name) > limits.FIELD_NAME:
            raise EventError("data", f"has a field name of {len(name)} characters; at most {limits.FIELD_NAME}: "
                             f"{shown(name)}", event_id)
        if value is None:
            continue
        check = checks.get(name)
        if check is not None:
            problem = check(value)
            if problem:
                raise EventError(f"data.{name}", problem, event_id)
        if type(value) is not str or len(value) > limits.TEXT:  # most values are short texts: nothing to walk
            found = _within(value)
            if found is not None:
                raise EventError(f"data.{name}{found[0]}", found[1], event_id)
    if kind == EXCEPTION_SET:
        at = _applies_from(data, at, event_id)
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
    if len(encoded) > limits.EVENT_BYTES:
        raise EventError("event", f"is {len(encoded)} bytes as JSON; an event is at most {limits.EVENT_BYTES}",
                         event_id)
    return Event(id=event_id, type=kind, counterparty=counterparty, occurred_at=raw["occurred_at"], at=at,
                 data=data, digest=hashlib.blake2b(encoded, digest_size=16).hexdigest(),
                 partner=partner if isinstance(partner, str) and partner and partner != counterparty else None)


EXCEPTION_SET = "exception.set"


def _applies_from(data: dict[str, Any], at: int, event_id: str) -> int:
    """A personal exception set "from" an earlier time is folded at that time: the counterparty's history is
    folded again from there (a late event), so the breaches since then are judged under it."""
    start = parse_instant(data["from"]) if data.get("from") is not None else at
    if parse_instant(data["until"]) <= start:
        raise EventError("data.until", Said(N_("must be later than the time the exception applies from, got "
                                               "{value}"), value=shown(data["until"])), event_id)
    return min(start, at)


_json_decoder = msgspec.json.Decoder()


def decode_raw(text: str | bytes) -> object:
    """One JSON document (a line of a file, a request's body) as builtins, or EventError("json", why) in plain
    words: not JSON, not UTF-8 text, or nested deeper than the decoder goes."""
    try:
        return _json_decoder.decode(text)
    except UnicodeDecodeError as exc:
        raise EventError("json", f"is not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); "
                                 "save the file or send the body as UTF-8") from None
    except RecursionError:  # msgspec decodes nesting as deep as Python's stack allows, then stops here
        raise EventError("json", "nests objects and lists too deeply (an event's data nests at most "
                                 f"{limits.DEPTH} levels)") from None
    except msgspec.DecodeError as exc:
        raise EventError("json", f"is not valid JSON ({exc})") from None


def decode_json(line: str | bytes) -> Event:
    return validate(decode_raw(line))
