"""Scores: what a counterparty costs to serve, set against its peers.

The fold keeps one small bucket per active day (effort, revenue and what the effort went on), so a
report reads a few numbers per counterparty instead of its whole history. Days older than the
cost-to-serve period are dropped as new ones come.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from statistics import median
from typing import Any

import msgspec

DAY_US = 86_400_000_000


class Day(msgspec.Struct, gc=False, array_like=True):
    day: int  # days since the epoch, UTC
    minutes: int = 0  # effort: work.logged minutes and request.received effort_minutes
    out_of_tariff: int = 0  # work.logged minutes with in_tariff false
    revenue: Decimal = Decimal(0)  # payments received
    off_channel: int = 0  # requests through a channel the rules do not allow
    topics: dict[str, int] | None = None  # requests by topic
    services: dict[str, int] | None = None  # services rendered by code


def day_of(days: list[Day], at: int, period_us: int) -> Day:
    """The bucket for `at`, made if needed; buckets that left the period are dropped."""
    today = at // DAY_US
    if days and days[-1].day == today:
        return days[-1]
    for d in reversed(days):  # an earlier day (a late event): rare, found by a short scan
        if d.day == today:
            return d
    horizon = (at - period_us) // DAY_US
    if days and days[0].day < horizon:
        days[:] = [d for d in days if d.day >= horizon]
    bucket = Day(today)
    days.append(bucket)
    days.sort(key=lambda d: d.day)
    return bucket


def count(table: dict[str, int] | None, key: str, n: int = 1) -> dict[str, int]:
    table = table if table is not None else {}
    table[key] = table.get(key, 0) + n
    return table


@dataclass(frozen=True, slots=True)
class Cost:
    """One counterparty's cost-to-serve over a period."""

    key: str
    name: str
    kind: str
    effort_minutes: int
    revenue: Decimal
    currency: str
    by_topic: dict[str, int]
    by_service: dict[str, int]
    off_channel: int
    out_of_tariff_minutes: int

    @property
    def figure(self) -> Decimal | None:
        """Effort minutes per unit of revenue; None without revenue."""
        return Decimal(self.effort_minutes) / self.revenue if self.revenue > 0 else None


def cost(key: str, name: str, kind: str, currency: str, days: list[Day] | None, now: int, period_us: int) -> Cost:
    horizon = (now - period_us) // DAY_US
    end = now // DAY_US
    minutes = out = off = 0
    revenue = Decimal(0)
    topics: dict[str, int] = {}
    services: dict[str, int] = {}
    for d in days or ():
        if horizon <= d.day <= end:
            minutes += d.minutes
            out += d.out_of_tariff
            off += d.off_channel
            revenue += d.revenue
            for k, v in (d.topics or {}).items():
                topics[k] = topics.get(k, 0) + v
            for k, v in (d.services or {}).items():
                services[k] = services.get(k, 0) + v
    return Cost(key, name, kind, minutes, revenue, currency, topics, services, off, out)


def ratios(costs: list[Cost]) -> dict[str, float | None]:
    """Each counterparty's figure over the median figure of its kind (those with revenue only)."""
    by_kind: dict[str, list[Decimal]] = {}
    for c in costs:
        f = c.figure
        if f is not None:
            by_kind.setdefault(c.kind, []).append(f)
    medians = {kind: median(values) for kind, values in by_kind.items()}
    out: dict[str, float | None] = {}
    for c in costs:
        f, m = c.figure, medians.get(c.kind)
        if f is None or m is None:
            out[c.key] = None
        elif m == 0:
            out[c.key] = 0.0 if f == 0 else None
        else:
            out[c.key] = round(float(f / m), 2)
    return out


def flagged(c: Cost, ratio: float | None, flag_ratio: Decimal) -> bool:
    """Expensive against peers; effort with no revenue at all is flagged too."""
    if ratio is None:
        return c.effort_minutes > 0
    return Decimal(str(ratio)) >= flag_ratio


def cost_row(c: Cost, ratio: float | None, flag_ratio: Decimal) -> dict[str, Any]:
    return {
        "key": c.key, "name": c.name, "kind": c.kind, "effort_minutes": c.effort_minutes,
        "revenue": str(c.revenue.quantize(Decimal("0.01"))), "currency": c.currency, "ratio": ratio,
        "flagged": flagged(c, ratio, flag_ratio),
        "breakdown": {"by_topic": dict(sorted(c.by_topic.items())), "by_service": dict(sorted(c.by_service.items())),
                      "off_channel": c.off_channel, "out_of_tariff_minutes": c.out_of_tariff_minutes},
    }
