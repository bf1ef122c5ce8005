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

from firmly.domain.durations import counted, to_us
from firmly.domain.sections import (
    CLEAN_BOOKING,
    KARMA_START,
    PRIOR_MEAN,
    PRIOR_WEIGHT,
    KarmaSection,
    ReviewsSection,
    ScorecardSection,
)
from firmly.domain.vocabulary import plain

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
    """Each counterparty's figure over the median figure of its kind in its currency (those with revenue only):
    minutes per rouble and minutes per euro are not one scale."""
    by_kind: dict[tuple[str, str], list[Decimal]] = {}
    for c in costs:
        f = c.figure
        if f is not None:
            by_kind.setdefault((c.kind, c.currency), []).append(f)
    medians = {peers: median(values) for peers, values in by_kind.items()}
    return {c.key: ratio_to(c.figure, medians.get((c.kind, c.currency))) for c in costs}


def ratio_to(figure: Decimal | None, peers: Decimal | None) -> float | None:
    """A figure over the peers' median, to two places; None where either is missing."""
    if figure is None or peers is None or peers == 0:  # nobody's effort recorded: nothing to compare with
        return None
    return round(float(figure / peers), 2)


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


# -- partners and suppliers -----------------------------------------------------------------------
class Incident(msgspec.Struct, gc=False, array_like=True):
    at: int
    event: str
    severity: str
    category: str | None = None
    appointment: str | None = None


class Track(msgspec.Struct, gc=False):
    """A partner's or supplier's record: incidents and late deliveries in the window, karma, reviews."""

    incidents: list[Incident] = msgspec.field(default_factory=list)  # within the longest window in force
    late: list[tuple[int, str]] | None = None  # late deliveries: (time, event)
    excused: list[str] | None = None  # fatal incidents whose termination a person dismissed
    incidents_total: int = 0
    karma: int | None = None
    clean: int = 0  # clean bookings
    bonus: Decimal = Decimal(0)
    rating_sum: int = 0  # published reviews only
    rating_n: int = 0
    history: list[tuple[int, int]] | None = None  # (day, karma at its end): for charts
    recent: dict[str, int] | None = None  # appointment -> time of its clean booking, while an incident may revoke it


REVOKE_WITHIN_US = 365 * DAY_US  # how long after a visit an incident still takes back its clean booking


@dataclass(frozen=True, slots=True)
class KarmaTerms:
    start: int = KARMA_START
    clean_booking: int = CLEAN_BOOKING
    incident: dict[str, int] | None = None
    bonus: Decimal | None = None
    prior_mean: Decimal = PRIOR_MEAN
    prior_weight: int = PRIOR_WEIGHT
    revoke_within_us: int = REVOKE_WITHIN_US  # how long after the visit an incident still takes back a clean booking
    enabled: bool = True  # a rulebook may keep reviews without karma


@dataclass(frozen=True, slots=True)
class ScorecardTerms:
    window_us: int
    weights: dict[str, int]
    drop_if: dict[str, str]  # an incident field -> value: any such incident in the window means drop
    replace_if: dict[str, int]  # weighted_at_least, late_at_least, incidents_at_least




def karma_terms(karma: KarmaSection | None, reviews: ReviewsSection | None) -> KarmaTerms | None:
    """What the fold and the reports read of the `karma:` and `reviews:` sections (a rulebook may keep
    reviews without karma)."""
    if karma is None and reviews is None:
        return None
    k, r = karma or KarmaSection(), reviews or ReviewsSection()
    return KarmaTerms(enabled=karma is not None, start=k.start, clean_booking=k.clean_booking,
                      incident=dict(k.incident), bonus=k.bonus_per_clean_booking, prior_mean=r.prior_mean,
                      prior_weight=r.prior_weight)


def scorecard_terms(section: ScorecardSection | None) -> ScorecardTerms | None:
    if section is None:
        return None
    return ScorecardTerms(to_us(section.window), dict(section.weights), dict(section.drop_if),
                          dict(section.replace_if))


def rating(track: Track, t: KarmaTerms) -> float | None:
    """Bayesian average: the prior counts as `prior_weight` reviews of `prior_mean`; None without reviews."""
    if track.rating_n == 0:
        return None
    value = (t.prior_mean * t.prior_weight + track.rating_sum) / (t.prior_weight + track.rating_n)
    return round(float(value), 2)


@dataclass(frozen=True, slots=True)
class Verdict:
    klass: str  # keep | replace | drop
    weighted: int
    late: int
    incidents: int
    evidence: tuple[str, ...]
    reason: str  # which test decided, as data for a sentence: "drop:severity=fatal", "replace:weighted_at_least"


def classify(track: Track | None, t: ScorecardTerms, now: int) -> Verdict:
    """keep / replace / drop over the window ending at `now`, with the events that decided it."""
    horizon = now - t.window_us
    incidents = [i for i in (track.incidents if track else ()) if horizon < i.at <= now]
    late = [x for x in ((track.late or []) if track else ()) if horizon < x[0] <= now]
    excused = set((track.excused or []) if track else ())
    top = max(t.weights.values(), default=1)
    weighted = sum(t.weights.get(i.severity, top) for i in incidents) + t.weights.get("late_delivery", 1) * len(late)
    for i in incidents:
        if i.event not in excused and t.drop_if and all(
                str(getattr(i, field, None)) == value for field, value in t.drop_if.items()):
            tests = ", ".join(f"{k} = {v}" for k, v in t.drop_if.items())
            return Verdict("drop", weighted, len(late), len(incidents), (i.event,), f"drop:{tests}")
    figures = {"weighted_at_least": weighted, "late_at_least": len(late), "incidents_at_least": len(incidents)}
    for test, threshold in t.replace_if.items():
        if figures.get(test, 0) >= threshold:
            evidence = tuple(i.event for i in incidents) + tuple(e for _, e in late)
            return Verdict("replace", weighted, len(late), len(incidents), evidence, f"replace:{test}")
    evidence = tuple(i.event for i in incidents) + tuple(e for _, e in late)
    return Verdict("keep", weighted, len(late), len(incidents), evidence, "keep")


# The replace_if tests in plain words (the appendix uses them too).
TESTS = {
    "ru": {"weighted_at_least": "сумма баллов не меньше {n}", "late_at_least": "просрочек не меньше {n}",
           "incidents_at_least": "инцидентов не меньше {n}"},
    "en": {"weighted_at_least": "a total of {n} points or more", "late_at_least": "{n} late deliveries or more",
           "incidents_at_least": "{n} incidents or more"},
}
_NOUNS: dict[str, dict[str, tuple[str, ...]]] = {
    "ru": {"points": ("балл", "балла", "баллов"), "incidents": ("инцидент", "инцидента", "инцидентов"),
           "late": ("просрочка", "просрочки", "просрочек")},
    "en": {"points": ("point", "points"), "incidents": ("incident", "incidents"),
           "late": ("late delivery", "late deliveries")},
}


def verdict_sentence(v: Verdict, t: ScorecardTerms, lang: str) -> str:
    """Why the class, in plain words."""
    lang = lang if lang in _NOUNS else "en"
    n = _NOUNS[lang]
    test = v.reason.partition(":")[2]
    # the drop condition as words ("category data breach"), not as the rulebook's keys
    condition = ", ".join(f"{plain(k)} {plain(str(x))}" for k, x in t.drop_if.items()) if t.drop_if else test
    points = counted(v.weighted, n["points"])
    detail = f"({counted(v.incidents, n['incidents'])}, {counted(v.late, n['late'])})"
    if lang == "ru":
        if v.klass == "drop":
            return f"Расстаться: инцидент {', '.join(v.evidence)} подпадает под условие «{condition}»."
        if v.klass == "replace":
            return (f"Искать замену: {points} за период {detail}, а порог — "
                    f"{TESTS['ru'][test].format(n=t.replace_if[test])}.")
        return f"Оставить: {points} за период {detail}."
    if v.klass == "drop":
        return f"Drop: the incident {', '.join(v.evidence)} meets \"{condition}\"."
    if v.klass == "replace":
        return (f"Replace: {points} in the window {detail}; the threshold is "
                f"{TESTS['en'][test].format(n=t.replace_if[test])}.")
    return f"Keep: {points} in the window {detail}."
