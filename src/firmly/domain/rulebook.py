"""The rulebook: its model, and loading with every problem named by line and field."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import zen

from firmly.domain.checker import Checker
from firmly.domain.clock import TimeError, parse_instant
from firmly.domain.durations import DurationError, parse_duration
from firmly.domain.errors import InvalidInput, Problem
from firmly.domain.events import KINDS
from firmly.domain.expressions import ExpressionCost, cost
from firmly.domain.labels import parse_labels
from firmly.domain.ladders import Ladder, check_ladders
from firmly.domain.sections import Sections, check_sections, parse_sections
from firmly.domain.yamlmap import Path, YamlProblem, load_with_lines

LOCALES = ("ru", "en")
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")

TOP_FIELDS = {"rulebook", "version", "title", "locale", "currency", "timezone", "applies_to", "effective_from",
              "ladders", "tiers", "rules", "account", "prices", "cost_to_serve", "karma", "reviews", "scorecard",
              "description", "messages", "labels"}
# The fields every rule has; each kind adds its own (engine/kinds).
RULE_FIELDS = frozenset({"title", "why", "kind", "event", "kept_by", "remind", "ladder", "ladder_group", "introduced",
                         "thank_for", "when"})
# The dates a rule may be introduced on (README "Limits of a rulebook"); counts are in checker.MAX_COUNT.
EARLIEST, LATEST = date(1970, 1, 1), date(2200, 12, 31)


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
    """A rule: the fields every rule has, then the built-in kinds' own (the rulebook's appendix reads them);
    a kind of its own keeps its typed spec in `spec`."""

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
    spec: Any = None
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
    extra: dict[str, Any]  # the sections as written; `messages` is read from here
    warnings: tuple[Problem, ...] = ()
    sections: Sections = field(default_factory=Sections)  # account, cost_to_serve, karma, reviews, scorecard
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # language -> key -> words (labels.py)


def parse_rulebook(text: str, where: str = "rulebook.yaml") -> Rulebook:
    """A validated Rulebook, or InvalidInput with every problem as FILE:LINE: field: message, sorted by line."""
    try:
        doc, lines = load_with_lines(text)
    except YamlProblem as exc:
        raise InvalidInput([Problem(where, exc.line, "yaml", exc.message)]) from None
    c = Checker(where, lines)
    if not isinstance(doc, dict):
        raise InvalidInput([Problem.of(where, 1, "rulebook", "must be a YAML mapping of fields")])
    for key in doc:
        if key not in TOP_FIELDS:
            c.unknown((str(key),), "unknown field; expected one of {choices}", TOP_FIELDS,
                      choices=", ".join(sorted(TOP_FIELDS)))
    head = _head(c, doc)
    applies_to = _applies_to(c, doc)
    effective_from = _effective_from(c, doc.get("effective_from"))
    prices = _prices(c, doc)
    ladders = check_ladders(c, doc)
    rules = _rules(c, doc, ladders, prices)
    tiers = _tiers(c, doc, rules)
    check_sections(c, doc)
    labels = parse_labels(doc, c)
    if c.problems:
        raise InvalidInput(sorted(c.problems, key=_by_line))
    extra = {k: doc[k] for k in ("account", "cost_to_serve", "karma", "reviews", "scorecard", "messages") if k in doc}
    return Rulebook(
        **head, applies_to=applies_to, ladders=ladders, tiers=tiers, rules=rules, prices=prices,
        effective_from=effective_from, source=text, hash=hashlib.sha256(text.encode()).hexdigest(),
        extra=extra, warnings=tuple(sorted(c.warnings, key=_by_line)), sections=parse_sections(doc),
        labels=labels)


def _head(c: Checker, doc: dict[str, Any]) -> dict[str, str]:
    """The rulebook's id, version, title, locale, currency and time zone."""
    book_id = c.text(doc, (), "rulebook", required=True) or ""
    if book_id and not _ID.match(book_id):
        c.add(("rulebook",), "must be a plain identifier (letters, digits, _ and -)")
    version = c.text(doc, (), "version", required=True) or ""
    title = c.text(doc, (), "title", required=True) or ""
    locale = c.text(doc, (), "locale") or "ru"
    if locale not in LOCALES:
        c.add(("locale",), "must be ru or en, got {value}", value=repr(locale))
    currency = c.text(doc, (), "currency") or "RUB"
    if not _CURRENCY.match(currency):
        c.add(("currency",), "must be a three-letter ISO code like RUB, got {value}", value=repr(currency))
    timezone = c.text(doc, (), "timezone") or "UTC"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        c.add(("timezone",), "is not a time zone name like Europe/Moscow: {value}", value=repr(timezone))
    return {"id": book_id, "version": version, "title": title, "locale": locale, "currency": currency,
            "timezone": timezone}


def _applies_to(c: Checker, doc: dict[str, Any]) -> tuple[str, ...]:
    applies_to = c.names(doc, (), "applies_to")
    if not applies_to:
        c.add(("applies_to",), "is required: the counterparty kinds this rulebook governs ({choices})",
              choices=", ".join(KINDS))
    for i, kind in enumerate(applies_to):
        if kind not in KINDS:
            c.add(("applies_to", i), "unknown counterparty kind {name}; expected one of {choices}", name=repr(kind),
                  choices=", ".join(KINDS))
    return applies_to


def _effective_from(c: Checker, raw: object) -> int | None:
    if raw is None:
        return None
    try:
        return parse_instant(raw.isoformat() if isinstance(raw, datetime | date) else raw)
    except TimeError as exc:  # parse_instant keeps times within 1970-2200
        c.add(("effective_from",), str(exc))
    except (OverflowError, ValueError):
        c.add(("effective_from",), "is not a time: {value}", value=repr(raw))
    return None


def _by_line(problem: Problem) -> int:
    return problem.line or 0


def _prices(c: Checker, doc: dict[str, Any]) -> dict[str, Price]:
    out: dict[str, Price] = {}
    for code, spec in c.mapping(doc, ("prices",)).items():
        path: Path = ("prices", code)
        if isinstance(spec, dict):
            amount = c.money(spec.get("price"), (*path, "price"))
            title = str(spec.get("title") or code)
        else:
            amount, title = c.money(spec, path), str(code)
        if amount is not None:
            out[str(code)] = Price(str(code), title, amount)
    return out


def _rules(c: Checker, doc: dict[str, Any], ladders: dict[str, Ladder], prices: dict[str, Price]
           ) -> dict[str, Rule]:
    raw_rules = c.mapping(doc, ("rules",))
    if not raw_rules and "rules" not in doc:
        c.add(("rules",), "is required: at least one rule")
    declared_ladders = set(c.mapping(doc, ("ladders",)))
    out: dict[str, Rule] = {}
    for raw_id, spec in raw_rules.items():
        rule = _rule(c, str(raw_id), spec, declared_ladders, ladders, prices)
        if rule is not None:
            out[rule.id] = rule
    return out


def _rule(c: Checker, rule_id: str, spec: object, declared_ladders: set[str], ladders: dict[str, Ladder],
          prices: dict[str, Price]) -> Rule | None:
    """One rule: the fields every rule has here, its kind's own fields by its kind (engine/kinds)."""
    # Imported here: the kinds' handlers import the engine, which imports this module.
    from firmly.domain.engine.kinds import KINDS as RULE_KINDS  # noqa: PLC0415
    from firmly.domain.engine.kinds.base import Context  # noqa: PLC0415

    path: Path = ("rules", rule_id)
    if not isinstance(spec, dict):
        c.add(path, "must be a mapping with title, why, kind and the kind's fields")
        return None
    if not _ID.match(rule_id):
        c.add(path, "a rule id is a plain identifier (letters, digits, _ and -)")
    known_fields = RULE_FIELDS.union(*(k.fields for k in RULE_KINDS.values()))
    for key in spec:
        if key not in known_fields:
            c.unknown((*path, str(key)), "unknown field for a rule", known_fields)
    name = c.text(spec, path, "kind", required=True)
    kind = RULE_KINDS.get(name) if name is not None else None
    if name is not None and kind is None:
        c.add((*path, "kind"), "unknown rule kind {name}; expected one of {choices}", name=repr(name),
              choices=", ".join(RULE_KINDS))
    title = c.text(spec, path, "title", required=True) or rule_id
    why = c.text(spec, path, "why") or ""
    event = c.text(spec, path, "event") or (kind.default_event if kind else None)
    ladder = c.text(spec, path, "ladder")
    if ladder is not None and ladder not in declared_ladders:
        c.add((*path, "ladder"), "no ladder named {name} in this rulebook (ladders: {known})", name=repr(ladder),
              known=", ".join(sorted(declared_ladders)) or "none")
    when = c.text(spec, path, "when")
    if when is not None and not _expression_ok(c, when, (*path, "when")):
        when = None
    remind = _remind(c, spec["remind"], (*path, "remind")) if spec.get("remind") is not None else None
    introduced = _introduced(c, spec.get("introduced"), (*path, "introduced"))
    kept_by = c.names(spec, path, "kept_by")
    if kind is not None and kind.needs_event and event is None:
        c.add((*path, "event"), "is required for a {kind} rule: the event type it watches", kind=kind.name)
    if kind is None:
        return None
    values = kind.check(c, spec, path, Context(event, remind, prices))
    return Rule(
        id=rule_id, title=title, why=why, kind=kind.name, event=event, kept_by=kept_by, remind=remind,
        ladder=ladder if ladder in ladders else None, ladder_group=c.text(spec, path, "ladder_group"),
        introduced=introduced, thank_for=c.duration(spec, path, "thank_for"), when=when,
        line=c.line(path), **{k: v for k, v in values.items() if v is not None})


def _introduced(c: Checker, introduced: object, path: Path) -> date | None:
    if introduced is None:
        return None
    if not isinstance(introduced, date):
        c.add(path, "must be a date like 2026-03-01, got {value}", value=repr(introduced))
        return None
    if isinstance(introduced, datetime):
        introduced = introduced.date()
    if not EARLIEST <= introduced <= LATEST:
        c.add(path, "must be a date between {first} and {last}, got {value}", first=EARLIEST.year, last=LATEST.year,
              value=introduced.isoformat())
        return None
    return introduced


def _remind(c: Checker, raw: object, path: Path) -> Remind | None:
    if not isinstance(raw, dict):
        c.add(path, "must say `before: <entity>.<field>` and `at: [48h, 3h]`")
        return None
    ref = c.ref(raw, path, "before")
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
            c.refused((*path, "at", i), exc)
    return Remind(ref[0], ref[1], tuple(parsed))


def _tiers(c: Checker, doc: dict[str, Any], rules: dict[str, Rule]) -> dict[str, Tier]:
    out: dict[str, Tier] = {}
    declared = set(c.mapping(doc, ("rules",)))
    for name, spec in c.mapping(doc, ("tiers",)).items():
        path: Path = ("tiers", str(name))
        if not isinstance(spec, dict):
            c.add(path, "must be a mapping with exempt and surcharge")
            continue
        exempt = c.names(spec, path, "exempt")
        for i, rule_id in enumerate(exempt):
            if rule_id not in declared:
                c.add((*path, "exempt", i), "no rule named {name} in this rulebook", name=repr(rule_id))
        surcharge: dict[str, Decimal] = {}
        for rule_id, amount in c.mapping(doc, (*path, "surcharge")).items():
            if rule_id not in declared:
                c.add((*path, "surcharge", str(rule_id)), "no rule named {name} in this rulebook", name=repr(rule_id))
            money = c.money(amount, (*path, "surcharge", str(rule_id)))
            if money is not None:
                surcharge[str(rule_id)] = money
        out[str(name)] = Tier(str(name), frozenset(exempt), surcharge)
    return out


def _expression_ok(c: Checker, text: str, path: Path) -> bool:
    """Whether a `when:` can be a rule's condition: ZEN, and no costlier than one event may be."""
    problem: Any
    try:
        problem = zen.validate_expression(text)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        problem = {"source": "the expression cannot be read"}
    if problem:
        c.add(path, "is not a valid expression: {reason}", reason=problem.get("source", problem))
        return False
    try:
        cost(text)
    except ExpressionCost as exc:
        c.add(path, str(exc))
        return False
    return True
