"""A property of the whole service: after any sequence of rulebook loads, in-order and late ingests, ticks
and reviews over the clinic example, `replay` rewrites no decision. Live processing and replay decide alike,
on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from firmly.domain.clock import iso, parse_instant
from firmly.domain.rulebook import parse_rulebook
from firmly.service import clock, ingest, replay, review, rulebooks
from tests.contract.conftest import MakeStore

EXAMPLE = Path(__file__).resolve().parents[2] / "src" / "firmly" / "examples" / "clinic-en"
CLINIC = (EXAMPLE / "rulebook.yaml").read_text()
EVENTS = [json.loads(line) for line in (EXAMPLE / "events.jsonl").read_text().splitlines() if line.strip()]
CLIENTS = ("tom", "lucy", "kim", "ann", "max")
START = parse_instant("2026-05-01T00:00:00+00:00")
WALL = parse_instant("2026-07-01T00:00:00+00:00")  # the wall clock every step runs at
HOUR = 3_600_000_000
_names = itertools.count()

# A version: its notice ("12h" as shipped), and where it is in force from (None: just after the clock).
load = st.tuples(st.just("load"), st.sampled_from(["6h", "12h", "24h", "36h"]), st.none() | st.integers(0, 24 * 45))
ahead = st.tuples(st.just("ingest"), st.integers(1, 8))  # the example's next events, in order
# A late visit: a client, when it was booked (hours since START), its lead time and its cancellation's notice.
late = st.tuples(st.just("late"), st.sampled_from(CLIENTS), st.integers(0, 24 * 40), st.integers(2, 72),
                 st.integers(0, 48))
tick = st.tuples(st.just("tick"), st.integers(1, 24 * 7))
act = st.tuples(st.just("review"), st.sampled_from(["approve", "dismiss", "soften"]))
steps = st.lists(st.one_of(load, ahead, late, tick, act), max_size=12)


def _at(hours: int) -> str:
    return iso(START + hours * HOUR)


def _run(store: Any, plan: list[tuple[Any, ...]]) -> None:
    rulebooks.load(store, parse_rulebook(CLINIC, "rulebook.yaml"), WALL)
    position, versions, visits = 0, 0, 0
    for step in plan:
        if step[0] == "load":
            _, notice, start = step
            versions += 1
            header = f'version: "v{versions}"' + (f'\neffective_from: "{_at(start)}"' if start is not None else "")
            text = CLINIC.replace('version: "2026-05"', header).replace("min_notice: 12h", f"min_notice: {notice}")
            rulebooks.load(store, parse_rulebook(text, f"v{versions}.yaml"), WALL)
        elif step[0] == "ingest":
            chunk, position = EVENTS[position:position + step[1]], position + step[1]
            if chunk:
                ingest.ingest(store, ingest.parsed("events", chunk), now=WALL)
        elif step[0] == "late":
            _, who, booked, lead, notice = step
            visits += 1
            name = f"late{visits}"
            starts = booked + lead
            envelopes = [
                {"id": f"{name}-book", "type": "appointment.booked", "counterparty": who,
                 "occurred_at": _at(booked), "data": {"appointment": name, "starts_at": _at(starts)}},
                {"id": f"{name}-cancel", "type": "appointment.cancelled", "counterparty": who,
                 "occurred_at": _at(max(booked, starts - notice)), "data": {"appointment": name}}]
            report = ingest.ingest(store, ingest.parsed("late", envelopes), now=WALL)
            assert report.rejected == []
        elif step[0] == "tick":
            with store.read():
                now = store.workspace_info().clock or START
            clock.tick(store, min(now + step[1] * HOUR, WALL), now=WALL)
        else:
            pending = review.pending(store)
            if pending:
                proposal = pending[0]
                what = step[1]
                if what == "soften" and (proposal["step"] or 1) <= 1:
                    what = "dismiss"
                review.act(store, proposal["id"], what, "a person looked at it", "ops",
                           step=1 if what == "soften" else None)


@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps)
# a second version loaded at the clock, then a late event of another client: the decision made at the clock
@example([("ingest", 29), ("load", "12h", None), ("late", "ann", 744, 2, 0)])
# a booking ingested after a tick past its reminder's time
@example([("ingest", 1), ("tick", 122), ("ingest", 8)])
def test_replay_rewrites_nothing_after_any_loads_ingests_ticks_and_reviews(make_store: MakeStore,
                                                                            plan: list[tuple[Any, ...]]) -> None:
    store = make_store(f"prop{next(_names)}")  # a fresh workspace for each history
    _run(store, plan)
    assert replay.replay(store).rewritten == 0
