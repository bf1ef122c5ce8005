"""Ladders: the steps a breach climbs within a window, checked by line like the rest of the rulebook."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from firmly.domain.checker import Checker
from firmly.domain.contacts import OWN, ROLE
from firmly.domain.durations import DurationError, parse_duration
from firmly.domain.yamlmap import Path

STEP_ACTIONS = ("feedback", "warning", "fee", "require_prepayment", "suspend", "terminate")
SANCTIONS = ("fee", "require_prepayment", "suspend", "terminate")
LADDER_FIELDS = frozenset({"window", "earn_back", "steps", "first_step_may_sanction"})
MAX_EARN_BACK = 1000
STEP_OPTIONS = frozenset({"review", "to"})  # what a step may say besides its action
MAX_ROLES = 10  # roles one step's message goes to


@dataclass(frozen=True, slots=True)
class Step:
    action: str
    amount: Decimal | None = None
    duration: timedelta | None = None
    review: bool = False
    to: tuple[str, ...] = ()  # the contacts' roles its message goes to (domain/contacts.py); () = the counterparty


@dataclass(frozen=True, slots=True)
class Ladder:
    name: str
    window: timedelta
    earn_back: int | None
    steps: tuple[Step, ...]


def _to(c: Checker, raw: object, path: Path) -> tuple[str, ...]:
    """`to: management` or `to: [management, owner]`: the roles a step's message goes to."""
    roles = [raw] if isinstance(raw, str) else raw
    if not isinstance(roles, list) or not roles or len(roles) > MAX_ROLES:
        c.add(path, "names the contacts' roles the message goes to, like management or [management, owner] "
              "(at most {most}), got {value}", most=MAX_ROLES, value=repr(raw))
        return ()
    out: list[str] = []
    for i, role in enumerate(roles):
        where = path if isinstance(raw, str) else (*path, i)
        if not isinstance(role, str) or not ROLE.match(role):
            c.add(where, "a role is a short name in lowercase latin letters, digits and _ (like management "
                  "or {own} for the counterparty's own address), got {value}", own=OWN, value=repr(role))
        elif role not in out:
            out.append(role)
    return tuple(out)


def _step(c: Checker, raw: object, path: Path) -> Step | None:
    review = False
    to: tuple[str, ...] = ()
    if isinstance(raw, str):
        action, value = raw, None
    elif isinstance(raw, dict):
        review_raw = raw.get("review", False)
        if not isinstance(review_raw, bool):
            c.add((*path, "review"), "must be true or false")
        review = bool(review_raw)
        if "to" in raw:
            to = _to(c, raw["to"], (*path, "to"))
        keys = [k for k in raw if k not in STEP_OPTIONS]
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
        return Step(action, amount=amount, review=review, to=to) if amount is not None else None
    if action in ("require_prepayment", "suspend"):
        try:
            return Step(action, duration=parse_duration(value), review=review, to=to)
        except DurationError as exc:
            c.add(step_path, "{step} needs its duration: {reason}", step=action, reason=str(exc))
            return None
    if action == "terminate" and value not in (True, None):
        c.add(step_path, "write `terminate: true`")
    return Step(action, review=review, to=to)


def check_ladders(c: Checker, doc: dict[str, Any]) -> dict[str, Ladder]:
    """The rulebook's ladders; a ladder with a problem is left out (and the problem reported)."""
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
        steps = _steps(c, spec, path)
        if window is not None and steps:
            out[str(name)] = Ladder(str(name), window, earn_back, tuple(steps))
    return out


def _step_action(raw: object) -> str | None:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, dict):
        keys = [k for k in raw if k not in STEP_OPTIONS]
        return str(keys[0]) if len(keys) == 1 else None
    return None


def _steps(c: Checker, spec: dict[str, Any], path: Path) -> list[Step]:
    raw_steps = spec.get("steps")
    steps: list[Step] = []
    if not isinstance(raw_steps, list) or not raw_steps:
        c.add((*path, "steps"), "is required: a list of steps such as feedback, warning, fee: \"1000.00\"")
        return steps
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
    return steps
