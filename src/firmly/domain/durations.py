"""Durations as rulebooks and events write them: "90d", "24h", "30m", "2w", "45s"."""

from __future__ import annotations

import re
from datetime import timedelta

from firmly.domain import limits
from firmly.domain.said import N_, Said

_DURATION = re.compile(r"\s*([0-9]{1,20})\s*([smhdw])\s*")  # ASCII digits: "٣h" or "²d" is no duration
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_LONGEST = limits.YEARS * 36525 * 864  # seconds in 100 years of 365.25 days


class DurationError(ValueError):
    """A value that is not a duration."""


def parse_duration(value: object) -> timedelta:
    """A duration of at most 100 years: longer is a typo, and past a timedelta's range."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise DurationError(Said(N_("must be a duration like \"24h\" or \"90d\", got %(value)s"),
                                 value=limits.shown(value)))
    match = _DURATION.fullmatch(value)
    if not match:
        raise DurationError(Said(N_("must be a duration like \"24h\" or \"90d\" (s, m, h, d or w), got %(value)s"),
                                 value=limits.shown(value)))
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds > _LONGEST:
        raise DurationError(Said(N_("must be at most %(years)s years, got %(value)s"), years=limits.YEARS,
                                 value=repr(value)))
    return timedelta(seconds=seconds)


def to_us(delta: timedelta) -> int:
    """Microseconds: the engine's unit of time."""
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def describe(delta: timedelta, lang: str) -> str:
    """A duration in words a client reads: "24 часа", "90 days"."""
    seconds = int(delta.total_seconds())
    if 0 < seconds <= 48 * 3600 and seconds % 3600 == 0:
        return _words(seconds // 3600, "h", lang)  # "24 часа" reads better than "1 день" for a notice
    for unit, size in (("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return _words(seconds // size, unit, lang)
    return _words(seconds, "s", lang)


_EN = {"w": ("week", "weeks"), "d": ("day", "days"), "h": ("hour", "hours"),
       "m": ("minute", "minutes"), "s": ("second", "seconds")}
_RU = {"w": ("неделя", "недели", "недель"), "d": ("день", "дня", "дней"), "h": ("час", "часа", "часов"),
       "m": ("минута", "минуты", "минут"), "s": ("секунда", "секунды", "секунд")}


def _words(n: int, unit: str, lang: str) -> str:
    return counted(n, _RU[unit] if lang == "ru" else _EN[unit])


def counted(n: int, forms: tuple[str, ...]) -> str:
    """"1 day", "2 days"; in Russian by the three forms for 1, 2-4 and 5+ ("1 час", "2 часа", "5 часов")."""
    if len(forms) == 2:
        return f"{n} {forms[0] if n == 1 else forms[1]}"
    one, few, many = forms
    if n % 10 == 1 and n % 100 != 11:
        return f"{n} {one}"
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return f"{n} {few}"
    return f"{n} {many}"
