"""quota: so many included per period or per data field; beyond it a breach, and a bill when priced."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from firmly.domain.checker import MAX_COUNT, finite
from firmly.domain.durations import DurationError, parse_duration, to_us
from firmly.domain.engine import values
from firmly.domain.engine.kinds.base import Context, RuleKind, applies
from firmly.domain.engine.state import ref_key

if TYPE_CHECKING:
    from firmly.domain.checker import Checker
    from firmly.domain.engine.decision import Decision
    from firmly.domain.engine.ladder import LadderFold as Engine
    from firmly.domain.engine.policy import Compiled
    from firmly.domain.engine.state import CounterpartyState
    from firmly.domain.events import Event
    from firmly.domain.yamlmap import Path



def check(c: Checker, spec: dict[str, Any], path: Path, ctx: Context) -> dict[str, Any]:
    values: dict[str, Any] = {}
    limit = spec.get("max")
    if limit is None:
        c.add((*path, "max"), "is required: how many are included, a number from 0 to {max}", max=f"{MAX_COUNT:,}")
    elif not finite(limit) or not 0 <= limit <= MAX_COUNT:
        c.add((*path, "max"), "must be how many are included, a number from 0 to {max}, got {value}",
              max=f"{MAX_COUNT:,}", value=repr(limit))
    else:
        values["max"] = Decimal(str(limit))
    per = c.text(spec, path, "per", required=True)
    if per is not None:
        try:
            values["per_duration"] = parse_duration(per)
        except DurationError as exc:
            if re.match(r"^\s*\d+\s*[smhdw]\s*$", per):
                c.refused((*path, "per"), exc)
            elif not re.match(r"^[a-z_]+$", per):
                c.add((*path, "per"), "must be a data field like order or a duration like 30d, got {value}",
                      value=repr(per))
        values["per"] = per
    values["sum"] = c.text(spec, path, "sum")
    bill = c.text(spec, path, "bill")
    if bill is not None and ctx.prices and bill not in ctx.prices:
        c.add((*path, "bill"), "no price {name} in this rulebook's prices ({known})", name=repr(bill),
              known=", ".join(sorted(ctx.prices)))
    values["bill"] = bill
    return values


def prepare(c: Compiled) -> None:
    c.per_us = to_us(c.rule.per_duration) if c.rule.per_duration else None


def judge(engine: Engine, st: CounterpartyState, c: Compiled, ev: Event, role: str, out: list[Decision]) -> None:
    if c.when is not None and not applies(c, ev):
        return
    rule = c.rule
    data = ev.data
    amount = Decimal(1)
    if rule.sum:
        summed = values.number(data.get(rule.sum, 0), ev.id, rule.sum)
        if summed is None:
            return  # not a number: the rule does not count this event
        amount = summed
    if c.per_us is not None:
        windows = st.quota_window if st.quota_window is not None else {}
        st.quota_window = windows
        history = [h for h in windows.get(c.id, []) if h[0] > ev.at - c.per_us]
        history.append((ev.at, amount))
        windows[c.id] = history
        used = sum((h[1] for h in history), Decimal(0))
    else:
        quota = st.quota if st.quota is not None else {}
        st.quota = quota
        key = ref_key(c.id, str(data.get(rule.per or "", "")))
        used = quota.get(key, Decimal(0)) + amount
        quota[key] = used
    limit = rule.max if rule.max is not None else Decimal(0)
    if used <= limit:
        engine._kept(st, c, ev.id, ev.at, out)
        return
    if rule.bill:
        _bill(engine, st, c, ev, (used, limit, amount), out)
    engine._breach(st, c, ev.id, ev.at, out, params={"used": str(used), "max": str(limit)})


def _bill(engine: Engine, st: CounterpartyState, c: Compiled, ev: Event, figures: tuple[Decimal, Decimal, Decimal],
          out: list[Decision]) -> None:
    """Bill what went beyond the quota at the counterparty's own price, else the rulebook's."""
    rule = c.rule
    assert rule.bill is not None
    used, limit, amount = figures
    price = (st.prices or {}).get(rule.bill)
    currency = c.book.currency
    if price is None:
        found = c.book.prices.get(rule.bill)
        price = found.price if found else None
    if price is None:
        return
    over = min(used - limit, amount) if rule.sum else Decimal(1)
    charge = price * over
    table = engine.table(st, ev.at)
    book = engine._book(st, table)
    if not engine._refused(st, table, book, charge, ev, rule.bill, out, c.id):
        d = engine._emit(st, c, "bill", "applied", ev.at, ev.id, (ev.id,), out, amount=charge,
                         params={"used": str(used), "max": str(limit), "service": rule.bill}, currency=currency)
        if table.account is None:  # no account kept in advance: the bill is owed
            book.owe(ev.at, charge, ev.id, f"bill:{c.id}", "bill", rule.bill, d.id)
        else:
            book.charge(ev.at, charge, ev.id, f"bill:{c.id}", "bill", rule.bill, d.id)
            engine._low(st, table, book, ev.id, ev.at, out)


KIND = RuleKind("quota", frozenset({"max", "per", "sum", "bill"}), check, judge, prepare=prepare, needs_event=True)
