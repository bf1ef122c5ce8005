"""Instants as the engine counts them: integer microseconds since the epoch, UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from firmly.domain import limits
from firmly.domain.said import N_, Said

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class TimeError(ValueError):
    """A value that is not an RFC 3339 time with an offset, or one outside the years firmly keeps."""


_LIKE = N_("must be an RFC 3339 time like \"2026-03-01T10:00:00+03:00\", got {value}")


def parse_instant(value: object) -> int:
    """Microseconds since the epoch from an RFC 3339 string that carries its offset, from 1970 up to 2200:
    outside those years a time is a typo (0001, 9999), and adding a rule's window to it would overflow."""
    if not isinstance(value, str):
        raise TimeError(Said(N_("must be an RFC 3339 time with an offset, got {value}"), value=limits.shown(value)))
    if len(value) > limits.TIME_TEXT:
        raise TimeError(Said(_LIKE, value=limits.shown(value)))
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise TimeError(Said(_LIKE, value=repr(value))) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise TimeError(Said(N_("has no time zone offset: {value} (write it like \"2026-03-01T10:00:00+03:00\")"),
                             value=repr(value)))
    us = to_us(moment)
    if not _EARLIEST_US <= us < _END_US:
        raise TimeError(Said(N_("must be between {first} and {end}, got {value}"), first=limits.FIRST_YEAR,
                             end=limits.END_YEAR, value=repr(value)))
    return us


_US = timedelta(microseconds=1)


def to_us(moment: datetime) -> int:
    return (moment - EPOCH) // _US


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


_EARLIEST_US = to_us(datetime(limits.FIRST_YEAR, 1, 1, tzinfo=UTC))
_END_US = to_us(datetime(limits.END_YEAR, 1, 1, tzinfo=UTC))


def iso(us: int) -> str:
    """The UTC form every JSON output carries: "2026-03-01T07:00:00+00:00"."""
    return from_us(us).isoformat()
