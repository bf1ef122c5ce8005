"""Events acknowledged before they are decided (`stage_events`, `staged_events`, `admit_events`) and the
workspace's `decided` mark, the same on memory, SQLite and PostgreSQL; and `settle` over each of them."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from firmly.domain.buckets import bucket_of
from firmly.domain.clock import parse_instant
from firmly.domain.engine import CounterpartyState
from firmly.domain.errors import Backlog
from firmly.domain.tone import Tone
from firmly.service import clock, exceptions, ingest, rulebooks, settle
from tests.contract.conftest import Contracted, MakeStore
from tests.contract.test_group_commit import CLINIC
from tests.contract.test_store import event


def _info(store: Contracted) -> tuple[int, int, int]:
    with store.read():
        ws = store.workspace_info(count=True)
    assert ws is not None
    return ws.events, ws.decided, ws.pending


def test_staged_events_wait_in_arrival_order_apart_from_the_log(store: Contracted) -> None:
    first = event("s1", "appointment.booked", "anna", "2026-03-02T10:00:00+03:00", appointment="a1",
                  starts_at="2026-03-05T10:00:00+03:00", partner="clinic-1")
    first.tone = Tone("hostile", ("insult",), ("idiot",), (), "en")
    second = event("s2", "appointment.attended", "anna", "2026-03-01T10:00:00+03:00", appointment="a0")
    third = event("s3", "appointment.attended", "boris", "2026-03-01T11:00:00+03:00", appointment="b0")
    with store.write():
        store.stage_events([first, second], 1_000)
    with store.write():
        store.stage_events([third], 2_000)
    assert (first.seq, second.seq, third.seq) == (1, 2, 3)
    assert _info(store) == (4, 1, 3)
    with store.read():
        # counted as taken at once (a retry is a duplicate), and in no other read until admitted
        assert store.digests(["s1", "s3", "zz"]) == {"s1": first.digest, "s3": third.digest}
        assert list(store.all_events()) == [] and store.events_about(["anna"]) == []
        waiting = store.staged_events(10)
        assert [(ev.id, ev.seq, batch, arrived) for ev, batch, arrived in waiting] == [
            ("s1", 1, 1, 1_000), ("s2", 2, 1, 1_000), ("s3", 3, 3, 2_000)]
        assert waiting[0][0].data == first.data and waiting[0][0].tone == first.tone
        assert waiting[0][0].digest == first.digest and waiting[0][0].at == first.at
        assert (waiting[0][0].partner, waiting[1][0].partner) == ("clinic-1", None)
        assert waiting[0][0].occurred_at == first.occurred_at and waiting[0][0].type == first.type
        assert [ev.id for ev, _, _ in store.staged_events(2)] == ["s1", "s2"]


def test_waiting_among_tells_which_of_a_requests_arrival_numbers_still_wait(store: Contracted) -> None:
    evs = [event(f"m{n}", "appointment.attended", f"client-{n}", "2026-03-01T10:00:00+03:00", appointment=f"a{n}")
           for n in range(4)]
    with store.write():
        store.stage_events(evs[:1], 5)
    with store.write():
        store.stage_events(evs[1:], 6)
    with store.read():
        assert store.waiting_among([2, 3, 4]) == {2, 3, 4} and store.waiting_among([]) == set()
        assert store.waiting_among([1, 4, 9]) == {1, 4}  # 9 never arrived
    with store.write():
        store.admit_events([ev for ev, _, _ in store.staged_events(10) if ev.seq in (1, 3)])
    with store.read():
        assert store.waiting_among([1, 2, 3, 4]) == {2, 4}


def test_admitted_events_enter_the_log_with_their_seq_and_partner_and_move_the_mark(store: Contracted) -> None:
    evs = [event(f"e{n}", "appointment.attended", "anna", f"2026-03-0{n + 1}T10:00:00+03:00", appointment=f"a{n}")
           for n in range(3)]
    evs[0].tone = Tone("hostile", ("insult",), ("idiot",), (), "en")
    with store.write():
        store.stage_events(evs, 5)
    with store.read():
        staged = [ev for ev, _, _ in store.staged_events(2)]
    staged[1].partner = "clinic-9"  # named while deciding
    with store.write():
        store.admit_events(staged)
    assert _info(store) == (4, 3, 1)
    with store.read():
        logged = list(store.all_events())
        assert [(ev.id, ev.seq) for ev in logged] == [("e0", 1), ("e1", 2)]
        for ev, sent in zip(logged, evs, strict=False):  # as sent, but for the partner deciding named
            assert (ev.type, ev.counterparty, ev.occurred_at, ev.at, ev.data, ev.digest, ev.tone) == (
                sent.type, sent.counterparty, sent.occurred_at, sent.at, sent.data, sent.digest, sent.tone)
        assert [ev.partner for ev in logged] == [None, "clinic-9"]
        assert [ev.id for ev in store.events_about(["clinic-9"])] == ["e1"]
        assert [ev.id for ev, _, _ in store.staged_events(10)] == ["e2"]
        assert store.digests(["e0", "e2"]) == {"e0": evs[0].digest, "e2": evs[2].digest}


def test_admit_refuses_events_no_longer_waiting_and_append_refuses_to_overtake(store: Contracted) -> None:
    evs = [event(f"o{n}", "appointment.attended", "anna", "2026-03-01T10:00:00+03:00", appointment=f"a{n}")
           for n in range(2)]
    with store.write():
        store.stage_events(evs, 5)
    with store.read():
        staged = [ev for ev, _, _ in store.staged_events(10)]
    with store.write():
        store.admit_events(staged[1:])  # another bucket's event may be decided first: the mark stays at the first
    assert _info(store) == (3, 1, 1)
    with pytest.raises(RuntimeError), store.write():
        store.admit_events(staged)  # the second was decided already (by another decider): refused whole
    with pytest.raises(RuntimeError), store.write():
        store.append_events([event("late", "appointment.attended", "anna", "2026-03-01T10:00:00+03:00",
                                   appointment="z")])
    assert _info(store) == (3, 1, 1)  # both refused whole
    with store.write():
        store.admit_events(staged[:1])
        store.append_events([event("now", "appointment.attended", "anna", "2026-03-02T10:00:00+03:00",
                                   appointment="y")])
    assert _info(store) == (4, 4, 0)
    with store.read():
        assert [ev.id for ev in store.all_events()] == ["o0", "o1", "now"]  # by arrival, whoever decided first


def test_staged_events_of_some_buckets_only(store: Contracted) -> None:
    names = [f"client-{n}" for n in range(40)]
    evs = [event(f"b{n}", "appointment.attended", key, "2026-03-01T10:00:00+03:00", appointment=f"a{n}")
           for n, key in enumerate(names)]
    with store.write():
        store.stage_events(evs, 5)
    mine = {bucket_of(key) for key in names[::3]}
    with store.read():
        got = [ev.id for ev, _, _ in store.staged_events(100, mine)]
        assert got == [ev.id for ev in evs if bucket_of(ev.counterparty) in mine]
        assert [ev.id for ev, _, _ in store.staged_events(2, mine)] == got[:2]
        assert [ev.id for ev, _, _ in store.staged_events(100, set())] == []
        assert store.waiting_buckets(100, mine) == mine and store.waiting_buckets(100, set()) == set()
        assert store.waiting_buckets(100) == {bucket_of(key) for key in names}
        assert store.waiting_buckets(3) == {bucket_of(key) for key in names[:3]}
        first_two = [ev for ev in evs if bucket_of(ev.counterparty) in mine][:2]
        assert store.waiting_buckets(2, mine) == {bucket_of(ev.counterparty) for ev in first_two}
    with store.deciding():
        assert store.claim_buckets(mine) == mine  # nobody else holds them


NOW = parse_instant("2026-03-20T00:00:00+03:00")


def _visits(prefix: str, n: int) -> list[ingest.Parsed]:
    """`n` bookings of three clients, each cancelled 5 hours before the visit (the clinic asks 12)."""
    raw: list[dict[str, object]] = []
    for i in range(n):
        day = 1 + i % 9
        raw.append({"id": f"{prefix}-{i}", "type": "appointment.booked", "counterparty": f"c{i % 3}",
                    "occurred_at": f"2026-03-{day:02d}T09:00:00+03:00",
                    "data": {"appointment": f"{prefix}-a{i}", "starts_at": f"2026-03-{day + 2:02d}T15:00:00+03:00"}})
        raw.append({"id": f"{prefix}-{i}-x", "type": "appointment.cancelled", "counterparty": f"c{i % 3}",
                    "occurred_at": f"2026-03-{day + 2:02d}T10:00:00+03:00", "data": {"appointment": f"{prefix}-a{i}"}})
    return ingest.parsed(prefix, raw)


def test_settle_decides_what_waits_as_deciding_at_once_would(make_store: MakeStore,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    now, later = make_store("now"), make_store("later")
    for store in (now, later):
        rulebooks.load(store, rulebooks.read(CLINIC / "rulebook.yaml"), 0)
    for part in range(3):  # each part's visits overlap the part before: some arrive late, and refold
        ingest.ingest(now, _visits(f"p{part}", 7), now=NOW)
        acknowledged = ingest.ingest(later, _visits(f"p{part}", 7), now=NOW, later=True, detailed=True)
        assert (acknowledged.stored, acknowledged.decisions, acknowledged.through) == (14, 0, 14 * (part + 1))
    assert _info(later) == (43, 1, 42)
    with later.read():
        assert later.decisions() == [] and later.counterparties() == []  # nothing decided yet
    monkeypatch.setattr(settle, "CHUNK", 20)
    assert settle.settle(later, budget=1) == 14  # a transaction, whole batches: one is cut only past a chunk
    assert _info(later) == (43, 15, 28)
    assert settle.settle(later) == 28
    assert _info(later) == (43, 43, 0)
    assert settle.settle(later) == 0
    with now.read(), later.read():
        decided = now.decisions()
        assert {d["action"] for d in decided} >= {"feedback", "warning"}
        assert later.decisions() == decided
        assert later.counterparties() == now.counterparties()
        assert later.load_states(["c0", "c1", "c2"]) == now.load_states(["c0", "c1", "c2"])
        assert [p for k in ("c0", "c1", "c2") for p in later.postings(k)] == \
            [p for k in ("c0", "c1", "c2") for p in now.postings(k)]
        assert [(r.decision, r.subject, r.body) for r in later.outbox()] == \
            [(r.decision, r.subject, r.body) for r in now.outbox()]
        assert [(e.id, e.seq) for e in later.all_events()] == [(e.id, e.seq) for e in now.all_events()]


def test_a_request_past_the_backlog_is_refused_whole(store: Contracted) -> None:
    assert ingest.ingest(store, _visits("b", 4), now=NOW, later=True, backlog=5).stored == 8  # none waited
    with pytest.raises(Backlog) as refused:
        ingest.ingest(store, _visits("c", 1), now=NOW, later=True, backlog=5)
    assert refused.value.retry_after >= 1
    assert _info(store) == (9, 1, 8)  # nothing of it stored
    with store.read():
        assert store.digests(["c-0", "c-0-x"]) == {}
    settle.settle(store)
    assert ingest.ingest(store, _visits("c", 1), now=NOW, later=True, backlog=5).stored == 2


def test_an_ingest_that_decides_at_once_decides_what_waits_first(store: Contracted) -> None:
    ingest.ingest(store, _visits("w", 2), now=NOW, later=True)
    report = ingest.ingest(store, _visits("x", 1), now=NOW)
    assert report.stored == 2 and report.through == 6
    with store.read():
        decided = {ev.id: ev.seq for ev in store.all_events()}
    # what waited about the same counterparty (c0) is decided before its events
    assert {k: decided[k] for k in ("w-0", "w-0-x", "x-0", "x-0-x")} == {"w-0": 1, "w-0-x": 2, "x-0": 5, "x-0-x": 6}
    if store.parallel_workspaces:  # it decides in its own buckets only: c1's events wait for a decider or a read
        assert bucket_of("c1") != bucket_of("c0")
        assert _info(store) == (7, 3, 2) and set(decided) == {"w-0", "w-0-x", "x-0", "x-0-x"}
        settle.settle(store)
    assert _info(store) == (7, 7, 0)
    with store.read():
        assert {ev.id: ev.seq for ev in store.all_events()} == {"w-0": 1, "w-0-x": 2, "w-1": 3, "w-1-x": 4,
                                                                "x-0": 5, "x-0-x": 6}


def test_an_ingest_alone_decides_everything_that_waits_first(store: Contracted) -> None:
    ingest.ingest(store, _visits("w", 2), now=NOW, later=True)
    report = ingest.ingest(store, _visits("x", 1), now=NOW, alone=True)  # as `firmly ingest` does
    assert (report.stored, report.through) == (2, 6)
    assert _info(store) == (7, 7, 0)
    with store.read():
        assert {ev.id: ev.seq for ev in store.all_events()} == {"w-0": 1, "w-0-x": 2, "w-1": 3, "w-1-x": 4,
                                                                "x-0": 5, "x-0-x": 6}


def test_past_half_the_backlog_a_post_first_decides_what_waits(store: Contracted) -> None:
    ingest.ingest(store, _visits("h", 3), now=NOW, later=True, backlog=10)  # 6 wait: over half of 10
    report = ingest.ingest(store, _visits("i", 1), now=NOW, later=True, backlog=10, detailed=True)
    assert report.stored == 2
    assert _info(store) == (9, 7, 2)  # the 6 decided first, in the post's transaction; its own 2 wait
    with store.read():
        assert [ev.id for ev, _, _ in store.staged_events(10)] == ["i-0", "i-0-x"]


def test_a_tick_and_a_persons_act_come_after_what_was_acknowledged(store: Contracted) -> None:
    rulebooks.load(store, rulebooks.read(CLINIC / "rulebook.yaml"), 0)
    ingest.ingest(store, _visits("t", 3), now=NOW, later=True)
    clock.tick(store, NOW, now=NOW)
    assert _info(store)[2] == 0
    with store.read():
        assert "feedback" in {d["action"] for d in store.decisions()}
    ingest.ingest(store, _visits("u", 1), now=NOW, later=True)
    exceptions.set_exception(store, "c0", "late_change", "2100-01-01T00:00:00+00:00", "a family matter", "desk")
    assert _info(store)[2] == 0
    with store.read():
        seqs = {ev.id: ev.seq for ev in store.all_events()}
        made = [ev for ev in store.events_of_type("exception.set")]
    assert len(made) == 1 and made[0].seq > seqs["u-0-x"] > seqs["u-0"]  # stored after what was acknowledged


def test_waiting_workspaces_are_those_with_events_to_decide(make_store: MakeStore) -> None:
    busy, idle = make_store("busy"), make_store("idle")
    for one in (busy, idle):
        rulebooks.load(one, rulebooks.read(CLINIC / "rulebook.yaml"), 0)
    with busy.write():
        busy.stage_events([event("w1", "appointment.attended", "anna", "2026-03-01T10:00:00+03:00",
                                 appointment="a1")], 1_000)
    with idle.write():
        idle.append_events([event("w2", "appointment.attended", "anna", "2026-03-01T10:00:00+03:00",
                                  appointment="a2")])
    for asking in (busy, idle):  # from any workspace's store: it lists across them
        with asking.read():
            found = asking.waiting_workspaces()
        assert busy.workspace in found and idle.workspace not in found
    assert settle.settle(busy) == 1
    with idle.read():
        assert busy.workspace not in idle.waiting_workspaces()


def test_a_chunk_whose_limit_falls_between_two_batches_decides_both(store: Contracted,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    rulebooks.load(store, rulebooks.read(CLINIC / "rulebook.yaml"), 0)
    for part in range(3):
        ingest.ingest(store, _visits(f"q{part}", 5), now=NOW, later=True)  # three batches of 10
    monkeypatch.setattr(settle, "CHUNK", 20)
    assert settle.share_out(store, None, budget=1) == 20  # one transaction: both whole batches, not only the first
    assert _info(store) == (31, 21, 10)
    monkeypatch.setattr(settle, "CHUNK", 15)
    assert settle.share_out(store, None, budget=1) == 10  # past the limit, the last batch is whole or waits


def test_a_decider_reads_each_clients_state_once_a_transaction(store: Contracted,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    rulebooks.load(store, rulebooks.read(CLINIC / "rulebook.yaml"), 0)
    ingest.ingest(store, _visits("r", 6), now=NOW)  # the clients have states, with bookings
    ingest.ingest(store, _visits("s", 6), now=NOW, later=True)
    read: list[str] = []
    loads = store.load_states

    def counted(keys: Iterable[str]) -> dict[str, CounterpartyState]:
        wanted = list(keys)
        read.extend(wanted)
        return loads(wanted)

    monkeypatch.setattr(store, "load_states", counted)
    assert settle.share_out(store, None, budget=1) == 12
    assert sorted(read) == ["c0", "c1", "c2"]  # to find their partners, then to decide: once
