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
from firmly.domain.sections import Sections, check_sections, parse_sections
from firmly.domain.yamlmap import Path, YamlProblem, load_with_lines

STEP_ACTIONS = ("feedback", "warning", "fee", "require_prepayment", "suspend", "terminate")
SANCTIONS = ("fee", "require_prepayment", "suspend", "terminate")
LOCALES = ("ru", "en")
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")

TOP_FIELDS = {"rulebook", "version", "title", "locale", "currency", "timezone", "applies_to", "effective_from",
              "ladders", "tiers", "rules", "account", "prices", "cost_to_serve", "karma", "reviews", "scorecard",
              "description", "messages"}
LADDER_FIELDS = {"window", "earn_back", "steps", "first_step_may_sanction"}
# The fields every rule has; each kind adds its own (engine/kinds).
RULE_FIELDS = frozenset({"title", "why", "kind", "event", "kept_by", "remind", "ladder", "ladder_group", "introduced",
                         "thank_for", "when"})
# The dates a rule may be introduced on (README "Limits of a rulebook"); counts are in checker.MAX_COUNT.
EARLIEST, LATEST = date(1970, 1, 1), date(2200, 12, 31)
MAX_EARN_BACK = 1000


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


def parse_rulebook(text: str, where: str = "rulebook.yaml") -> Rulebook:
    """A validated Rulebook, or InvalidInput with every problem as FILE:LINE: field: message."""
    try:
        doc, lines = load_with_lines(text)
    except YamlProblem as exc:
        raise InvalidInput([Problem(where, exc.line, "yaml", exc.message)]) from None
    c = Checker(where, lines)
    if not isinstance(doc, dict):
        raise InvalidInput([Problem(where, 1, "rulebook", "must be a YAML mapping of fields")])
    for key in doc:
        if key not in TOP_FIELDS:
            c.unknown((str(key),), "unknown field; expected one of {choices}", TOP_FIELDS,
                      choices=", ".join(sorted(TOP_FIELDS)))
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
    applies_to = c.names(doc, (), "applies_to")
    if not applies_to:
        c.add(("applies_to",), "is required: the counterparty kinds this rulebook governs ({choices})",
              choices=", ".join(KINDS))
    for i, kind in enumerate(applies_to):
        if kind not in KINDS:
            c.add(("applies_to", i), "unknown counterparty kind {name}; expected one of {choices}", name=repr(kind),
                  choices=", ".join(KINDS))
    effective_from = None
    if doc.get("effective_from") is not None:
        raw = doc["effective_from"]
        try:
            effective_from = parse_instant(raw.isoformat() if isinstance(raw, datetime | date) else raw)
        except (TimeError, OverflowError, ValueError) as exc:  # parse_instant keeps times within 1970-2200
            if isinstance(exc, TimeError):
                c.add(("effective_from",), str(exc))
            else:
                c.add(("effective_from",), "is not a time: {value}", value=repr(raw))

    prices = _prices(c, doc)
    ladders = _ladders(c, doc)
    rules = _rules(c, doc, ladders, prices)
    tiers = _tiers(c, doc, rules)
    check_sections(c, doc)
    if c.problems:
        raise InvalidInput(sorted(c.problems, key=_by_line))
    extra = {k: doc[k] for k in ("account", "cost_to_serve", "karma", "reviews", "scorecard", "messages") if k in doc}
    return Rulebook(
        id=book_id, version=version, title=title, locale=locale, currency=currency, timezone=timezone,
        applies_to=applies_to, ladders=ladders, tiers=tiers, rules=rules, prices=prices,
        effective_from=effective_from, source=text, hash=hashlib.sha256(text.encode()).hexdigest(),
        extra=extra, warnings=tuple(sorted(c.warnings, key=_by_line)), sections=parse_sections(doc))


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


def _step(c: Checker, raw: object, path: Path) -> Step | None:
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
            c.add(path, "a step names one action ({choices}), got {value}", choices=", ".join(STEP_ACTIONS),
                  value=repr(keys))
            return None
        action, value = str(keys[0]), raw[keys[0]]
    else:
        c.add(path, "a step is one of {choices}, got {value}", choices=", ".join(STEP_ACTIONS), value=repr(raw))
        return None
    if action not in STEP_ACTIONS:
        c.add(path, "unknown step {name}; expected one of {choices}", name=repr(action),
              choices=", ".join(STEP_ACTIONS))
        return None
    step_path = (*path, action) if isinstance(raw, dict) else path
    if action == "fee":
        amount = c.money(value, step_path)
        return Step(action, amount=amount, review=review) if amount is not None else None
    if action in ("require_prepayment", "suspend"):
        try:
            return Step(action, duration=parse_duration(value), review=review)
        except DurationError as exc:
            c.add(step_path, "{step} needs its duration: {reason}", step=action, reason=str(exc))
            return None
    if action == "terminate" and value not in (True, None):
        c.add(step_path, "write `terminate: true`")
    return Step(action, review=review)


def _ladders(c: Checker, doc: dict[str, Any]) -> dict[str, Ladder]:
    out: dict[str, Ladder] = {}
    for name, spec in c.mapping(doc, ("ladders",)).items():
        path: Path = ("ladders", str(name))
        if not isinstance(spec, dict):
            c.add(path, "must be a mapping with window, earn_back and steps")
            continue
        for key in spec:
            if key not in LADDER_FIELDS:
                c.unknown((*path, str(key)), "unknown field; expected one of {choices}", LADDER_FIELDS,
                          choices=", ".join(sorted(LADDER_FIELDS)))
        window = c.duration(spec, path, "window", required=True)
        earn_back = spec.get("earn_back")
        if earn_back is not None and (isinstance(earn_back, bool) or not isinstance(earn_back, int)
                                      or not 1 <= earn_back <= MAX_EARN_BACK):
            c.add((*path, "earn_back"), "must be a whole number of kept rules from 1 to {max}, got {value}",
                  max=MAX_EARN_BACK, value=repr(earn_back))
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
                      "the first step is {step}: a ladder must give feedback or a warning before any "
                      "fee or restriction (set first_step_may_sanction: true to allow it)", step=first)
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


def _rules(c: Checker, doc: dict[str, Any], ladders: dict[str, Ladder], prices: dict[str, Price]
           ) -> dict[str, Rule]:
    # Imported here: the kinds' handlers import the engine, which imports this module.
    from firmly.domain.engine.kinds import KINDS as RULE_KINDS  # noqa: PLC0415
    from firmly.domain.engine.kinds.base import Context  # noqa: PLC0415

    raw_rules = c.mapping(doc, ("rules",))
    if not raw_rules and "rules" not in doc:
        c.add(("rules",), "is required: at least one rule")
    declared_ladders = set(c.mapping(doc, ("ladders",)))
    known_fields = RULE_FIELDS.union(*(k.fields for k in RULE_KINDS.values()))
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
        remind = None
        if spec.get("remind") is not None:
            remind = _remind(c, spec["remind"], (*path, "remind"))
        introduced = _introduced(c, spec.get("introduced"), (*path, "introduced"))
        kept_by = c.names(spec, path, "kept_by")
        if kind is not None and kind.needs_event and event is None:
            c.add((*path, "event"), "is required for a {kind} rule: the event type it watches", kind=kind.name)
        if kind is None:
            continue
        values = kind.check(c, spec, path, Context(event, remind, prices))
        out[rule_id] = Rule(
            id=rule_id, title=title, why=why, kind=kind.name, event=event, kept_by=kept_by, remind=remind,
            ladder=ladder if ladder in ladders else None, ladder_group=c.text(spec, path, "ladder_group"),
            introduced=introduced, thank_for=c.duration(spec, path, "thank_for"), when=when,
            line=c.line(path), **{k: v for k, v in values.items() if v is not None})
    return out


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
            c.add((*path, "at", i), str(exc))
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
