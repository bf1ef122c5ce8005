"""An event's values as the fold reads them: never a failure on a stored event.

The door checks every value as it comes in, but the log keeps events stored before a check existed (a
`late_by` of 200 years, an amount in Arabic-Indic digits, a quantity of "NaN"). The fold skips such a
value for the rule or the figure that reads it, as it skips a time that does not parse, and logs why. The
reason depends on the value alone, so live processing and every replay skip the same ones.
"""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation

from firmly.domain import limits
from firmly.domain.durations import DurationError, parse_duration
from firmly.domain.durations import to_us as duration_us
from firmly.domain.money import MoneyError, parse_amount

log = logging.getLogger("firmly.engine")


def skipped(event: str, field: str, reason: str) -> None:
    log.warning("event %s: %s skipped: %s", event, field, reason)


def amount(value: object, event: str, field: str) -> Decimal | None:
    """Money as the door reads it ("1500.00"), or None when it is not."""
    try:
        return parse_amount(value)
    except MoneyError as exc:
        skipped(event, field, str(exc))
        return None


def duration(value: object, event: str, field: str) -> int | None:
    """A duration ("3d") in microseconds, at most 100 years, or None when it is not one."""
    try:
        return duration_us(parse_duration(str(value)))
    except DurationError as exc:
        skipped(event, field, str(exc))
        return None


def number(value: object, event: str, field: str) -> Decimal | None:
    """A quantity ("2", 2, 1.5): a finite number below 10^15 in size, or None."""
    try:
        found = Decimal(str(value))
    except (InvalidOperation, ValueError):
        found = None
    if found is None or not found.is_finite() or abs(found) >= limits.NUMBER:
        skipped(event, field, f"must be a number below 10^15 in size, got {limits.shown(value)}")
        return None
    return found


def whole(value: object, event: str, field: str) -> int | None:
    """A count (minutes, a rating, a quantity): a whole number below 10^15 in size (a fraction is cut), or None."""
    try:
        found: int | None = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        found = None
    if found is None or abs(found) >= limits.NUMBER:
        skipped(event, field, f"must be a whole number below 10^15 in size, got {limits.shown(value)}")
        return None
    return found
