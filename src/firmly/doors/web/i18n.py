"""Languages of the web UI: gettext catalogues (.po, compiled in memory at start) and Babel's formats.

The language of a request lives in a context variable, so templates and messages translate through one
pair of gettext functions installed once, and each request (each thread of the pool) has its own."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent

from firmly.domain.clock import parse_instant
from firmly.domain.errors import Problem
from firmly.domain.formats import format_time, format_when
from firmly.doors import catalogues
from firmly.service.ingest import Rejection

LOCALES = catalogues.LOCALES
DEFAULT = "en"
_current: ContextVar[str] = ContextVar("firmly_lang", default=DEFAULT)


translations = catalogues.translations  # one compiled catalogue per language, shared with the CLI


def use(lang: str) -> None:
    _current.set(lang if lang in LOCALES else DEFAULT)


def current() -> str:
    return _current.get()


def gettext(message: str) -> str:
    return translations(_current.get()).gettext(message)


def problem(p: Problem) -> str:
    """A rulebook problem's message in the page's language."""
    return catalogues.problem_message(p, _current.get())


def reason(refused: Rejection) -> str:
    """Why an event was refused, in the page's language (its line, event and field stay as they are)."""
    return refused.reason(gettext)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def choose(cookie: str | None, accept: str | None, default: str | None) -> str:
    """The visitor's choice (cookie), else the workspace's language, else what the browser asks for."""
    if cookie in LOCALES:
        return cookie
    if default in LOCALES:
        return default
    for part in (accept or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LOCALES:
            return tag
    return DEFAULT


# -- formats --------------------------------------------------------------------------------------
@cache
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _moment(us: int | str) -> datetime:
    """A moment from UTC microseconds or from RFC 3339 text (the decisions' public JSON)."""
    value = parse_instant(us) if isinstance(us, str) else us
    return datetime.fromtimestamp(value / 1_000_000, _zone("UTC"))


def when(us: int | str | None, timezone: str, form: str = "medium") -> str:
    """A moment in the workspace's time zone as the language writes it, to the minute: "medium" with its day
    written out and the zone named ("10 сент. 2026 г., 09:00 MSK"), "short" for a table's cell."""
    if us is None:
        return "—"
    moment = parse_instant(us) if isinstance(us, str) else us
    if form == "short":
        return format_time(moment, timezone, current())
    return format_when(moment, timezone, current())


def day(us: int | str | None, timezone: str, form: str = "medium") -> str:
    if us is None:
        return "—"
    return format_date(_moment(us).astimezone(_zone(timezone)).date(), form, locale=_locale(current()))


def money(amount: object, currency: str | None) -> str:
    """A decimal amount with its currency; never through a float."""
    if amount is None or amount == "":
        return "—"
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    if not currency:
        return format_decimal(value, "#,##0.00", locale=_locale(current()))
    return format_currency(value, currency, locale=_locale(current()))


def number(value: object, digits: int = 2) -> str:
    if value is None or value == "":
        return "—"
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return format_decimal(Decimal(str(value)), pattern, locale=_locale(current()))


def share(value: object) -> str:
    """0.9 as 90 %."""
    if value is None:
        return "—"
    return format_percent(Decimal(str(value)), locale=_locale(current()))
