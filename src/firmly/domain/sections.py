"""The rulebook's sections beyond its rules — account, cost_to_serve, karma, reviews, scorecard — checked
and parsed once into typed values, with their defaults here and nowhere else.

The engine, the ledger, the scores and the appendix read these, never the YAML mapping. A field the
rulebook leaves out is None where the first rulebook that gives it should win over a later one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from firmly.domain.checker import MAX_COUNT, Checker, finite
from firmly.domain.durations import parse_duration
from firmly.domain.messages import template_problem
from firmly.domain.money import quantize
from firmly.domain.yamlmap import Path

ACCOUNT_MODE = "prepaid"  # an `account:` without a mode holds money in advance
COST_PERIOD = timedelta(days=90)  # cost-to-serve compares the last 90 days
FLAG_RATIO = Decimal(3)  # flagged when it costs three times its peers' median
KARMA_START = 50
CLEAN_BOOKING = 1  # karma a clean booking earns
PRIOR_MEAN = Decimal(4)  # reviews: the mean a partner starts from ...
PRIOR_WEIGHT = 5  # ... counted as this many reviews
SCORECARD_WINDOW = timedelta(days=365)
REPLACE_TESTS = ("weighted_at_least", "late_at_least", "incidents_at_least")
ACCOUNT_FIELDS = frozenset({"mode", "low_balance", "top_up", "credit_limit"})
SCORECARD_FIELDS = frozenset({"window", "weights", "drop_if", "replace_if"})


@dataclass(frozen=True, slots=True)
class AccountSection:
    mode: str = ACCOUNT_MODE  # prepaid or postpaid
    low_balance: Decimal | None = None
    top_up: Decimal | None = None
    credit_limit: Decimal | None = None  # prepaid without one: 0.00, nothing on credit; postpaid: no limit


@dataclass(frozen=True, slots=True)
class CostSection:
    period: timedelta | None = None  # None: COST_PERIOD, unless another rulebook gives one
    flag_ratio: Decimal | None = None  # None: FLAG_RATIO, likewise


@dataclass(frozen=True, slots=True)
class KarmaSection:
    start: int = KARMA_START
    clean_booking: int = CLEAN_BOOKING
    incident: dict[str, int] = field(default_factory=dict)  # severity -> karma it costs
    bonus_per_clean_booking: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ReviewsSection:
    prior_mean: Decimal = PRIOR_MEAN
    prior_weight: int = PRIOR_WEIGHT


@dataclass(frozen=True, slots=True)
class ScorecardSection:
    window: timedelta = SCORECARD_WINDOW
    weights: dict[str, int] = field(default_factory=dict)
    drop_if: dict[str, str] = field(default_factory=dict)  # an incident field -> value that means drop
    replace_if: dict[str, int] = field(default_factory=dict)  # REPLACE_TESTS -> threshold


@dataclass(frozen=True, slots=True)
class Sections:
    """Each None when the rulebook has no such section (or an empty one)."""

    account: AccountSection | None = None
    cost_to_serve: CostSection | None = None
    karma: KarmaSection | None = None
    reviews: ReviewsSection | None = None
    scorecard: ScorecardSection | None = None


def parse_sections(doc: dict[str, Any]) -> Sections:
    """The typed sections of a rulebook that `check_sections` found no problem in."""
    account, cost, karma = doc.get("account"), doc.get("cost_to_serve"), doc.get("karma")
    reviews, card = doc.get("reviews"), doc.get("scorecard")
    return Sections(
        account=_account(account) if account else None,
        cost_to_serve=CostSection(
            parse_duration(str(cost["period"])) if cost.get("period") else None,
            Decimal(str(cost["flag_ratio"])) if cost.get("flag_ratio") is not None else None) if cost else None,
        karma=KarmaSection(
            int(karma.get("start", KARMA_START)), int(karma.get("clean_booking", CLEAN_BOOKING)),
            {str(k): int(v) for k, v in (karma.get("incident") or {}).items()},
            _decimal(karma.get("bonus_per_clean_booking"))) if karma else None,
        reviews=ReviewsSection(Decimal(str(reviews.get("prior_mean", PRIOR_MEAN))),
                               int(reviews.get("prior_weight", PRIOR_WEIGHT))) if reviews else None,
        scorecard=ScorecardSection(
            parse_duration(str(card["window"])) if card.get("window") else SCORECARD_WINDOW,
            {str(k): int(v) for k, v in (card.get("weights") or {}).items()},
            {str(k): str(v) for k, v in (card.get("drop_if") or {}).items()},
            {str(k): int(v) for k, v in (card.get("replace_if") or {}).items()}) if card else None)


def _account(section: dict[str, Any]) -> AccountSection:
    def money(name: str) -> Decimal | None:
        value = section.get(name)
        return None if value is None else quantize(Decimal(str(value)))

    mode = str(section.get("mode") or ACCOUNT_MODE)
    limit = money("credit_limit")
    if limit is None and mode == "prepaid":
        limit = Decimal("0.00")  # prepaid means nothing is rendered on credit unless the rulebook says so
    return AccountSection(mode, money("low_balance"), money("top_up"), limit)


def _decimal(value: object) -> Decimal | None:
    """As written: a karma bonus of "100" stays 100, as it always has."""
    return None if value is None else Decimal(str(value))


def check_sections(c: Checker, doc: dict[str, Any]) -> None:
    """Every problem in account, cost_to_serve, karma, reviews, scorecard and messages, by line."""
    _check_account(c, c.mapping(doc, ("account",)))
    _numbers(c, c.mapping(doc, ("cost_to_serve",)), ("cost_to_serve",), {"flag_ratio": (0.01, 1000)}, {"period"})
    karma = c.mapping(doc, ("karma",))
    if "bonus_per_clean_booking" in karma:
        c.money(karma["bonus_per_clean_booking"], ("karma", "bonus_per_clean_booking"))
    _numbers(c, karma, ("karma",), {"start": (-MAX_COUNT, MAX_COUNT), "clean_booking": (0, MAX_COUNT)},
             {"incident", "bonus_per_clean_booking"}, whole=True)
    _numbers(c, c.mapping(doc, ("karma", "incident")), ("karma", "incident"), None, set(), whole=True)
    _numbers(c, c.mapping(doc, ("reviews",)), ("reviews",), {"prior_mean": (1, 5), "prior_weight": (0, MAX_COUNT)},
             set())
    _check_scorecard(c, doc)
    _check_messages(c, doc)
    for section, key in (("cost_to_serve", "period"), ("scorecard", "window")):
        node = c.mapping(doc, (section,))
        if key in node:
            c.duration(node, (section,), key)


def _check_account(c: Checker, account: dict[str, Any]) -> None:
    for key in account.keys() - ACCOUNT_FIELDS:
        c.unknown(("account", key), "unknown field; expected mode, low_balance, top_up or credit_limit", ACCOUNT_FIELDS)
    for key in ("low_balance", "top_up", "credit_limit"):
        if key in account:
            c.money(account[key], ("account", key))
    if "mode" in account and account["mode"] not in ("prepaid", "postpaid"):
        c.add(("account", "mode"), "must be prepaid or postpaid, got {value}", value=repr(account["mode"]))
    if ("low_balance" in account) != ("top_up" in account):
        c.add(("account",), "low_balance and top_up go together: the invoice needs both a threshold and an amount")


def _check_scorecard(c: Checker, doc: dict[str, Any]) -> None:
    card = c.mapping(doc, ("scorecard",))
    for key in card.keys() - SCORECARD_FIELDS:
        c.unknown(("scorecard", key), "unknown field; expected window, weights, drop_if or replace_if",
                  SCORECARD_FIELDS)
    _numbers(c, c.mapping(doc, ("scorecard", "weights")), ("scorecard", "weights"), None, set(), whole=True)
    for key in c.mapping(doc, ("scorecard", "drop_if")):
        if key not in ("severity", "category"):
            c.add(("scorecard", "drop_if", key), "an incident is matched by severity or category")
    _numbers(c, c.mapping(doc, ("scorecard", "replace_if")), ("scorecard", "replace_if"),
             dict.fromkeys(REPLACE_TESTS, (0, MAX_COUNT)), set(), whole=True)


def _check_messages(c: Checker, doc: dict[str, Any]) -> None:
    for action in c.mapping(doc, ("messages",)):
        for lang, parts in c.mapping(doc, ("messages", action)).items():
            path: Path = ("messages", action, lang)
            if lang not in ("ru", "en"):
                c.add(path, "a message is written per language: ru or en")
            elif not isinstance(parts, dict) or not parts.keys() <= {"subject", "body"} or not all(
                    isinstance(v, str) for v in parts.values()):
                c.add(path, "must be a mapping with subject and/or body text")
            else:
                for part, template in parts.items():
                    problem = template_problem(template)
                    if problem:
                        c.add((*path, part), problem)


def _numbers(c: Checker, node: dict[str, Any], path: Path, known: dict[str, tuple[float, float]] | None,
             other: set[str], whole: bool = False) -> None:
    """Numeric settings within bounds; `known` None means every key is a name with a number."""
    for key, value in node.items():
        if key in other:
            continue
        if known is not None and key not in known:
            c.unknown((*path, key), "unknown field; expected {choices}", {*known, *other},
                      choices=", ".join(sorted({*known, *other})))
            continue
        low, high = known[key] if known is not None else (0, MAX_COUNT)
        ok = finite(value) and (not whole or isinstance(value, int))
        if ok and low <= value <= high:
            continue
        if whole:
            c.add((*path, key), "must be a whole number from {low} to {high}, got {value}", low=f"{low:,}",
                  high=f"{high:,}", value=repr(value))
        else:
            c.add((*path, key), "must be a number from {low} to {high}, got {value}", low=f"{low:,}", high=f"{high:,}",
                  value=repr(value))
