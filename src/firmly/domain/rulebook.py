"""The rulebook: its model, and loading with every problem named by line and field."""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import zen

from firmly.domain.clock import TimeError, parse_instant
from firmly.domain.durations import DurationError, parse_duration
from firmly.domain.errors import InvalidInput, Problem
from firmly.domain.events import KINDS, SEVERITIES
from firmly.domain.expressions import ExpressionCost, cost
from firmly.domain.labels import parse_labels
from firmly.domain.messages import template_problem
from firmly.domain.money import MoneyError, parse_amount
from firmly.domain.yamlmap import Path, YamlProblem, load_with_lines

RULE_KINDS = ("notice", "forbidden", "deadline", "channel", "quota", "courtesy", "incident", "grace")
STEP_ACTIONS = ("feedback", "warning", "fee", "require_prepayment", "suspend", "terminate")
SANCTIONS = ("fee", "require_prepayment", "suspend", "terminate")
LOCALES = ("ru", "en")
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")
_CUTOFF = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_REF = re.compile(r"^[a-z_]+\.[a-z_]+$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")

TOP_FIELDS = {"rulebook", "version", "title", "locale", "currency", "timezone", "applies_to", "effective_from",
              "ladders", "tiers", "rules", "account", "prices", "cost_to_serve", "karma", "reviews", "scorecard",
              "description", "messages", "labels"}
LADDER_FIELDS = {"window", "earn_back", "steps", "first_step_may_sanction"}
RULE_FIELDS = {"title", "why", "kind", "event", "min_notice", "before", "kept_by", "remind", "ladder",
               "ladder_group", "introduced", "thank_for", "when", "expect", "due", "cutoff", "grace", "allowed",
               "max", "per", "sum", "bill", "weight", "max_late", "polite_only", "hostile",
               "undirected_profanity"}
DEFAULT_EVENTS = {"channel": "request.received", "incident": "incident.reported", "grace": "grace.requested"}
# What money, counts and scores can be (README "Limits of a rulebook"): beyond these a number is a typo
# or an attack, and left in it would fail every event later.
EARLIEST, LATEST = date(1970, 1, 1), date(2200, 12, 31)
MAX_COUNT = 1_000_000  # quota sizes, karma points, scorecard weights and thresholds
MAX_STRIKES = 100  # strikes one incident may count
MAX_EARN_BACK = 1000


def _finite(value: object) -> bool:
    """A number, not a truth value, NaN or infinity."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True, slots=True)
class Step:
    action: str
    amount: Decimal | None = None
    duration: timedelta | None = None
    review: bool = False


@dataclass(frozen=True, slots=True)
class Ladder:
    name: str
    window: timedelta
    earn_back: int | None
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    exempt: frozenset[str]
    surcharge: dict[str, Decimal]


@dataclass(frozen=True, slots=True)
class Remind:
    entity: str
    field: str
    at: tuple[timedelta, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    why: str
    kind: str
    event: str | None = None
    min_notice: timedelta | None = None
    before: tuple[str, str] | None = None
    kept_by: tuple[str, ...] = ()
    remind: Remind | None = None
    ladder: str | None = None
    ladder_group: str | None = None
    introduced: date | None = None
    thank_for: timedelta | None = None
    when: str | None = None
    expect: str | None = None
    due: tuple[str, str] | None = None
    cutoff: str | None = None
    grace: timedelta = timedelta(0)
    allowed: tuple[str, ...] = ()
    max: Decimal | None = None
    per: str | None = None
    per_duration: timedelta | None = None
    sum: str | None = None
    bill: str | None = None
    weight: dict[str, int | str] = field(default_factory=dict)
    max_late: timedelta | None = None
    polite_only: bool = True
    hostile: str = "deny"
    undirected_profanity: str = "hostile"  # grace, courtesy: "civil" lets swearing aimed at nobody pass
    line: int = 0


@dataclass(frozen=True, slots=True)
class Price:
    code: str
    title: str
    price: Decimal


@dataclass(frozen=True, slots=True)
class Rulebook:
    id: str
    version: str
    title: str
    locale: str
    currency: str
    timezone: str
    applies_to: tuple[str, ...]
    ladders: dict[str, Ladder]
    tiers: dict[str, Tier]
    rules: dict[str, Rule]
    prices: dict[str, Price]
    effective_from: int | None  # UTC microseconds; None: from the engine clock at load
    source: str
    hash: str
    extra: dict[str, Any]  # account, karma, scorecard, ...: kept for the parts that read them
    warnings: tuple[Problem, ...] = ()
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # language -> key -> words (labels.py)


class _Checker:
    """Collects problems with their lines, so that one run reports them all."""

    def __init__(self, where: str, lines: dict[Path, int]) -> None:
        self.where = where
        self.lines = lines
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def line(self, path: Path) -> int:
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)

    def add(self, path: Path, message: str, *, warning: bool = False) -> None:
        name = ".".join(str(p) for p in path) or "rulebook"
        problem = Problem(self.where, self.line(path), name, message)
        (self.warnings if warning else self.problems).append(problem)

    def text(self, node: dict[str, Any], path: Path, key: str, *, required: bool = False) -> str | None:
        value = node.get(key)
        if value is None:
            if required:
                self.add((*path, key), "is required")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.add((*path, key), f"must be text, got {value!r}")
            return None
        return str(value)

    def duration(self, node: dict[str, Any], path: Path, key: str, *, required: bool = False
                 ) -> timedelta | None:
        value = node.get(key)
        if value is None:
            if required:
                self.add((*path, key), "is required (a duration like \"24h\" or \"180d\")")
            return None
        try:
            return parse_duration(value)
        except DurationError as exc:
            self.add((*path, key), str(exc))
            return None

    def money(self, value: object, path: Path) -> Decimal | None:
        try:
            return parse_amount(value)
        except (MoneyError, ArithmeticError, ValueError) as exc:
            self.add(path, f"{exc}; write money in quotes")
            return None

    def names(self, node: dict[str, Any], path: Path, key: str) -> tuple[str, ...]:
        value = node.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.add((*path, key), "must be a list of names")
            return ()
        return tuple(value)


def parse_rulebook(text: str, where: str = "rulebook.yaml") -> Rulebook:
    """A validated Rulebook, or InvalidInput with every problem as FILE:LINE: field: message."""
    try:
        doc, lines = load_with_lines(text)
    except YamlProblem as exc:
        raise InvalidInput([Problem(where, exc.line, "yaml", exc.message)]) from None
    c = _Checker(where, lines)
    if not isinstance(doc, dict):
        raise InvalidInput([Problem(where, 1, "rulebook", "must be a YAML mapping of fields")])
    for key in doc:
        if key not in TOP_FIELDS:
            c.add((str(key),), f"unknown field; expected one of {', '.join(sorted(TOP_FIELDS))}")
    book_id = c.text(doc, (), "rulebook", required=True) or ""
    if book_id and not _ID.match(book_id):
        c.add(("rulebook",), "must be a plain identifier (letters, digits, _ and -)")
    version = c.text(doc, (), "version", required=True) or ""
    title = c.text(doc, (), "title", required=True) or ""
    locale = c.text(doc, (), "locale") or "ru"
    if locale not in LOCALES:
        c.add(("locale",), f"must be ru or en, got {locale!r}")
    currency = c.text(doc, (), "currency") or "RUB"
    if not _CURRENCY.match(currency):
        c.add(("currency",), f"must be a three-letter ISO code like RUB, got {currency!r}")
    timezone = c.text(doc, (), "timezone") or "UTC"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        c.add(("timezone",), f"is not a time zone name like Europe/Moscow: {timezone!r}")
    applies_to = c.names(doc, (), "applies_to")
    if not applies_to:
        c.add(("applies_to",), f"is required: the counterparty kinds this rulebook governs ({', '.join(KINDS)})")
    for i, kind in enumerate(applies_to):
        if kind not in KINDS:
            c.add(("applies_to", i), f"unknown counterparty kind {kind!r}; expected one of {', '.join(KINDS)}")
    effective_from = None
    if doc.get("effective_from") is not None:
        raw = doc["effective_from"]
        try:
            effective_from = parse_instant(raw.isoformat() if isinstance(raw, datetime | date) else raw)
        except (TimeError, OverflowError, ValueError) as exc:  # parse_instant keeps times within 1970-2200
            c.add(("effective_from",), str(exc) if isinstance(exc, TimeError) else f"is not a time: {raw!r}")

    prices = _prices(c, doc)
    ladders = _ladders(c, doc)
    rules = _rules(c, doc, ladders, prices)
    tiers = _tiers(c, doc, rules)
    _extras(c, doc)
    labels = parse_labels(doc, c.add)
    if c.problems:
        raise InvalidInput(c.problems)
    extra = {k: doc[k] for k in ("account", "cost_to_serve", "karma", "reviews", "scorecard", "messages") if k in doc}
    return Rulebook(
        id=book_id, version=version, title=title, locale=locale, currency=currency, timezone=timezone,
        applies_to=applies_to, ladders=ladders, tiers=tiers, rules=rules, prices=prices,
        effective_from=effective_from, source=text, hash=hashlib.sha256(text.encode()).hexdigest(),
        extra=extra, warnings=tuple(c.warnings), labels=labels)


def _mapping(c: _Checker, doc: dict[str, Any], path: Path) -> dict[str, Any]:
    node: Any = doc
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    if node is None:
        return {}
    if not isinstance(node, dict):
        c.add(path, "must be a mapping of names to settings")
        return {}
    return node


def _prices(c: _Checker, doc: dict[str, Any]) -> dict[str, Price]:
    out: dict[str, Price] = {}
    for code, spec in _mapping(c, doc, ("prices",)).items():
        path: Path = ("prices", code)
        if isinstance(spec, dict):
            amount = c.money(spec.get("price"), (*path, "price"))
            title = str(spec.get("title") or code)
        else:
            amount, title = c.money(spec, path), str(code)
        if amount is not None:
            out[str(code)] = Price(str(code), title, amount)
    return out


def _step(c: _Checker, raw: object, path: Path) -> Step | None:
    review = False
    if isinstance(raw, str):
        action, value = raw, None
    elif isinstance(raw, dict):
        review_raw = raw.get("review", False)
        if not isinstance(review_raw, bool):
            c.add((*path, "review"), "must be true or false")
        review = bool(review_raw)
        keys = [k for k in raw if k != "review"]
        if len(keys) != 1:
            c.add(path, f"a step names one action ({', '.join(STEP_ACTIONS)}), got {keys!r}")
            return None
        action, value = str(keys[0]), raw[keys[0]]
    else:
        c.add(path, f"a step is one of {', '.join(STEP_ACTIONS)}, got {raw!r}")
        return None
    if action not in STEP_ACTIONS:
        c.add(path, f"unknown step {action!r}; expected one of {', '.join(STEP_ACTIONS)}")
        return None
    step_path = (*path, action) if isinstance(raw, dict) else path
    if action == "fee":
        amount = c.money(value, step_path)
        return Step(action, amount=amount, review=review) if amount is not None else None
    if action in ("require_prepayment", "suspend"):
        try:
            return Step(action, duration=parse_duration(value), review=review)
        except DurationError as exc:
            c.add(step_path, f"{action} needs its duration: {exc}")
            return None
    if action == "terminate" and value not in (True, None):
        c.add(step_path, "write `terminate: true`")
    return Step(action, review=review)


def _ladders(c: _Checker, doc: dict[str, Any]) -> dict[str, Ladder]:
    out: dict[str, Ladder] = {}
    for name, spec in _mapping(c, doc, ("ladders",)).items():
        path: Path = ("ladders", str(name))
        if not isinstance(spec, dict):
            c.add(path, "must be a mapping with window, earn_back and steps")
            continue
        for key in spec:
            if key not in LADDER_FIELDS:
                c.add((*path, str(key)), f"unknown field; expected one of {', '.join(sorted(LADDER_FIELDS))}")
        window = c.duration(spec, path, "window", required=True)
        earn_back = spec.get("earn_back")
        if earn_back is not None and (isinstance(earn_back, bool) or not isinstance(earn_back, int)
                                      or not 1 <= earn_back <= MAX_EARN_BACK):
            c.add((*path, "earn_back"),
                  f"must be a whole number of kept rules from 1 to {MAX_EARN_BACK}, got {earn_back!r}")
            earn_back = None
        raw_steps = spec.get("steps")
        steps: list[Step] = []
        if not isinstance(raw_steps, list) or not raw_steps:
            c.add((*path, "steps"), "is required: a list of steps such as feedback, warning, fee: \"1000.00\"")
        else:
            for i, raw in enumerate(raw_steps):
                step = _step(c, raw, (*path, "steps", i))
                if step:
                    steps.append(step)
            first = _step_action(raw_steps[0])
            if first in SANCTIONS and spec.get("first_step_may_sanction") is not True:
                c.add((*path, "steps", 0),
                      f"the first step is {first}: a ladder must give feedback or a warning before any "
                      "fee or restriction (set first_step_may_sanction: true to allow it)")
            for i, step in enumerate(steps):
                if step.action == "terminate" and not step.review:
                    c.add((*path, "steps", i), "terminate without review: a person will not be asked first",
                          warning=True)
        if window is not None and steps:
            out[str(name)] = Ladder(str(name), window, earn_back, tuple(steps))
    return out


def _step_action(raw: object) -> str | None:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, dict):
        keys = [k for k in raw if k != "review"]
        return str(keys[0]) if len(keys) == 1 else None
    return None


def _ref(c: _Checker, spec: dict[str, Any], path: Path, key: str) -> tuple[str, str] | None:
    value = c.text(spec, path, key)
    if value is None:
        return None
    if not _REF.match(value):
        c.add((*path, key), f"must name <entity>.<field> like appointment.starts_at, got {value!r}")
        return None
    entity, _, name = value.partition(".")
    return entity, name


def _rules(c: _Checker, doc: dict[str, Any], ladders: dict[str, Ladder], prices: dict[str, Price]
           ) -> dict[str, Rule]:
    raw_rules = _mapping(c, doc, ("rules",))
    if not raw_rules and "rules" not in doc:
        c.add(("rules",), "is required: at least one rule")
    declared_ladders = set(_mapping(c, doc, ("ladders",)))
    out: dict[str, Rule] = {}
    for raw_id, spec in raw_rules.items():
        rule_id = str(raw_id)
        path: Path = ("rules", rule_id)
        if not isinstance(spec, dict):
            c.add(path, "must be a mapping with title, why, kind and the kind's fields")
            continue
        if not _ID.match(rule_id):
            c.add(path, "a rule id is a plain identifier (letters, digits, _ and -)")
        for key in spec:
            if key not in RULE_FIELDS:
                c.add((*path, str(key)), "unknown field for a rule")
        kind = c.text(spec, path, "kind", required=True)
        if kind is not None and kind not in RULE_KINDS:
            c.add((*path, "kind"), f"unknown rule kind {kind!r}; expected one of {', '.join(RULE_KINDS)}")
            kind = None
        title = c.text(spec, path, "title", required=True) or rule_id
        why = c.text(spec, path, "why") or ""
        event = c.text(spec, path, "event") or DEFAULT_EVENTS.get(kind or "")
        ladder = c.text(spec, path, "ladder")
        if ladder is not None and ladder not in declared_ladders:
            known = ", ".join(sorted(declared_ladders)) or "none"
            c.add((*path, "ladder"), f"no ladder named {ladder!r} in this rulebook (ladders: {known})")
        when = c.text(spec, path, "when")
        if when is not None:
            problem = _expression_problem(when)
            if problem:
                c.add((*path, "when"), problem)
                when = None
        remind = None
        if spec.get("remind") is not None:
            remind = _remind(c, spec["remind"], (*path, "remind"))
        introduced = spec.get("introduced")
        if introduced is not None and not isinstance(introduced, date):
            c.add((*path, "introduced"), f"must be a date like 2026-03-01, got {introduced!r}")
            introduced = None
        if isinstance(introduced, datetime):
            introduced = introduced.date()
        if introduced is not None and not EARLIEST <= introduced <= LATEST:
            c.add((*path, "introduced"), f"must be a date between {EARLIEST.year} and {LATEST.year}, "
                                         f"got {introduced.isoformat()}")
            introduced = None
        kept_by = c.names(spec, path, "kept_by")
        values: dict[str, Any] = {}
        if kind in ("notice", "forbidden", "quota") and event is None:
            c.add((*path, "event"), f"is required for a {kind} rule: the event type it watches")
        if kind == "notice":
            values["min_notice"] = c.duration(spec, path, "min_notice", required=True)
            values["before"] = _ref(c, spec, path, "before") or (
                (remind.entity, remind.field) if remind else ("appointment", "starts_at"))
        elif kind == "deadline":
            values["expect"] = c.text(spec, path, "expect", required=True)
            values["due"] = _ref(c, spec, path, "due")
            cutoff = c.text(spec, path, "cutoff")
            if cutoff is not None and not _CUTOFF.match(cutoff):
                c.add((*path, "cutoff"), f"must be a time of day like \"14:00\", got {cutoff!r}")
            values["cutoff"] = cutoff
            if values["due"] is None and cutoff is None:
                c.add((*path, "due"), "a deadline needs `due: <entity>.<field>` or `cutoff: \"HH:MM\"`")
            values["grace"] = c.duration(spec, path, "grace") or timedelta(0)
        elif kind == "channel":
            values["allowed"] = c.names(spec, path, "allowed")
            if not values["allowed"]:
                c.add((*path, "allowed"), "is required: the channels requests may come through")
        elif kind == "quota":
            values.update(_quota(c, spec, path, prices))
        elif kind == "incident":
            values["weight"] = _weights(c, spec, path)
        elif kind == "grace":
            values["max_late"] = c.duration(spec, path, "max_late", required=True)
            polite_only = spec.get("polite_only", True)
            if not isinstance(polite_only, bool):
                c.add((*path, "polite_only"), "must be true or false")
            values["polite_only"] = bool(polite_only)
            hostile = spec.get("hostile", "deny")
            if hostile not in ("deny", "review"):
                c.add((*path, "hostile"), f"must be deny or review, got {hostile!r}")
            values["hostile"] = hostile
        if kind in ("grace", "courtesy"):
            undirected = spec.get("undirected_profanity", "hostile")
            if undirected not in ("hostile", "civil"):
                c.add((*path, "undirected_profanity"), f"must be hostile or civil, got {undirected!r}")
            values["undirected_profanity"] = undirected
        if kind is None:
            continue
        out[rule_id] = Rule(
            id=rule_id, title=title, why=why, kind=kind, event=event, kept_by=kept_by, remind=remind,
            ladder=ladder if ladder in ladders else None, ladder_group=c.text(spec, path, "ladder_group"),
            introduced=introduced, thank_for=c.duration(spec, path, "thank_for"), when=when,
            line=c.line(path), **{k: v for k, v in values.items() if v is not None})
    return out


def _remind(c: _Checker, raw: object, path: Path) -> Remind | None:
    if not isinstance(raw, dict):
        c.add(path, "must say `before: <entity>.<field>` and `at: [48h, 3h]`")
        return None
    ref = _ref(c, raw, path, "before")
    if ref is None:
        if raw.get("before") is None:
            c.add((*path, "before"), "is required: the time the reminders count back from")
        return None
    offsets = raw.get("at")
    if not isinstance(offsets, list) or not offsets:
        c.add((*path, "at"), "is required: a list of offsets like [48h, 3h]")
        return None
    parsed: list[timedelta] = []
    for i, value in enumerate(offsets):
        try:
            parsed.append(parse_duration(value))
        except DurationError as exc:
            c.add((*path, "at", i), str(exc))
    return Remind(ref[0], ref[1], tuple(parsed))


def _quota(c: _Checker, spec: dict[str, Any], path: Path, prices: dict[str, Price]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    limit = spec.get("max")
    if limit is None:
        c.add((*path, "max"), f"is required: how many are included, a number from 0 to {MAX_COUNT:,}")
    elif not _finite(limit) or not 0 <= limit <= MAX_COUNT:
        c.add((*path, "max"), f"must be how many are included, a number from 0 to {MAX_COUNT:,}, got {limit!r}")
    else:
        values["max"] = Decimal(str(limit))
    per = c.text(spec, path, "per", required=True)
    if per is not None:
        try:
            values["per_duration"] = parse_duration(per)
        except DurationError as exc:
            if re.match(r"^\s*\d+\s*[smhdw]\s*$", per):
                c.add((*path, "per"), str(exc))
            elif not re.match(r"^[a-z_]+$", per):
                c.add((*path, "per"), f"must be a data field like order or a duration like 30d, got {per!r}")
        values["per"] = per
    values["sum"] = c.text(spec, path, "sum")
    bill = c.text(spec, path, "bill")
    if bill is not None and prices and bill not in prices:
        c.add((*path, "bill"), f"no price {bill!r} in this rulebook's prices ({', '.join(sorted(prices))})")
    values["bill"] = bill
    return values


def _weights(c: _Checker, spec: dict[str, Any], path: Path) -> dict[str, int | str]:
    raw = spec.get("weight")
    if raw is None:
        return {"minor": 1, "major": 1, "fatal": "terminate"}
    if not isinstance(raw, dict):
        c.add((*path, "weight"), "must map severity (minor, major, fatal) to strikes or `terminate`")
        return {}
    out: dict[str, int | str] = {}
    for severity, value in raw.items():
        where = (*path, "weight", str(severity))
        if severity not in SEVERITIES:
            c.add(where, f"unknown severity; expected one of {', '.join(SEVERITIES)}")
        elif value == "terminate" or (isinstance(value, int) and not isinstance(value, bool)
                                      and 0 <= value <= MAX_STRIKES):
            out[str(severity)] = value
        else:
            c.add(where, f"must be a number of strikes from 0 to {MAX_STRIKES} or `terminate`, got {value!r}")
    return out


def _tiers(c: _Checker, doc: dict[str, Any], rules: dict[str, Rule]) -> dict[str, Tier]:
    out: dict[str, Tier] = {}
    declared = set(_mapping(c, doc, ("rules",)))
    for name, spec in _mapping(c, doc, ("tiers",)).items():
        path: Path = ("tiers", str(name))
        if not isinstance(spec, dict):
            c.add(path, "must be a mapping with exempt and surcharge")
            continue
        exempt = c.names(spec, path, "exempt")
        for i, rule_id in enumerate(exempt):
            if rule_id not in declared:
                c.add((*path, "exempt", i), f"no rule named {rule_id!r} in this rulebook")
        surcharge: dict[str, Decimal] = {}
        for rule_id, amount in _mapping(c, doc, (*path, "surcharge")).items():
            if rule_id not in declared:
                c.add((*path, "surcharge", str(rule_id)), f"no rule named {rule_id!r} in this rulebook")
            money = c.money(amount, (*path, "surcharge", str(rule_id)))
            if money is not None:
                surcharge[str(rule_id)] = money
        out[str(name)] = Tier(str(name), frozenset(exempt), surcharge)
    return out


def _extras(c: _Checker, doc: dict[str, Any]) -> None:
    """The sections the ledger and the scores read: account, cost_to_serve, karma, reviews, scorecard."""
    account = _mapping(c, doc, ("account",))
    for key in account.keys() - {"mode", "low_balance", "top_up", "credit_limit"}:
        c.add(("account", key), "unknown field; expected mode, low_balance, top_up or credit_limit")
    for key in ("low_balance", "top_up", "credit_limit"):
        if key in account:
            c.money(account[key], ("account", key))
    if "mode" in account and account["mode"] not in ("prepaid", "postpaid"):
        c.add(("account", "mode"), f"must be prepaid or postpaid, got {account['mode']!r}")
    if ("low_balance" in account) != ("top_up" in account):
        c.add(("account",), "low_balance and top_up go together: the invoice needs both a threshold and an amount")
    cost = _mapping(c, doc, ("cost_to_serve",))
    _numbers(c, cost, ("cost_to_serve",), {"flag_ratio": (0.01, 1000)}, {"period"})
    karma = _mapping(c, doc, ("karma",))
    if "bonus_per_clean_booking" in karma:
        c.money(karma["bonus_per_clean_booking"], ("karma", "bonus_per_clean_booking"))
    _numbers(c, karma, ("karma",), {"start": (-MAX_COUNT, MAX_COUNT), "clean_booking": (0, MAX_COUNT)},
             {"incident", "bonus_per_clean_booking"}, whole=True)
    _numbers(c, _mapping(c, doc, ("karma", "incident")), ("karma", "incident"), None, set(), whole=True)
    _numbers(c, _mapping(c, doc, ("reviews",)), ("reviews",), {"prior_mean": (1, 5), "prior_weight": (0, MAX_COUNT)},
             set())
    card = _mapping(c, doc, ("scorecard",))
    for key in card.keys() - {"window", "weights", "drop_if", "replace_if"}:
        c.add(("scorecard", key), "unknown field; expected window, weights, drop_if or replace_if")
    _numbers(c, _mapping(c, doc, ("scorecard", "weights")), ("scorecard", "weights"), None, set(), whole=True)
    for key in _mapping(c, doc, ("scorecard", "drop_if")):
        if key not in ("severity", "category"):
            c.add(("scorecard", "drop_if", key), "an incident is matched by severity or category")
    _numbers(c, _mapping(c, doc, ("scorecard", "replace_if")), ("scorecard", "replace_if"),
             dict.fromkeys(("weighted_at_least", "late_at_least", "incidents_at_least"), (0, MAX_COUNT)), set(),
             whole=True)
    for action in _mapping(c, doc, ("messages",)):
        for lang, parts in _mapping(c, doc, ("messages", action)).items():
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
    for section, key in (("cost_to_serve", "period"), ("scorecard", "window")):
        node = _mapping(c, doc, (section,))
        if key in node:
            c.duration(node, (section,), key)


def _numbers(c: _Checker, node: dict[str, Any], path: Path, known: dict[str, tuple[float | None, float | None]] | None,
             other: set[str], whole: bool = False) -> None:
    """Numeric settings within bounds; `known` None means every key is a name with a number."""
    for key, value in node.items():
        if key in other:
            continue
        if known is not None and key not in known:
            c.add((*path, key), f"unknown field; expected {', '.join(sorted({*known, *other}))}")
            continue
        low, high = known[key] if known is not None else (0, MAX_COUNT)
        ok = _finite(value) and (not whole or isinstance(value, int))
        if not ok or (low is not None and value < low) or (high is not None and value > high):
            kind = "a whole number" if whole else "a number"
            bounds = f" from {low:,}" if low is not None else ""
            bounds += f" to {high:,}" if high is not None else ""
            c.add((*path, key), f"must be {kind}{bounds}, got {value!r}")


def _expression_problem(text: str) -> str | None:
    """Why a `when:` cannot be a rule's condition: not ZEN, or costlier than one event may be."""
    problem: Any
    try:
        problem = zen.validate_expression(text)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        problem = {"source": "the expression cannot be read"}
    if problem:
        return f"is not a valid expression: {problem.get('source', problem)}"
    try:
        cost(text)
    except ExpressionCost as exc:
        return str(exc)
    return None
