"""One vocabulary for everything a person reads: the human names of event types, data fields, actions,
statuses, steps, tiers, channels and counterparty kinds.

The names are English msgids marked with N_ (`pybabel extract -k N_` finds them, see babel.cfg) and
translated through the gettext catalogues the web UI uses; the translator is passed in, so this module
stays a pure lookup. A rulebook's own `labels:` (domain/labels.py) come first: they name its custom
fields, channels, services and tiers. Keys and ids stay in JSON and the API only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Protocol

from firmly.domain.clock import TimeError, parse_instant
from firmly.domain.durations import DurationError, describe, parse_duration
from firmly.domain.formats import format_date, format_money, format_time


def N_(message: str) -> str:  # gettext's name for "mark now, translate when shown"
    return message


class Translator(Protocol):
    """What this module needs of a gettext catalogue (babel.support.Translations has it)."""

    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


class Untranslated:
    """The msgids themselves: English, for a reader no catalogue is loaded for."""

    def gettext(self, message: str) -> str:
        return message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return singular if n == 1 else plural


EVENTS = {
    "counterparty.upserted": N_("details updated"), "appointment.booked": N_("appointment booked"),
    "appointment.rescheduled": N_("appointment moved"), "appointment.cancelled": N_("appointment cancelled"),
    "appointment.attended": N_("the visit took place"), "appointment.no_show": N_("missed appointment"),
    "order.submitted": N_("order placed"), "delivery.completed": N_("delivery made"),
    "invoice.issued": N_("invoice issued"), "payment.received": N_("payment received"),
    "request.received": N_("request received"), "work.logged": N_("work logged"),
    "service.rendered": N_("service rendered"), "message.received": N_("message received"),
    "grace.requested": N_("request for grace"),
    "exception.requested": N_("request for leniency"), "exception.set": N_("personal exception set"),
    "exception.ended": N_("personal exception ended"), "incident.reported": N_("incident reported"),
    "event.retracted": N_("record withdrawn"), "review.received": N_("review received"),
    "review.acted": N_("decision reviewed"),
}

# Field paths a rule refers to ("remind before", "due"): what the deadline is, in words
PATHS = {
    "appointment.starts_at": N_("the start of the appointment"), "invoice.due_at": N_("the invoice due date"),
    "order.for_date": N_("the day of the order"), "delivery.due_at": N_("the delivery date"),
    "order.due_at": N_("the delivery date"), "payment.received": N_("payment received"),
}

# The same, as the moment a reminder comes before
BEFORE = {
    "appointment.starts_at": N_("before the appointment starts"), "invoice.due_at": N_("before the invoice is due"),
    "order.for_date": N_("before the day of the order"), "delivery.due_at": N_("before the delivery is due"),
    "order.due_at": N_("before the delivery is due"),
}
BEFORE_OWN = N_("before {what}")  # a field path the rulebook names itself

FIELDS = {
    "kind": N_("kind"), "name": N_("name"), "tier": N_("tier"), "locale": N_("language"),
    "timezone": N_("time zone"), "prices": N_("prices"), "switching_cost": N_("cost of switching"),
    "rulebooks": N_("rulebooks"), "appointment": N_("appointment"), "starts_at": N_("starts"),
    "price": N_("price"), "partner": N_("partner"), "service": N_("service"), "by": N_("by"),
    "order": N_("order"), "for_date": N_("for the day"), "due_at": N_("due"), "defects": N_("defects"),
    "invoice": N_("invoice"), "amount": N_("amount"), "request": N_("request"), "channel": N_("channel"),
    "topic": N_("topic"), "effort_minutes": N_("minutes of work"), "minutes": N_("minutes"),
    "in_tariff": N_("within the plan"), "quantity": N_("quantity"), "text": N_("text"), "lang": N_("language"),
    "late_by": N_("late by"), "severity": N_("severity"), "category": N_("category"),
    "description": N_("description"), "reported_by": N_("reported by"), "event": N_("record"),
    "reason": N_("reason"), "rating": N_("rating"), "author": N_("author"), "publish": N_("published"),
    "email": N_("email"), "project": N_("project"), "ask": N_("asks"), "about": N_("about"),
    "until": N_("until"), "from": N_("from"), "exception": N_("exception"), "rule": N_("rule"),
}

ACTIONS = {
    "reminder": N_("reminder"), "thanks": N_("thanks"), "feedback": N_("feedback"), "warning": N_("warning"),
    "fee": N_("fee"), "surcharge": N_("surcharge"), "require_prepayment": N_("prepayment required"),
    "suspend": N_("suspension"), "terminate": N_("termination"), "grace_approved": N_("grace approved"),
    "grace_denied": N_("grace denied"), "earn_back": N_("strike earned back"), "bill": N_("bill"),
    "top_up_invoice": N_("top-up invoice"), "refused": N_("refused"), "exempt": N_("exempt"),
    "exception_granted": N_("leniency granted"), "exception_denied": N_("leniency declined"),
}

STATUSES = {
    "applied": N_("applied"), "scheduled": N_("scheduled"), "cancelled": N_("cancelled"),
    "proposed": N_("proposed"), "approved": N_("approved"), "softened": N_("softened"),
    "dismissed": N_("dismissed"), "superseded": N_("superseded"),
    # a counterparty's standing, which no decision's status shares a key with
    "active": N_("active"), "restricted": N_("restricted"), "suspended": N_("suspended"),
    "terminated": N_("terminated"),
    # a message's state in the outbox, which no other status shares a key with
    "pending": N_("waiting to be sent"), "sending": N_("being sent"), "sent": N_("sent"), "failed": N_("failed"),
}

KINDS = {"client": N_("client"), "partner": N_("partner"), "supplier": N_("supplier")}
# "for clients": the kinds a rulebook governs, as a phrase (Russian puts the noun in the genitive)
FOR_KINDS = {"client": N_("for clients"), "partner": N_("for partners"), "supplier": N_("for suppliers")}

TIERS = {"standard": N_("standard"), "family": N_("family"), "key": N_("key account"), "vip": N_("VIP"),
         "premium": N_("premium"), "basic": N_("basic")}

CHANNELS = {"email": N_("email"), "phone": N_("phone"), "portal": N_("client portal"), "telegram": N_("Telegram"),
            "whatsapp": N_("WhatsApp"), "chat": N_("chat"), "sms": N_("text message"), "web": N_("website"),
            "office": N_("in person")}

SEVERITIES = {"minor": N_("minor"), "major": N_("major"), "fatal": N_("critical")}
BY = {"client": N_("the client"), "provider": N_("us"), "unknown": N_("not known")}
LANGUAGES = {"ru": N_("Russian"), "en": N_("English")}
ASKS = {"waive_fee": N_("to waive the fee"), "forgive_strike": N_("to forgive the breach"),
        "change_booking": N_("to change the booking")}  # what a request for leniency asks
YES, NO = N_("yes"), N_("no")
EXCEPTION_STATES = {"active": N_("holds now"), "upcoming": N_("not yet begun"), "expired": N_("ran out"),
                    "ended": N_("ended early")}  # a personal exception's state, as people say it

# What a data field holds, where it needs more than its text to be read (EVENTS.md's catalogue)
TIMES = frozenset({"starts_at", "due_at"})
DATES = frozenset({"for_date"})
MONEY = frozenset({"price", "amount", "switching_cost"})
DURATIONS = frozenset({"late_by"})


class Words:
    """The names one reader reads: a language's catalogue, under a rulebook's own labels."""

    def __init__(self, lang: str, translator: Translator | None = None,
                 labels: Mapping[str, str] | None = None) -> None:
        self.lang = lang
        self.tr: Translator = translator if translator is not None else Untranslated()
        self.labels: Mapping[str, str] = labels or {}

    def _(self, message: str) -> str:
        return self.tr.gettext(message)

    def _named(self, key: str, table: Mapping[str, str]) -> str:
        own = self.labels.get(key)
        if own is not None:
            return own
        known = table.get(key)
        return self._(known) if known is not None else plain(key)

    def event(self, type_: str) -> str:
        return self._named(type_, EVENTS)

    def path(self, ref: str) -> str:
        """A field path a rule refers to ("invoice.due_at") as what it means ("the invoice due date")."""
        return self._named(ref, PATHS)

    def before(self, ref: str) -> str:
        own = self.labels.get(ref)
        if own is not None:
            return self._(BEFORE_OWN).format(what=self.quote(own))
        known = BEFORE.get(ref)
        return self._(known) if known is not None else self._(BEFORE_OWN).format(what=self.quote(self.path(ref)))

    def field(self, name: str) -> str:
        return self._named(name, FIELDS)

    def action(self, name: str) -> str:
        return self._named(name, ACTIONS)

    def status(self, name: str) -> str:
        return self._named(name, STATUSES)

    def kind(self, name: str) -> str:
        return self._named(name, KINDS)

    def for_kinds(self, kinds: tuple[str, ...] | list[str]) -> str:
        return ", ".join(self._(FOR_KINDS[k]) if k in FOR_KINDS else plain(k) for k in kinds)

    def tier(self, name: str) -> str:
        return self._named(name, TIERS)

    def severity(self, name: str) -> str:
        return self._named(name, SEVERITIES)

    def channel(self, name: str) -> str:
        """"email:orders" by its label, else the medium's name with the mailbox in quotes."""
        own = self.labels.get(name)
        if own is not None:
            return own
        medium, _, box = name.partition(":")
        first = self._named(medium, CHANNELS)
        return f"{first} {self.quote(box)}" if box else first

    def service(self, code: str, title: str | None = None) -> str:
        return self.labels.get(code) or title or plain(code)

    def quote(self, text: str) -> str:
        return f"«{text}»" if self.lang == "ru" else f"\u201c{text}\u201d"

    def value(self, name: str, value: object) -> str:
        """A data value as words: no Python literals (True, None, [..], {..}) reach a reader."""
        if isinstance(value, str):
            named = _NAMED.get(name)
            if named is not None:
                return named(self, value)
            if name == "event" and "." in value and " " not in value:
                return self.event(value)
            return value
        if value is None:
            return "—"
        if isinstance(value, bool):
            return self._(YES if value else NO)
        if isinstance(value, dict):
            return "; ".join(f"{self.service(str(k))}: {self.value(str(k), v)}" for k, v in value.items())
        if isinstance(value, list | tuple):
            return ", ".join(self.value(name, v) for v in value)
        return str(value)

    def facts(self, data: Mapping[str, object], zone: str, currency: str | None,
              leave_out: frozenset[str] = frozenset({"text"})) -> list[tuple[str, str]]:
        """An event's data as (name, words) pairs: times in the reader's zone, money and days as the
        language writes them, everything else through value()."""
        return [(self.field(k), self._fact(k, v, zone, currency)) for k, v in data.items() if k not in leave_out]

    def _fact(self, name: str, value: object, zone: str, currency: str | None) -> str:
        try:
            if name in TIMES and isinstance(value, str | int):
                return _time_words(value, zone, self.lang)
            if name in DATES and isinstance(value, str):
                return format_date(date.fromisoformat(value), self.lang)
            if name in DURATIONS:
                return describe(parse_duration(value), self.lang)
            if name in MONEY and currency and not isinstance(value, bool):
                return format_money((Decimal(str(value)), currency), self.lang)
            if name == "prices" and isinstance(value, Mapping) and currency:
                return "; ".join(f"{self.service(str(k))}: {self._fact('price', v, zone, currency)}"
                                 for k, v in value.items())
        except (TimeError, DurationError, ValueError, InvalidOperation):
            pass  # stored before it was checked: shown as it came
        return self.value(name, value)


@lru_cache(maxsize=65_536)
def _time_words(value: str | int, zone: str, lang: str) -> str:
    """A moment as the reader's clock shows it. Cached: a page shown again names the same moments, and
    Babel's formatting is most of a timeline's cost."""
    return format_time(parse_instant(value), zone, lang)


# Data fields whose text is a key of something named: how each is named (a rulebook's label comes first)
_NAMED: dict[str, Callable[[Words, str], str]] = {
    "by": lambda w, v: w._named(v, BY), "locale": lambda w, v: w._named(v, LANGUAGES),
    "lang": lambda w, v: w._named(v, LANGUAGES), "ask": lambda w, v: w._named(v, ASKS), "kind": Words.kind,
    "tier": Words.tier,
    "severity": Words.severity, "channel": Words.channel,
    # a category, topic or service: the rulebook's label (a service: its price's title), else its words
    "category": lambda w, v: w._named(v, {}), "topic": lambda w, v: w._named(v, {}),
    "service": lambda w, v: w._named(v, {}),
}


def plain(key: str) -> str:
    """A key nobody has named yet, at least without its underscores and dots ("due at")."""
    return key.replace("_", " ").replace(".", " ").replace(":", " ").strip() or key
