"""Reports over the whole workspace, one row per counterparty."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from statistics import median
from typing import Any, TextIO

from firmly.domain.engine import CounterpartyState, Engine, Table
from firmly.domain.money import fmt
from firmly.domain.ports import Store, WorkspaceInfo
from firmly.domain.scores import (
    Cost,
    classify,
    cost,
    cost_row,
    flagged,
    rating,
    ratio_to,
    ratios,
    verdict_sentence,
)
from firmly.service import workspace
from firmly.service.policy import load_policy


def _each(store: Store, kind: str | None = None) -> Iterator[tuple[CounterpartyState, Table, int]]:
    """Every counterparty (of a kind) with the rules in force for it at the engine clock."""
    ws = workspace.current(store)
    engine = Engine(load_policy(store))
    for st in store.states(kind):
        now = ws.clock if ws.clock is not None else st.last_at
        yield st, engine.table(st, now), now


def partner_scores(st: CounterpartyState, table: Table) -> dict[str, Any]:
    """Karma, rating and bonus of one partner (the figures `report partners` and the page show)."""
    track, terms = st.track, table.karma
    karma = track.karma if track is not None and track.karma is not None else (
        terms.start if terms is not None and terms.enabled else None)
    return {
        "karma": karma,
        "rating": rating(track, terms) if track is not None and terms is not None else None,
        "reviews": track.rating_n if track else 0,
        "clean_bookings": track.clean if track else 0,
        "incidents": track.incidents_total if track else 0,
        "bonus": fmt(track.bonus) if track else "0.00",
    }


def partners(store: Store) -> list[dict[str, Any]]:
    """Partners by karma, best first: clean bookings, incidents, bonuses and the published-review rating."""
    with store.read():
        rows = [{"key": st.key, "name": st.name, **partner_scores(st, table)}
                for st, table, _ in _each(store, "partner")]
    rows.sort(key=lambda r: (-(r["karma"] or 0), r["key"]))
    return rows


def supplier_scores(st: CounterpartyState, table: Table, now: int) -> dict[str, Any]:
    """The scorecard of one supplier: its class with the evidence and the cost of switching."""
    switching = (st.info or {}).get("switching_cost")
    row: dict[str, Any] = {"class": None, "weighted": 0, "late_deliveries": 0, "incidents": 0, "evidence": [],
                           "reason": None,
                           "switching_cost": None if switching is None else fmt(Decimal(str(switching)))}
    if table.scorecard is not None:
        v = classify(st.track, table.scorecard, now)
        lang = st.locale or (table.books[0].locale if table.books else "en")
        row.update({"class": v.klass, "weighted": v.weighted, "late_deliveries": v.late, "incidents": v.incidents,
                    "evidence": list(v.evidence), "reason": verdict_sentence(v, table.scorecard, lang)})
    return row


def suppliers(store: Store) -> list[dict[str, Any]]:
    """Suppliers, those to drop first, then to replace, then to keep; heavier records first."""
    with store.read():
        rows = [{"key": st.key, "name": st.name, **supplier_scores(st, table, now)}
                for st, table, now in _each(store, "supplier")]
    order = {"drop": 0, "replace": 1, "keep": 2}
    rows.sort(key=lambda r: (order.get(r["class"], 3), -r["weighted"], r["key"]))
    return rows


def courtesy_scores(st: CounterpartyState) -> dict[str, Any]:
    """Messages, hostile ones, and the share that was not hostile (1.0: always courteous)."""
    share = round((st.messages - st.hostile) / st.messages, 2) if st.messages else None
    return {"messages": st.messages, "hostile": st.hostile, "courtesy": share}


def courtesy(store: Store) -> list[dict[str, Any]]:
    """Everyone who wrote to us, the least courteous first."""
    with store.read():
        rows = [{"key": st.key, "name": st.name, **courtesy_scores(st)} for st, _, _ in _each(store) if st.messages]
    rows.sort(key=lambda r: (r["courtesy"], -r["hostile"], r["key"]))
    return rows


_medians: dict[tuple[Any, ...], dict[tuple[str, str], Decimal]] = {}


def cost_ratio(store: Store, st: CounterpartyState, table: Table, now: int,
               ws: WorkspaceInfo | None = None) -> tuple[float | None, bool]:
    """One counterparty's cost-to-serve ratio and flag, against its peers' median (`ws`: the workspace, if
    the caller has read it in this transaction).

    The medians come from a scan of every state, so they are kept until the workspace's history, clock
    or rules change: a counterparty page must not cost a pass over the whole workspace."""
    ws = ws or workspace.current(store)
    key = workspace.version(store, ws)
    found = _medians.get(key)
    if found is None:
        figures: dict[tuple[str, str], list[Decimal]] = {}
        for other, other_table, other_now in _each(store):
            f = cost(other.key, other.name, other.kind, "", other.days, other_now, other_table.cost_period_us).figure
            if f is not None:  # peers: the same kind in the same currency, as in scores.ratios
                figures.setdefault((other.kind, _currency(other, other_table)), []).append(f)
        if len(_medians) >= 64:
            _medians.clear()
        found = _medians[key] = {kind: median(values) for kind, values in figures.items()}
    mine = cost(st.key, st.name, st.kind, "", st.days, now, table.cost_period_us)
    ratio = ratio_to(mine.figure, found.get((st.kind, _currency(st, table))))
    return ratio, flagged(mine, ratio, table.flag_ratio)


def _currency(st: CounterpartyState, table: Table) -> str:
    return st.account.currency if st.account else table.currency


def cost_to_serve(store: Store) -> list[dict[str, Any]]:
    """Effort per unit of revenue over each counterparty's period up to the engine clock, against the
    median of its kind; the most expensive first."""
    with store.read():
        costs: list[Cost] = []
        flags = {}
        for st, table, now in _each(store):
            currency = _currency(st, table)
            costs.append(cost(st.key, st.name, st.kind, currency, st.days, now, table.cost_period_us))
            flags[st.key] = table.flag_ratio
    found = ratios(costs)
    rows = [cost_row(c, found[c.key], flags[c.key]) for c in costs]
    rows.sort(key=lambda r: (not r["flagged"], r["ratio"] is None, -(r["ratio"] or 0), r["key"]))
    return rows


# Every report by the name the command line, the API and the web UI give it.
BY_NAME: dict[str, Callable[[Store], list[dict[str, Any]]]] = {
    "cost-to-serve": cost_to_serve, "partners": partners, "suppliers": suppliers, "courtesy": courtesy}


def flat(row: dict[str, Any], list_joiner: str) -> dict[str, Any]:
    """A report row for a table or CSV: nested figures become columns, nested tallies "a=1; b=2", lists one
    cell joined by `list_joiner`."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            for inner, v in value.items():
                out[inner] = "; ".join(f"{k}={n}" for k, n in v.items()) if isinstance(v, dict) else v
        elif isinstance(value, list):
            out[key] = list_joiner.join(str(v) for v in value)
        else:
            out[key] = value
    return out


# CSV injection (OWASP): a spreadsheet runs a cell that starts with one of these as a formula, so a counterparty
# named `=HYPERLINK(...)` would become a link in the operator's spreadsheet. Such a cell gets a leading single
# quote, which spreadsheets read as "text" and do not show; a plain number such as -12.50 stays a number.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell that a spreadsheet shows and never runs."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def write_csv(rows: list[dict[str, Any]], out: TextIO, list_joiner: str) -> None:
    """Report rows as CSV (flattened as `flat`, every cell neutralised as `csv_cell`): every CSV export uses it."""
    flat_rows = [{csv_cell(k): csv_cell(v) for k, v in flat(r, list_joiner).items()} for r in rows]
    columns = list(dict.fromkeys(c for r in flat_rows for c in r)) or ["key", "name"]
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(flat_rows)
