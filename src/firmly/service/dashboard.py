"""What needs a person today, and how decisions trend: the web UI's first page."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from firmly.domain.clock import to_us
from firmly.domain.engine.decision import ACTIONS, INACTIVE
from firmly.domain.ports import Store
from firmly.service import listing, wallclock, workspace
from firmly.service.listing import Restriction, Summary

DAY_US = 86_400_000_000
SOON_DAYS = 30
WEEKS = 26


@dataclass(frozen=True, slots=True)
class Dashboard:
    clock: int | None
    pending: list[dict[str, Any]]  # proposals waiting for review, oldest first
    ending: list[Restriction]  # restrictions that end within SOON_DAYS of the engine clock
    flagged: list[Summary]  # expensive clients, the most expensive first
    suppliers: list[Summary]  # to drop, then to replace
    invoices: list[dict[str, Any]]  # open top-up invoices: the latest per counterparty still out
    weeks: list[int]  # the start of each week (UTC microseconds), oldest first
    trend: dict[str, list[int]]  # action -> decisions per week
    empty: bool  # nothing loaded or recorded yet: the page points to the start page instead


def dashboard(store: Store) -> Dashboard:
    found = listing.scan(store)
    with store.read():
        workspace.current(store)
        pending = store.decisions(status="proposed")
        facts = store.decision_facts()
        invoiced = {r.key for r in found.rows if r.invoiced}
        issued = [r for r in store.decisions(action="top_up_invoice")
                  if r["counterparty"] in invoiced and r["status"] not in INACTIVE] if invoiced else []
    clock = found.clock
    # a fresh workspace has no engine clock yet: its weeks end today, not in 1970
    now = clock if clock is not None else max((f[2] for f in facts.values()), default=wallclock.now())
    ending = sorted((r for row in found.rows for r in row.restrictions if r.until <= now + SOON_DAYS * DAY_US),
                    key=lambda r: r.until)
    flagged = sorted((r for r in found.rows if r.flagged), key=lambda r: (r.ratio is None, -(r.ratio or 0), r.key))
    order = {"drop": 0, "replace": 1}
    suppliers = sorted((r for r in found.rows if r.klass in order), key=lambda r: (order[r.klass or ""], r.key))
    names = {r.key: r.name for r in found.rows}
    pending = [{**r, "name": names.get(r["counterparty"], r["counterparty"])} for r in pending]
    latest: dict[str, dict[str, Any]] = {}
    for r in issued:
        latest[r["counterparty"]] = r
    invoices = [{**r, "name": names.get(r["counterparty"], r["counterparty"])}
                for r in sorted(latest.values(), key=lambda r: r["at"])]
    weeks, trend = _trend(facts, now, found.timezone)
    return Dashboard(clock, pending, ending, flagged, suppliers, invoices, weeks, trend,
                     empty=not found.rows and not facts and clock is None)


def _trend(facts: dict[str, tuple[Any, ...]], now: int, timezone: str) -> tuple[list[int], dict[str, list[int]]]:
    """Decisions per week (Monday to Sunday in the workspace's time zone) by action, for WEEKS weeks up to now;
    those that did not happen (cancelled, dismissed, superseded) are left out."""
    tz = ZoneInfo(timezone)
    local = datetime.fromtimestamp(now / 1_000_000, tz)
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    starts = [to_us(monday - timedelta(weeks=WEEKS - 1 - i)) for i in range(WEEKS)]
    first, week_us = starts[0], 7 * DAY_US
    counts: dict[str, list[int]] = {}
    for fact in facts.values():
        at, action, status = fact[2], fact[4], fact[5]
        if status in INACTIVE or status == "scheduled" or at < first or at >= starts[-1] + week_us:
            continue
        slot = bisect_right(starts, at) - 1  # local Mondays: a week with a clock change is an hour short or long
        counts.setdefault(action, [0] * WEEKS)[slot] += 1
    return starts, {a: counts[a] for a in ACTIONS if a in counts}
