"""Deciding shared by buckets (domain/buckets.py, service/settle.py): whatever the deciders do — join, leave,
crash without a word, decide a few events at a time while other transactions hold some buckets, take the
buckets nobody is at — the acknowledged events end up decided exactly as one process deciding each batch at once
decides them: the same decisions in force, states, ledgers and letters. Clients are booked into partner clinics,
so a client's event also changes a partner whose bucket is another (named on the booking, found for the visit).

On memory, where a test can say which buckets other transactions hold; PostgreSQL's locks themselves are
exercised by tests/e2e/test_many_processes.py."""

from __future__ import annotations

import random
from collections.abc import Collection
from pathlib import Path
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmly.adapters.memory import MemoryStore
from firmly.domain.buckets import BUCKETS, bucket_of, share
from firmly.domain.clock import iso, parse_instant
from firmly.domain.ports import Store
from firmly.service import ingest, rulebooks, settle, workspace

ROOT = Path(__file__).resolve().parents[2]
CLINIC = ROOT / "src" / "firmly" / "examples" / "clinic-en" / "rulebook.yaml"
PARTNERS = ROOT / "benchmarks" / "partners.yaml"
WALL = parse_instant("2026-07-01T00:00:00+00:00")
START = parse_instant("2026-05-01T00:00:00+00:00")
HOUR = 3_600_000_000
CLIENTS = [f"client-{n}" for n in range(10)]
CLINICS = ["clinic-a", "clinic-b", "clinic-c"]
SECOND = 1_000_000


class Contended(MemoryStore):
    """A memory store whose deciding transactions cannot take the buckets `held` (other transactions have them)."""

    held: frozenset[int] = frozenset()

    def claim_buckets(self, buckets: Collection[int], wait: bool = False) -> set[int]:
        return set(buckets) - self.held


def _batches(seed: int, visits: int) -> list[list[dict[str, Any]]]:
    """Clients booked into the clinics (or the aggregator's own), visits attended, missed or cancelled (their
    events name only the appointment: the partner is found from the booking), incidents reported about a clinic;
    some arriving a little out of order; cut into batches of a few events."""
    rng = random.Random(seed)
    # Each clinic said to be a partner (a counterparty's kind is otherwise that of the first event to reach it,
    # and which one does first, a report about it or a booking into it, is up to whichever bucket is decided first)
    events: list[tuple[int, dict[str, Any]]] = [
        (0, {"id": f"up-{key}", "type": "counterparty.upserted", "counterparty": key, "occurred_at": iso(START),
             "data": {"name": key, "email": f"{key}@example.test", **({"kind": "partner"} if key in CLINICS else {})}})
        for key in [*CLIENTS, *CLINICS]]
    for n in range(visits):
        client, clinic = rng.choice(CLIENTS), rng.choice([*CLINICS, None])
        booked = rng.randrange(1, 24 * 50) * HOUR
        starts = booked + rng.randrange(6, 96) * HOUR
        data: dict[str, Any] = {"appointment": f"v{n}", "starts_at": iso(START + starts)}
        if clinic is not None:
            data["partner"] = clinic
        events.append((booked, {"id": f"b{n}", "type": "appointment.booked", "counterparty": client,
                                "occurred_at": iso(START + booked), "data": data}))
        outcome = rng.choice(["appointment.attended", "appointment.attended", "appointment.no_show",
                              "appointment.cancelled"])
        at = starts - rng.randrange(1, 30) * HOUR if outcome == "appointment.cancelled" else starts + HOUR
        events.append((at, {"id": f"o{n}", "type": outcome, "counterparty": client, "occurred_at": iso(START + at),
                            "data": {"appointment": f"v{n}"}}))
        if clinic is not None and rng.random() < 0.3:
            events.append((at + HOUR, {"id": f"i{n}", "type": "incident.reported", "counterparty": clinic,
                                       "occurred_at": iso(START + at + HOUR),
                                       "data": {"severity": rng.choice(["minor", "major"]), "appointment": f"v{n}",
                                                "category": "late_start"}}))
    events.sort(key=lambda item: item[0] + rng.randrange(0, 12) * HOUR)  # a little out of order
    ordered = [ev for _, ev in events]
    out, i = [], 0
    while i < len(ordered):
        size = rng.randrange(3, 12)
        out.append(ordered[i:i + size])
        i += size
    return out


def _store(name: str) -> Contended:
    store = Contended(name)
    workspace.init(store, "en", "UTC", 0)
    for path in (CLINIC, PARTNERS):
        rulebooks.load(store, rulebooks.read(path), 0)
    return store


def _dump(store: Store) -> dict[str, Any]:
    with store.read():
        decisions = sorted((d for d in store.decisions() if d.get("status") != "superseded"), key=lambda d: d["id"])
        keys = sorted({*CLIENTS, *CLINICS})
        states = {k: msgspec.to_builtins(s) for k, s in store.load_states(keys).items()}
        for s in states.values():
            s.pop("fired_until")  # how far timers were fired: a batch decided in parts moves it in steps
        return {"decisions": decisions, "states": states, "postings": {k: store.postings(k) for k in keys},
                "letters": sorted((r.decision, r.subject, r.body) for r in store.outbox(limit=10**6))}


decider = st.integers(0, 3)
program = st.lists(st.one_of(
    st.tuples(st.just("stage"), st.integers(1, 4)),
    st.tuples(st.just("join"), decider),
    st.tuples(st.just("leave"), decider),
    st.tuples(st.just("crash"), decider),
    st.tuples(st.just("decide"), decider, st.frozensets(st.sampled_from([*CLIENTS, *CLINICS]), max_size=4),
              st.integers(1, 25)),
    st.tuples(st.just("steal"), st.frozensets(st.sampled_from([*CLIENTS, *CLINICS]), max_size=4),
              st.integers(1, 25)),
    st.tuples(st.just("wait"), st.integers(1, 20)),
), max_size=30)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), plan=program)
def test_any_joins_leaves_and_crashes_decide_as_one_process(seed: int, plan: list[tuple[Any, ...]]) -> None:
    batches = _batches(seed, 25)
    once, shared = _store("once"), _store("shared")
    for batch in batches:
        report = ingest.ingest(once, ingest.parsed("events", batch), now=WALL)
        assert not report.rejected, report.rejected[:2]
    now, staged = 0, 0
    alive: dict[str, int] = {}  # decider -> when it last renewed its lease (the test's clock, µs)

    def members(me: str) -> list[str]:
        with shared.write():
            found = shared.deciders_alive(me, now, settle.LEASE)
        alive.update({me: now})
        return found

    for step in plan:
        now += SECOND
        if step[0] == "stage":
            for batch in batches[staged:staged + step[1]]:
                ingest.ingest(shared, ingest.parsed("events", batch), now=WALL, later=True)
            staged = min(len(batches), staged + step[1])
        elif step[0] == "join":
            members(f"d{step[1]}")
        elif step[0] == "leave":
            with shared.write():
                shared.decider_leaves(f"d{step[1]}")
        elif step[0] == "wait":  # a crashed decider's lease runs out meanwhile
            now += step[1] * SECOND
        elif step[0] in ("decide", "steal"):
            held, limit = frozenset(bucket_of(k) for k in step[-2]), step[-1]
            mine = share(members(f"d{step[1]}"), f"d{step[1]}") if step[0] == "decide" else None
            shared.held = held
            with shared.deciding():
                settle.decide_waiting(shared, limit, mine, shared=True)
            shared.held = frozenset()
        # "crash": the decider just stops renewing its lease (nothing to do)
    for batch in batches[staged:]:
        ingest.ingest(shared, ingest.parsed("events", batch), now=WALL, later=True)
    before = _decided(shared)
    assert settle.share_out(shared) == sum(len(b) for b in batches) - before
    with shared.read():
        assert shared.workspace_info().pending == 0  # type: ignore[union-attr]
    assert _dump(shared) == _dump(once)


def _decided(store: Store) -> int:
    """How many of the events are in the log already (decided before the final settling)."""
    with store.read():
        return sum(1 for _ in store.all_events())


def test_the_shares_of_live_deciders_cover_every_bucket_once_and_move_little() -> None:
    three = {name: set(share(["a", "b", "c"], name)) for name in "abc"}
    assert sorted(b for part in three.values() for b in part) == list(range(BUCKETS))
    assert all(len(part) > BUCKETS // 6 for part in three.values())  # none starved
    four = {name: set(share(["a", "b", "c", "d"], name)) for name in "abcd"}
    moved = sum(len(three[name] - four[name]) for name in "abc")
    assert moved == len(four["d"])  # a newcomer takes buckets from the others, and nothing else moves
    assert share([], "solo") == list(range(BUCKETS))
