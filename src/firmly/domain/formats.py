"""Times and money as a person of a language writes them (Babel's CLDR data; no I/O, no clock).

Every text a person reads goes through these: a moment in the reader's time zone, without seconds,
the zone named where it could be doubted; an amount with its currency sign as the locale places it."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from functools import cache, lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as _babel_date
from babel.dates import format_time as _babel_time
from babel.dates import get_datetime_format, get_timezone_name
from babel.numbers import format_currency as _babel_currency
from babel.numbers import format_decimal as _babel_decimal

from firmly.domain.money import Money

LANGUAGES = ("ru", "en")


@cache
def _locale(lang: str) -> Locale:
    return Locale.parse(lang if lang in LANGUAGES else "en")


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _local(moment: datetime | int, zone: str) -> datetime:
    """An aware moment (or UTC microseconds) in the reader's zone."""
    if isinstance(moment, int):
        moment = datetime.fromtimestamp(moment / 1_000_000, _zone("UTC"))
    if moment.tzinfo is None:
        raise ValueError("a time a person reads must carry its zone")
    return moment.astimezone(_zone(zone))


def zone_label(moment: datetime | int, zone: str) -> str:
    """The zone as people name it where that is short ("MSK"), else its offset ("+03:00")."""
    local = _local(moment, zone)
    abbreviation = local.tzname() or ""
    if abbreviation.isalpha():
        return abbreviation
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def format_time(moment: datetime | int, zone: str, lang: str, *, seconds: bool = False,
                with_zone: bool = False) -> str:
    """A moment as a date and a time of day in the reader's zone: "10.09.2026, 09:00" / "9/10/26, 9:00 AM"."""
    local = _local(moment, zone)
    form: Literal["short", "medium"] = "medium" if seconds else "short"
    lang = lang if lang in LANGUAGES else "en"
    text = (_joint(form, lang).replace("{0}", _time_of_day(local.hour, local.minute, local.second if seconds else 0,
                                                           form, lang))
            .replace("{1}", _day(local.year, local.month, local.day, form, lang)))
    return f"{text} {zone_label(local, zone)}" if with_zone else text


# format_time as Babel's format_datetime builds it (the locale's joint pattern, the day's and the time's text),
# each part cached: the short and medium patterns of both languages name no zone (a test checks), so a day's
# text depends on the day alone, a time's on the time of day. Babel took about 60 µs a call, and deciding writes
# a deadline into many explanations
@cache
def _joint(form: Literal["short", "medium"], lang: str) -> str:
    return str(get_datetime_format(form, locale=_locale(lang))).replace("'", "")


@lru_cache(maxsize=4_096)
def _day(year: int, month: int, day: int, form: Literal["short", "medium"], lang: str) -> str:
    return _babel_date(date(year, month, day), form, locale=_locale(lang))


@lru_cache(maxsize=4_096)
def _time_of_day(hour: int, minute: int, second: int, form: Literal["short", "medium"], lang: str) -> str:
    return _babel_time(time(hour, minute, second), form, locale=_locale(lang))


def format_date(day: date | datetime | int, lang: str, zone: str = "UTC", form: str = "medium") -> str:
    """A day as the language writes it ("10 сент. 2026 г." / "Sep 10, 2026")."""
    if isinstance(day, (datetime, int)):
        day = _local(day, zone).date()
    return _babel_date(day, form, locale=_locale(lang))


def format_money(money: Money | tuple[Decimal, str], lang: str) -> str:
    """An amount with its currency as the locale writes it: "3 000,00 ₽", "£25.00"."""
    amount, currency = (money.amount, money.currency) if isinstance(money, Money) else money
    return _babel_currency(amount, currency, locale=_locale(lang))


def format_number(value: Decimal | int, lang: str, digits: int = 2) -> str:
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return _babel_decimal(value, pattern, locale=_locale(lang))


def zone_name(zone: str, lang: str) -> str:
    """A zone's name in words ("Moscow Time"), for headers that explain the times below them."""
    return str(get_timezone_name(_zone(zone), locale=_locale(lang)))


def format_when(moment: datetime | int, zone: str, lang: str, *, with_zone: bool = True) -> str:
    """A moment with its day written out, to the minute: "10 сент. 2026 г., 09:00 MSK" / "Sep 10, 2026, 9:00 AM
    BST" (pages, where a row has room and a reader abroad must not doubt whose 09:00 it is)."""
    local = _local(moment, zone)
    locale = _locale(lang)
    day = _babel_date(local.date(), "medium", locale=locale)
    clock = _babel_time(local, "short", tzinfo=local.tzinfo, locale=locale)
    text = str(locale.datetime_formats["medium"]).replace("{1}", day).replace("{0}", clock)
    return f"{text} {zone_label(local, zone)}" if with_zone else text
