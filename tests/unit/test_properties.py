"""Properties of the fold over generated histories of a few clinic clients (bookings, reschedules,
cancellations with any notice, no-shows, visits): determinism, order independence, counters that
never go negative, and proposals that change nothing until a person approves them."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from tests.unit.conftest import CLINIC, Fold, book, fold, raw, review

from firmly.domain.clock import from_us, iso, parse_instant
from firmly.domain.engine import Decision

CLINIC_BOOK = book(CLINIC)
CLIENTS = ("c0", "c1", "c2")
START = parse_instant("2026-03-01T00:00:00+00:00")
MINUTE = 60 * 1_000_000
REVIEWED = frozenset({"suspend", "terminate"})  # the clinic ladder's steps with review: true

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# One visit: (hours since the client's previous event, hours from booking to start, what happened,
# hours of notice for a cancellation, hours the visit was moved by, or None).
visit = st.tuples(
    st.integers(1, 24 * 30),
    st.integers(1, 24 * 10),
    st.sampled_from(["attended", "no_show", "no_show", "cancel", "cancel", "provider_cancel"]),
    st.integers(0, 24 * 4),
    st.none() | st.integers(-24, 24 * 7),
)
client = st.tuples(st.sampled_from(["standard", "standard", "vip"]), st.lists(visit, max_size=12))
histories = st.tuples(*(client for _ in CLIENTS))


def at(minutes: int, client_index: int) -> str:
    """A time in whole minutes plus the client's index in seconds: no two events ever share an instant."""
    return iso(START + minutes * MINUTE + client_index * 1_000_000)


def build(history: tuple[tuple[str, list[tuple[int, int, str, int, int | None]]], ...]) -> list[dict[str, Any]]:
    """Envelopes of a consistent history: each visit is booked, maybe moved, then ends one way."""
    out: list[dict[str, Any]] = []
    for index, (tier, visits) in enumerate(history):
        cp = CLIENTS[index]
        t = 0
        if tier != "standard":
            out.append(raw(f"{cp}-upsert", "counterparty.upserted", cp, at(t, index), kind="client", tier=tier))
        for n, (gap_h, lead_h, outcome, notice_h, shift_h) in enumerate(visits):
            appointment = f"{cp}-a{n}"
            booked = t + gap_h * 60
            start = booked + lead_h * 60
            out.append(raw(f"{appointment}-book", "appointment.booked", cp, at(booked, index),
                           appointment=appointment, starts_at=at(start, index)))
            last = booked
            if shift_h is not None:
                last = booked + max(1, lead_h * 30)  # halfway to the start
                start = max(last + 30, start + shift_h * 60)
                out.append(raw(f"{appointment}-move", "appointment.rescheduled", cp, at(last, index),
                               appointment=appointment, starts_at=at(start, index), by="client"))
            if outcome == "attended":
                t = start + 5
                out.append(raw(f"{appointment}-came", "appointment.attended", cp, at(t, index),
                               appointment=appointment))
            elif outcome == "no_show":
                t = start + 30
                out.append(raw(f"{appointment}-noshow", "appointment.no_show", cp, at(t, index),
                               appointment=appointment))
            else:
                t = max(last + 1, start - notice_h * 60)
                extra = {"by": "provider"} if outcome == "provider_cancel" else {}
                out.append(raw(f"{appointment}-cancel", "appointment.cancelled", cp, at(t, index),
                               appointment=appointment, **extra))
    return out


def end_of(envelopes: list[dict[str, Any]]) -> str:
    last = max((parse_instant(e["occurred_at"]) for e in envelopes), default=START)
    return iso(last + 30 * 24 * 60 * MINUTE)


def finals(f: Fold) -> dict[str, tuple[Any, ...]]:
    return {d.id: d.key() for d in f.final.values()}


def views(f: Fold, now: str) -> dict[str, dict[str, Any]]:
    return {cp: f.show(cp, now) for cp in sorted(f.states)}


def check_counters(f: Fold, now: str) -> None:
    for cp, st_ in f.states.items():
        view = f.show(cp, now)
        for rule_id, rule in view["rules"].items():
            assert rule["strikes"] >= 0, (cp, rule_id, rule)
            assert rule["kept_streak"] >= 0, (cp, rule_id, rule)
            assert rule["broken"] >= 0 and rule["kept"] >= 0, (cp, rule_id, rule)
            assert rule["strikes"] <= rule["broken"], "a strike comes only from a breach"
        if st_.tier == "vip":
            assert view["rules"]["late_cancellation"]["strikes"] == 0, "vip is exempt from late cancellation"
        for rs in st_.rules.values():
            assert rs.streak >= 0 and rs.broken >= 0 and rs.kept >= 0


@PROPERTY
@given(histories)
def test_folding_the_same_events_twice_gives_the_same_decisions(history: Any) -> None:
    envelopes = build(history)
    until = end_of(envelopes)
    a, b = fold(CLINIC_BOOK, envelopes, until), fold(CLINIC_BOOK, envelopes, until)
    assert finals(a) == finals(b)
    assert list(finals(a)) == list(finals(b)), "and in the same order"
    assert views(a, until) == views(b, until)


@PROPERTY
@given(histories, st.randoms(use_true_random=False))
def test_any_arrival_order_gives_the_same_decisions(history: Any, rnd: random.Random) -> None:
    envelopes = build(history)
    until = end_of(envelopes)
    shuffled = list(envelopes)
    rnd.shuffle(shuffled)  # arrival numbers are given in the shuffled order
    a, b = fold(CLINIC_BOOK, envelopes, until), fold(CLINIC_BOOK, shuffled, until)
    assert finals(a) == finals(b)
    assert views(a, until) == views(b, until)


@PROPERTY
@given(histories, st.lists(st.floats(0, 1), min_size=1, max_size=40))
def test_advancing_the_clock_between_events_changes_nothing(history: Any, where: list[float]) -> None:
    envelopes = sorted(build(history), key=lambda e: parse_instant(e["occurred_at"]))
    until = end_of(envelopes)
    once = fold(CLINIC_BOOK, envelopes, until)
    live = fold(CLINIC_BOOK, [], None)
    clock = START
    for i, envelope in enumerate(envelopes):
        moment = parse_instant(envelope["occurred_at"])
        fraction = where[i % len(where)]
        tick = clock + int((moment - 1 - clock) * fraction)  # somewhere before the event
        live.feed([envelope], until=iso(tick) if clock < tick < moment else None)
        clock = max(clock, tick, moment)
    live.feed([], until=until)
    assert finals(live) == finals(once)
    assert views(live, until) == views(once, until)


@PROPERTY
@given(histories)
def test_counters_never_go_negative(history: Any) -> None:
    envelopes = build(history)
    until = end_of(envelopes)
    f = fold(CLINIC_BOOK, envelopes, until)
    for days in (0, 90, 200, 400):
        check_counters(f, iso(parse_instant(until) + days * 24 * 60 * MINUTE))


@PROPERTY
@given(histories)
def test_counters_never_go_negative_at_any_step(history: Any) -> None:
    envelopes = sorted(build(history), key=lambda e: parse_instant(e["occurred_at"]))
    live = fold(CLINIC_BOOK, [], None)
    for envelope in envelopes:
        live.feed([envelope], until=envelope["occurred_at"])
        check_counters(live, envelope["occurred_at"])


@PROPERTY
@given(histories)
def test_a_proposal_never_changes_the_status_before_it_is_approved(history: Any) -> None:
    envelopes = sorted(build(history), key=lambda e: parse_instant(e["occurred_at"]))
    live = fold(CLINIC_BOOK, [], None)
    for envelope in envelopes:
        live.feed([envelope], until=envelope["occurred_at"])
        for cp in live.states:
            assert live.status(cp) not in ("suspended", "terminated"), "only an approval suspends or ends"
    later = iso(parse_instant(end_of(envelopes)) + 400 * 24 * 60 * MINUTE)
    live.feed([], until=later)
    assert all(live.status(cp) not in ("suspended", "terminated") for cp in live.states)

    proposals: list[Decision] = [d for d in live.final.values() if d.status == "proposed"]
    assert all(d.action in REVIEWED for d in proposals), "only reviewed steps are proposed"
    event(f"open proposals: {min(len(proposals), 3)}{'+' if len(proposals) >= 3 else ''}")
    if not proposals:
        return
    # A person approves each open proposal; now, and only now, the status changes.
    clock = from_us(parse_instant(later))
    acts = [review(d, "approve", (clock + timedelta(minutes=i + 1)).isoformat()) for i, d in enumerate(proposals)]
    live.feed(acts, until=(clock + timedelta(hours=1)).isoformat())
    for d in proposals:
        assert live.final[d.id].status == "approved"
        assert live.status(d.counterparty) in ("suspended", "terminated")
