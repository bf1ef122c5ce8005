"""Every counterparty with its status and scores in one pass: the web UI's list, dashboard and charts.

The pass reads each derived state once; its result is kept until the workspace's history, clock or rules
change (the same key the cost medians use), so pages in a row do not scan the workspace again."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from statistics import median
from typing import Any

from firmly.domain.engine import Engine
from firmly.domain.ports import Store
from firmly.domain.scores import cost, ratio_to
from firmly.service import reports, workspace
from firmly.service.policy import load_policy


@dataclass(frozen=True, slots=True)
class Restriction:
    key: str
    name: str
    type: str
    until: int
    rule: str


@dataclass(slots=True)
class Summary:
    """One counterparty as lists and charts show it; a score that does not apply is None."""

    key: str
    name: str
    kind: str
    tier: str
    status: str
    currency: str
    effort_minutes: int = 0
    revenue: Decimal = Decimal(0)
    ratio: float | None = None
    flagged: bool = False
    karma: int | None = None
    rating: float | None = None
    courtesy: float | None = None
    klass: str | None = None  # suppliers: keep | replace | drop
    reason: str | None = None  # suppliers: the class in plain words
    invoiced: bool = False  # a top-up invoice is out and the balance has not recovered
    balance: Decimal | None = None
    restrictions: list[Restriction] = field(default_factory=list)
    search: str = ""  # key and name, case-folded


@dataclass(frozen=True, slots=True)
class Scan:
    clock: int | None
    timezone: str
    locale: str
    rows: list[Summary]


_cache: dict[tuple[Any, ...], Scan] = {}


def scan(store: Store) -> Scan:
    with store.read():
        ws = workspace.current(store)
        key = workspace.version(store, ws)
        found = _cache.get(key)
        if found is not None:
            return found
        engine = Engine(load_policy(store))
        rows: list[Summary] = []
        figures: dict[str, list[Decimal]] = {}
        mine: list[tuple[Summary, Decimal | None, Decimal]] = []
        for st in store.states():
            now = ws.clock if ws.clock is not None else st.last_at
            table = engine.table(st, now)
            currency = st.account.currency if st.account else table.currency
            c = cost(st.key, st.name, st.kind, currency, st.days, now, table.cost_period_us)
            row = Summary(st.key, st.name, st.kind, st.tier, st.status(now), currency, c.effort_minutes, c.revenue,
                          search=f"{st.key} {st.name}".casefold())
            if c.figure is not None:
                figures.setdefault(_peers(st.kind, currency), []).append(c.figure)
            if st.kind == "partner":
                found_scores = reports.partner_scores(st, table)
                row.karma, row.rating = found_scores["karma"], found_scores["rating"]
            if st.kind == "supplier" and table.scorecard is not None:
                card = reports.supplier_scores(st, table, now)
                row.klass, row.reason = card["class"], card["reason"]
            row.courtesy = reports.courtesy_scores(st)["courtesy"]
            if st.account is not None:
                row.invoiced = st.account.invoiced
                row.balance = st.account.balance
            row.restrictions = [Restriction(st.key, st.name, r.type, r.until, r.rule)
                                for r in st.restrictions or () if r.until > now]
            rows.append(row)
            mine.append((row, c.figure, table.flag_ratio))
    medians = {peers: median(values) for peers, values in figures.items()}
    for row, figure, flag_ratio in mine:
        row.ratio = ratio_to(figure, medians.get(_peers(row.kind, row.currency)))
        # as scores.flagged: expensive against peers, or effort with no revenue at all
        row.flagged = row.effort_minutes > 0 if row.ratio is None else Decimal(str(row.ratio)) >= flag_ratio
    rows.sort(key=lambda r: r.key)
    result = Scan(ws.clock, ws.timezone, ws.locale, rows)
    if len(_cache) >= 16:
        _cache.clear()
    _cache[key] = result
    return result


def _peers(kind: str, currency: str) -> str:
    """Whom a counterparty is compared with: its kind, in its currency (minutes per rouble and minutes per
    euro are not one scale)."""
    return f"{kind}/{currency}"


def search(found: Scan, q: str = "", kind: str = "", status: str = "", tier: str = "", only_flagged: bool = False
           ) -> list[Summary]:
    needle = q.strip().casefold()
    return [r for r in found.rows
            if (not needle or needle in r.search) and (not kind or r.kind == kind)
            and (not status or r.status == status) and (not tier or r.tier == tier)
            and (not only_flagged or r.flagged)]
