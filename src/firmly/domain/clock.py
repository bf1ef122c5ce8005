"""Instants as the engine counts them: integer microseconds since the epoch, UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class TimeError(ValueError):
    """A value that is not an RFC 3339 time with an offset."""


def parse_instant(value: object) -> int:
    """Microseconds since the epoch from an RFC 3339 string that carries its offset."""
    if not isinstance(value, str):
        raise TimeError(f"must be an RFC 3339 time with an offset, got {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise TimeError(f"must be an RFC 3339 time like \"2026-03-01T10:00:00+03:00\", got {value!r}") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise TimeError(f"has no time zone offset: {value!r} (write it like \"2026-03-01T10:00:00+03:00\")")
    return to_us(moment)


_US = timedelta(microseconds=1)


def to_us(moment: datetime) -> int:
    return (moment - EPOCH) // _US


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def iso(us: int) -> str:
    """The UTC form every JSON output carries: "2026-03-01T07:00:00+00:00"."""
    return from_us(us).isoformat()
