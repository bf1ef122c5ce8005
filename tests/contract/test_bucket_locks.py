"""Deciders and appends sharing a workspace on PostgreSQL (service/settle.py): a bucket taken by one transaction
is not another's until it ends; a writer of the whole workspace waits for them all; two appends of one new event
at once store it once, the second told it is a duplicate; the deciders find every workspace with events waiting."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Collection, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine

from firmly.adapters.sql.store import SqlStore, make_engine
from firmly.domain.buckets import bucket_of, share
from firmly.domain.clock import parse_instant
from firmly.service import ingest, rulebooks, settle, workspace
from tests.contract.test_group_commit import CLINIC
from tests.contract.test_store import event

NOW = parse_instant("2026-03-20T00:00:00+03:00")


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    found = make_engine(postgres_url)
    yield found
    found.dispose()


@contextmanager
def _small_chunks() -> Iterator[None]:
    """Chunks of 20 events: many transactions, so that the two deciders meet on partners' buckets."""
    before, settle.CHUNK = settle.CHUNK, 20
    try:
        yield
    finally:
        settle.CHUNK = before


def _workspace(engine: Engine) -> tuple[SqlStore, SqlStore]:
    """Two stores of one fresh workspace, as two processes would have."""
    name = f"locks-{uuid.uuid4().hex[:8]}"
    first = SqlStore(engine, name)
    workspace.init(first, "ru", "Europe/Moscow", 0)
    return first, SqlStore(engine, name)


def test_a_bucket_taken_is_not_anothers_until_the_transaction_ends(engine: Engine) -> None:
    a, b = _workspace(engine)
    with a.deciding():
        assert a.claim_buckets({1, 2, 3}) == {1, 2, 3}
        with b.deciding():
            assert b.claim_buckets({2, 3, 4}) == {4}
    with b.deciding():
        assert b.claim_buckets({2, 3, 4}) == {2, 3, 4}
        with a.deciding():
            assert a.claim_buckets({1, 2}) == {1}
    other = SqlStore(engine, f"{a.workspace}-other")  # the same bucket of another workspace is another's lock
    workspace.init(other, "ru", "Europe/Moscow", 0)
    with a.deciding():
        a.claim_buckets({5})
        with other.deciding():
            assert other.claim_buckets({5}) == {5}


def test_a_writer_of_the_whole_workspace_waits_for_the_deciders(engine: Engine) -> None:
    a, b = _workspace(engine)
    done = threading.Event()

    def write() -> None:
        with b.write():
            done.set()

    with a.deciding():
        a.claim_buckets({7})
        writer = threading.Thread(target=write)
        writer.start()
        time.sleep(0.5)
        assert not done.is_set()  # a read settling everything, a tick: not while a decider is at work
    writer.join(10)
    assert done.is_set()


def test_a_read_settles_beside_other_transactions_and_waits_only_for_the_buckets_they_hold(engine: Engine) -> None:
    a, b = _workspace(engine)
    names = [f"client-{n}" for n in range(40)]
    held = bucket_of(names[0])
    free = next(key for key in names if bucket_of(key) != held)
    with a.write():
        a.stage_events([event("e-held", "appointment.attended", names[0], "2026-03-01T10:00:00+03:00",
                              appointment="a1"),
                        event("e-free", "appointment.attended", free, "2026-03-01T11:00:00+03:00",
                              appointment="a2")], NOW)
    settled: list[int] = []
    watcher = SqlStore(engine, a.workspace)
    with a.deciding():  # another decider (or an append) at work, holding one bucket
        assert a.claim_buckets({held}) == {held}
        reader = threading.Thread(target=lambda: settled.append(settle.settle(b)))
        reader.start()
        time.sleep(0.5)
        with watcher.read():  # the free bucket's event is decided meanwhile; the held one's waits for its holder
            assert [ev.id for ev, _, _ in watcher.staged_events(10)] == ["e-held"]
        assert reader.is_alive() and not settled
    reader.join(10)
    assert settled == [2]
    with watcher.read():
        assert watcher.staged_events(10) == [] and len(list(watcher.all_events())) == 2


def _booking(key: str, name: str) -> list[ingest.Parsed]:
    return ingest.parsed(name, [{"id": name, "type": "appointment.booked", "counterparty": key,
                                 "occurred_at": "2026-03-19T10:00:00+03:00",
                                 "data": {"appointment": f"{name}-a", "starts_at": "2026-03-25T10:00:00+03:00"}}])


def test_a_synchronous_post_decides_beside_a_decider_and_waits_only_for_its_own_buckets(engine: Engine) -> None:
    a, b = _workspace(engine)
    rulebooks.load(a, rulebooks.read(CLINIC / "rulebook.yaml"), 0)
    names = [f"client-{n}" for n in range(40)]
    held = bucket_of(names[0])
    free = next(key for key in names if bucket_of(key) != held)
    reports: dict[str, ingest.IngestReport] = {}

    def post(key: str, name: str) -> None:
        reports[name] = ingest.ingest(SqlStore(engine, a.workspace), _booking(key, name), now=NOW)

    with a.deciding():  # a decider (or another post) at work, holding one bucket
        assert a.claim_buckets({held}) == {held}
        posts = [threading.Thread(target=post, args=(key, name)) for key, name in ((free, "free"), (names[0], "held"))]
        for thread in posts:
            thread.start()
        posts[0].join(10)
        assert not posts[0].is_alive() and reports["free"].stored == 1  # stored and decided meanwhile
        assert reports["free"].decisions == 2  # its two reminders
        time.sleep(0.3)
        assert posts[1].is_alive() and "held" not in reports  # stored; waits for the bucket to decide it
        with b.read():
            assert [ev.id for ev, _, _ in b.staged_events(10)] == ["held"]
    posts[1].join(10)
    assert reports["held"].stored == 1 and reports["held"].decisions == 2
    with b.read():
        assert b.staged_events(10) == [] and {ev.id for ev in b.all_events()} == {"free", "held"}


def test_a_synchronous_post_whose_events_a_decider_took_first_counts_the_decisions_they_made(engine: Engine) -> None:
    a, b = _workspace(engine)
    rulebooks.load(a, rulebooks.read(CLINIC / "rulebook.yaml"), 0)

    class Overtaken(SqlStore):
        """Another process decides the post's events just after they are stored, before the post claims them."""

        def claim_buckets(self, buckets: Collection[int], wait: bool = False) -> set[int]:
            if wait and not decided:
                thread = threading.Thread(target=lambda: decided.append(settle.share_out(b)))
                thread.start()
                thread.join(10)
            return super().claim_buckets(buckets, wait)

    decided: list[int] = []
    report = ingest.ingest(Overtaken(engine, a.workspace), _booking("anna", "bk-1"), now=NOW, detailed=True)
    assert decided == [1]
    assert (report.stored, report.decisions, report.results) == (1, 2, [{"id": "bk-1", "status": "stored"}])
    with b.read():
        assert [d["action"] for d in b.decisions()] == ["reminder", "reminder"]


def test_two_appends_of_one_new_event_at_once_store_it_once(engine: Engine) -> None:
    a, b = _workspace(engine)
    raw = [{"id": "twice", "type": "appointment.attended", "counterparty": "anna",
            "occurred_at": "2026-03-01T10:00:00+03:00", "data": {"appointment": "a1"}}]
    reports: list[ingest.IngestReport] = []
    with a.deciding():
        a.stage_events([event("twice", "appointment.attended", "anna", "2026-03-01T10:00:00+03:00",
                              appointment="a1")], NOW)
        # The other append checks before this one commits, and meets it at the unique index: it waits for it
        other = threading.Thread(target=lambda: reports.append(
            ingest.ingest(b, ingest.parsed("events", raw), now=NOW, later=True, detailed=True)))
        other.start()
        time.sleep(0.5)
    other.join(10)
    assert reports and (reports[0].stored, reports[0].duplicates) == (0, 1)
    assert reports[0].results == [{"id": "twice", "status": "duplicate"}]
    with b.read():
        assert len(b.staged_events(10)) == 1


def test_deciders_find_every_workspace_with_events_waiting_and_decide_them_in_parts(engine: Engine) -> None:
    a, _ = _workspace(engine)
    c, _ = _workspace(engine)
    for store in (a, c):
        raw = [{"id": f"v{n}", "type": "appointment.attended", "counterparty": f"client-{n}",
                "occurred_at": "2026-03-01T10:00:00+03:00", "data": {"appointment": f"a{n}"}} for n in range(30)]
        ingest.ingest(store, ingest.parsed("events", raw), now=NOW, later=True)
    lister = SqlStore(engine, "")
    with lister.read():
        assert {a.workspace, c.workspace} <= set(lister.waiting_workspaces())
    half = {n for n in range(256) if n % 2}
    assert settle.share_out(a, half) == sum(1 for n in range(30) if bucket_of(f"client-{n}") in half)
    with a.read():
        ws = a.workspace_info(count=True)
        assert ws is not None and 0 < ws.pending < 30  # the other half waits: no one's share, yet
    assert settle.share_out(a) + settle.share_out(c) == ws.pending + 30
    with lister.read():
        assert {a.workspace, c.workspace}.isdisjoint(lister.waiting_workspaces())


def test_two_deciders_at_once_decide_partner_bookings_as_one_process(engine: Engine) -> None:
    from tests.contract.test_bucket_properties import CLINIC, PARTNERS, WALL, _batches, _dump, _store  # noqa: PLC0415

    batches = _batches(7, 80)
    once = _store("once")
    for batch in batches:
        ingest.ingest(once, ingest.parsed("events", batch), now=WALL)
    shared, _ = _workspace(engine)
    for path in (CLINIC, PARTNERS):
        rulebooks.load(shared, rulebooks.read(path), 0)
    for batch in batches:
        ingest.ingest(shared, ingest.parsed("events", batch), now=WALL, later=True)
    failed: list[BaseException] = []
    done = {"a": 0, "b": 0}

    def decider(me: str) -> None:
        store = SqlStore(engine, shared.workspace)  # a process of its own: its own connections
        try:
            mine = share(["a", "b"], me)
            while n := settle.share_out(store, mine, 20) + settle.share_out(store, None, 20):
                done[me] += n
        except BaseException as exc:  # told below, in the test's own thread
            failed.append(exc)

    with _small_chunks():
        crew = [threading.Thread(target=decider, args=(name,)) for name in ("a", "b")]
        for t in crew:
            t.start()
        for t in crew:
            t.join(120)
    assert not failed, failed
    assert done["a"] and done["b"], done  # both were at work
    settle.share_out(shared)  # what either left because the other held a partner's bucket at that moment
    with shared.read():
        ws = shared.workspace_info(count=True)
        assert ws is not None and ws.pending == 0
    assert _dump(shared) == _dump(once)


def test_events_another_decider_decided_between_a_look_and_a_claim_are_not_decided_again(engine: Engine) -> None:
    a, b = _workspace(engine)
    raw = [{"id": f"r{n}", "type": "appointment.attended", "counterparty": f"client-{n % 5}",
            "occurred_at": "2026-03-01T10:00:00+03:00", "data": {"appointment": f"a{n}"}} for n in range(20)]
    ingest.ingest(a, ingest.parsed("events", raw), now=NOW, later=True)
    claim = a.claim_buckets

    def late_claim(buckets: Collection[int], wait: bool = False) -> set[int]:
        # Between this transaction's look at what waits and its claim, another decides it all and commits
        assert settle.share_out(b) == 20
        return claim(buckets, wait)

    a.claim_buckets = late_claim  # type: ignore[method-assign]
    with a.deciding():
        assert settle.decide_waiting(a, 100, shared=True) == 0  # read again once claimed: nothing left
    with a.read():
        assert len(list(a.all_events())) == 20
