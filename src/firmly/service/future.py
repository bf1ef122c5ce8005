"""Events are facts that already happened: one dated beyond the wall clock's horizon is refused, so that
no sender's typo (2062 for 2026) can move the time by which the rest of the workspace is judged."""

from __future__ import annotations

from firmly.domain.durations import counted

_SECOND = 1_000_000
_YEAR = 365 * 86_400 * _SECOND


def refusal(ahead: int, horizon: int) -> str:
    """Why an event dated `ahead` of the wall clock, more than `horizon`, is refused."""
    return (f"is {span(ahead)} in the future; events are facts that already happened "
            f"(up to {span(horizon)} ahead is accepted, FIRMLY_FUTURE_HORIZON)")


def span(us: int) -> str:
    """A length of time in words: "36 years", "1 day and 2 hours", "25 minutes", "0 seconds"."""
    if us >= _YEAR:
        return _count(us // _YEAR, "year")
    minutes, seconds = divmod(us // _SECOND, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = ((days, "day"), (hours, "hour"), (minutes, "minute"), (seconds, "second"))
    shown = [_count(n, unit) for n, unit in parts if n][:2]  # the two largest: "1 day and 2 hours"
    return " and ".join(shown) or _count(0, "second")


def _count(n: int, unit: str) -> str:
    return counted(n, (unit, f"{unit}s"))
