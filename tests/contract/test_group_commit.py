"""Group commit: concurrent ingest requests stored as one transaction, each answered as if stored alone.

The writer is made busy on purpose (a request whose transaction waits on an Event) so that what is submitted
meanwhile is queued and taken as one group, deterministically. Each grouped request's report is compared with
the report the same request gets from `ingest.ingest` alone, in a workspace of its own in the same database
(memory, SQLite and PostgreSQL).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import CancelledError, Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import pytest

from firmly.adapters.memory import MemoryStore
from firmly.domain.events import Event, validate
from firmly.domain.ports import Store
from firmly.service import ingest, queries, rulebooks, workspace
from firmly.service.group_commit import GroupCommit, split
from firmly.service.ingest import IngestReport, Parsed, Rejection
from tests.contract.conftest import MakeStore

CLINIC = Path(__file__).resolve().parents[2] / "src" / "firmly" / "examples" / "clinic-en"
WAIT = 10.0  # seconds: generous, a passing test never waits for it

Envelope = dict[str, Any]


# -- events ------------------------------------------------------------------------------------------
def upsert(key: str, name: str | None = None, at: str = "2026-07-01T08:00:00+01:00") -> Envelope:
    return {"id": f"{key}-cp", "type": "counterparty.upserted", "counterparty": key, "occurred_at": at,
            "data": {"kind": "client", "name": name or f"Client {key}", "locale": "en"}}


def no_show(key: str, n: int, at: str) -> Envelope:
    """A missed visit: the clinic's `no_show` rule answers the first with feedback."""
    return {"id": f"{key}-ns{n}", "type": "appointment.no_show", "counterparty": key, "occurred_at": at,
            "data": {"appointment": f"{key}-{n}"}}


def late_cancel(key: str, day: int) -> list[Envelope]:
    """A booking (it schedules reminders) cancelled 5 hours before the visit (the rule asks 12)."""
    return [{"id": f"{key}-b{day}", "type": "appointment.booked", "counterparty": key,
             "occurred_at": f"2026-07-{day:02d}T09:00:00+01:00",
             "data": {"appointment": f"{key}-{day}", "starts_at": f"2026-07-{day + 3:02d}T10:00:00+01:00"}},
            {"id": f"{key}-c{day}", "type": "appointment.cancelled", "counterparty": key,
             "occurred_at": f"2026-07-{day + 3:02d}T05:00:00+01:00", "data": {"appointment": f"{key}-{day}"}}]


def bad_rating(event_id: str, key: str) -> Envelope:
    return {"id": event_id, "type": "review.received", "counterparty": key,
            "occurred_at": "2026-07-01T10:00:00+01:00", "data": {"rating": 9}}


def parsed(envelopes: Sequence[Envelope], where: str = "body") -> list[Parsed]:
    """What POST /v1/events hands the writer: each item validated, or its Rejection, with its position."""
    return ingest.parsed(where, [dict(envelope) for envelope in envelopes])


def clinic(store: Store) -> Store:
    rulebooks.load(store, rulebooks.read(CLINIC / "rulebook.yaml"), 0)
    return store


# -- stores that let a test steer the writer -------------------------------------------------------------
class Held:
    """`inner`, but its write transaction starts only once `release` is set: the writer is busy until then."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.entered = threading.Event()
        self.release = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @contextmanager
    def write(self) -> Iterator[None]:
        self.entered.set()
        assert self.release.wait(WAIT), "the test never released the writer"
        with self.inner.write():
            yield

    @contextmanager
    def deciding(self) -> Iterator[None]:  # where a post shares the workspace (PostgreSQL)
        self.entered.set()
        assert self.release.wait(WAIT), "the test never released the writer"
        with self.inner.deciding():
            yield


class Faulty:
    """`inner`, but storing an event whose id starts with `marker` raises (inside the transaction)."""

    def __init__(self, inner: Store, marker: str) -> None:
        self.inner = inner
        self.marker = marker

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def append_events(self, events: list[Event]) -> None:
        self._check(events)
        self.inner.append_events(events)

    def stage_events(self, events: list[Event], arrived: int) -> None:  # where a post shares the workspace
        self._check(events)
        self.inner.stage_events(events, arrived)

    def _check(self, events: list[Event]) -> None:
        bad = [ev.id for ev in events if ev.id.startswith(self.marker)]
        if bad:
            raise RuntimeError(f"refused {bad}")


@contextmanager
def busy(writer: GroupCommit, store: Store) -> Iterator[Future[IngestReport]]:
    """The writer inside a transaction of its own (one invalid item, so it stores nothing) until the block
    ends: requests submitted inside the block are all queued when it is taken up again."""
    gate = Held(store)
    held = writer.submit(cast(Store, gate), parsed([{"type": "holds the writer"}], "held"))
    assert gate.entered.wait(WAIT), "the writer never took the first request"
    try:
        yield held
    finally:
        gate.release.set()
    assert held.result(WAIT).stored == 0


@pytest.fixture
def writer() -> Iterator[GroupCommit]:
    gc = GroupCommit()
    yield gc
    gc.close()


def submit_all(writer: GroupCommit, store: Store, requests: Sequence[Sequence[Envelope]]) -> list[IngestReport]:
    """The requests queued together behind a busy writer (so they are one group), then their reports."""
    with busy(writer, store):
        futures = [writer.submit(store, parsed(r)) for r in requests]
    return [f.result(WAIT) for f in futures]


def one_by_one(store: Store, requests: Sequence[Sequence[Envelope]]) -> list[IngestReport]:
    """The same requests stored alone, one transaction each, as without group commit."""
    return [ingest.ingest(store, parsed(r), detailed=True) for r in requests]


def seen(report: IngestReport) -> tuple[Any, ...]:
    """Everything a request's caller reads from its report (the API answers with the counts and results)."""
    return (report.stored, report.duplicates, report.decisions,
            [(r.where, r.line, r.event, r.field, r.message) for r in report.rejected], report.results)


def ids(requests: Sequence[Sequence[Envelope]]) -> list[str]:
    return [str(e["id"]) for r in requests for e in r if "id" in e]


def jsonl(path: Path) -> list[Envelope]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def stored_ids(store: Store, wanted: list[str]) -> set[str]:
    with store.read():
        return set(store.digests(wanted))


# -- grouping ----------------------------------------------------------------------------------------
def test_requests_queued_behind_a_busy_writer_are_one_group_and_each_gets_its_own_report(
        make_store: MakeStore, writer: GroupCommit) -> None:
    store, alone = clinic(make_store("grouped")), clinic(make_store("alone"))
    requests: list[list[Envelope]] = [
        [upsert("ada"), no_show("ada", 1, "2026-07-02T10:00:00+01:00")],
        [*late_cancel("bob", 3), upsert("bob")],  # input order is not time order
        [],  # an empty list is a request too
        [bad_rating("cy-r", "cy"), upsert("cy"), {"type": "appointment.no_show", "counterparty": "cy"}],
        [no_show("dee", 2, "2026-07-06T10:00:00+01:00"), no_show("dee", 1, "2026-07-05T10:00:00+01:00")],
        [upsert("eve", at="2026-06-01T08:00:00+01:00")],
    ]
    reports = submit_all(writer, store, requests)
    assert writer.groups == 2, "the busy writer's own transaction, then one for all six requests"
    expected = one_by_one(alone, requests)
    for n, (got, want) in enumerate(zip(reports, expected, strict=True)):
        assert seen(got) == seen(want), f"request {n}"
        assert [r["id"] for r in got.results or []] == [e.get("id") for e in requests[n]], "own items, in order"
    # not vacuous: the requests differ in what they hold and cause
    assert [(r.stored, r.duplicates, len(r.rejected)) for r in reports] == [
        (2, 0, 0), (3, 0, 0), (0, 0, 0), (1, 0, 2), (2, 0, 0), (1, 0, 0)]
    assert reports[1].decisions > reports[0].decisions > 0
    assert reports[2].decisions == reports[3].decisions == reports[5].decisions == 0
    assert stored_ids(store, ids(requests)) == set(ids(requests)) - {"cy-r"}
    assert queries.decisions(store) == queries.decisions(alone)


def test_a_group_holds_at_most_max_events(make_store: MakeStore) -> None:
    store = clinic(make_store("capped"))
    writer = GroupCommit(max_events=3)
    try:
        reports = submit_all(writer, store, [[upsert(f"cap{n}")] for n in range(5)])
    finally:
        writer.close()
    assert writer.groups == 3, "the busy writer's own, then 3 requests, then the other 2"
    assert [r.stored for r in reports] == [1] * 5


def test_requests_for_two_workspaces_are_stored_apart(make_store: MakeStore, writer: GroupCommit) -> None:
    one, two = clinic(make_store("one")), clinic(make_store("two"))
    same = no_show("sam", 1, "2026-07-02T10:00:00+01:00")
    with busy(writer, one):
        futures = [writer.submit(one, parsed([same])), writer.submit(two, parsed([same, upsert("tia")])),
                   writer.submit(one, parsed([upsert("uma")]))]
    first, second, third = (f.result(WAIT) for f in futures)
    assert writer.groups == 3, "the busy writer's own, then one transaction per workspace"
    assert (first.results, first.decisions) == ([{"id": "sam-ns1", "status": "stored"}], 1)
    assert second.results == [{"id": "sam-ns1", "status": "stored"}, {"id": "tia-cp", "status": "stored"}]
    assert second.decisions == 1, "the same id in another workspace is another event"
    assert third.results == [{"id": "uma-cp", "status": "stored"}]
    assert stored_ids(one, ["sam-ns1", "tia-cp", "uma-cp"]) == {"sam-ns1", "uma-cp"}
    assert stored_ids(two, ["sam-ns1", "tia-cp", "uma-cp"]) == {"sam-ns1", "tia-cp"}


# -- slices: a large request shares the writer -----------------------------------------------------------------
def test_a_request_larger_than_a_transaction_is_stored_in_slices_and_answered_as_if_alone(
        make_store: MakeStore) -> None:
    store, alone = clinic(make_store("sliced")), clinic(make_store("sliced-alone"))
    missed = no_show("pia", 1, "2026-07-02T10:00:00+01:00")
    request = [upsert("pia"), missed, bad_rating("pia-r", "pia"), *late_cancel("pia", 4), missed,
               upsert("pia", "Not Pia"), no_show("pia", 2, "2026-07-20T10:00:00+01:00")]
    writer = GroupCommit(max_events=3)
    try:
        report = writer.submit(store, parsed(request)).result(WAIT)
    finally:
        writer.close()
    assert writer.groups == 3, "8 items, at most 3 a transaction"
    assert seen(report) == seen(ingest.ingest(alone, parsed(request), detailed=True))
    # not vacuous: a retry and a conflict in later slices than the events they repeat, a rejection kept in its place
    assert [r["status"] for r in report.results or []] == [
        "stored", "stored", "rejected", "stored", "stored", "duplicate", "rejected", "stored"]
    assert [(r.line, r.field) for r in report.rejected] == [(2, "data.rating"), (6, "id")]
    assert report.decisions > 0
    assert queries.decisions(store) == queries.decisions(alone)


def test_another_workspaces_event_is_stored_between_the_slices_of_a_large_request(
        make_store: MakeStore) -> None:
    big, small = clinic(make_store("big")), clinic(make_store("small"))
    large = [upsert(f"rex{n}") for n in range(6)]
    writer = GroupCommit(max_events=2)
    finished: list[str] = []
    stored_when_small_finished: list[set[str]] = []
    own_writers = getattr(big, "dialect", None) == "postgresql"  # a writer per workspace

    def small_finished(_: Future[IngestReport]) -> None:
        finished.append("small")
        if not own_writers:  # in the one writer's thread, between transactions (a store is used by one thread)
            stored_when_small_finished.append(stored_ids(big, ids([large])))

    try:
        with busy(writer, big):
            first = writer.submit(big, parsed(large))
            second = writer.submit(small, parsed([upsert("sue")]))  # queued after the whole large request
            first.add_done_callback(lambda _: finished.append("large"))
            second.add_done_callback(small_finished)
            if own_writers:  # the other workspace's event is stored while this workspace's writer is still busy
                assert second.result(WAIT).stored == 1 and not first.done()
        assert first.result(WAIT).stored == 6 and second.result(WAIT).stored == 1
    finally:
        writer.close()
    assert finished == ["small", "large"], "the single event did not wait for the whole large request"
    if not own_writers:  # one writer for both: it was stored right after the first slice
        assert stored_when_small_finished == [{"rex0-cp", "rex1-cp"}]
    assert writer.groups == 1 + 3 + 1, "the busy writer's own, three slices, the other workspace's"
    assert [r["id"] for r in first.result().results or []] == ids([large])


def test_a_failing_slice_fails_its_request_and_sending_it_again_completes_it(make_store: MakeStore) -> None:
    store = clinic(make_store("slice-fails"))
    request = [upsert("tom"), no_show("tom", 1, "2026-07-02T10:00:00+01:00"), upsert("una"),
               {**upsert("vera"), "id": "boom-vera"}, upsert("wim"), upsert("xan")]
    writer = GroupCommit(max_events=2)
    try:
        failed = writer.submit(cast(Store, Faulty(store, "boom")), parsed(request))
        with pytest.raises(RuntimeError, match="boom-vera"):
            failed.result(WAIT)
        assert writer.groups == 1, "the first slice was stored; the failing one and those after it were not"
        assert stored_ids(store, ids([request])) == {"tom-cp", "tom-ns1"}
        again = writer.submit(store, parsed(request)).result(WAIT)
    finally:
        writer.close()
    assert [r["status"] for r in again.results or []] == ["duplicate", "duplicate"] + ["stored"] * 4
    assert stored_ids(store, ids([request])) == set(ids([request]))


# -- one event id in two requests of a group ----------------------------------------------------------------
def test_an_event_sent_by_two_requests_of_a_group_is_stored_once(make_store: MakeStore,
                                                                  writer: GroupCommit) -> None:
    store, alone = clinic(make_store("twice")), clinic(make_store("twice-alone"))
    missed = no_show("vic", 1, "2026-07-02T10:00:00+01:00")
    requests = [[upsert("vic"), missed], [upsert("vic")], [missed], [upsert("vic", "Someone Else")],
                [missed, upsert("wes")]]
    reports = submit_all(writer, store, requests)
    assert writer.groups == 2
    assert reports[0].results == [{"id": "vic-cp", "status": "stored"}, {"id": "vic-ns1", "status": "stored"}]
    assert (reports[0].stored, reports[0].decisions) == (2, 1), "the first sender's event caused the feedback"
    assert reports[1].results == [{"id": "vic-cp", "status": "duplicate"}]
    assert reports[2].results == [{"id": "vic-ns1", "status": "duplicate"}]
    for retry in reports[1:3]:
        assert (retry.stored, retry.duplicates, retry.decisions, retry.rejected) == (0, 1, 0, [])
    conflict = reports[3]
    assert (conflict.stored, conflict.duplicates, conflict.decisions) == (0, 0, 0)
    assert [(r["id"], r["status"], r["code"], r["field"]) for r in conflict.results or []] == [
        ("vic-cp", "rejected", "conflict", "id")]
    assert [(r.event, r.field) for r in conflict.rejected] == [("vic-cp", "id")]
    assert [r["status"] for r in reports[4].results or []] == ["duplicate", "stored"]
    assert [seen(r) for r in reports] == [seen(r) for r in one_by_one(alone, requests)]
    assert queries.counterparty(store, "vic")["name"] == "Client vic", "the conflicting content was not stored"


def test_an_invalid_event_in_one_request_leaves_the_others_alone(make_store: MakeStore,
                                                                 writer: GroupCommit) -> None:
    store = clinic(make_store("invalid"))
    clean = [upsert("xia"), no_show("xia", 1, "2026-07-02T10:00:00+01:00")]
    mixed = [upsert("yan"), bad_rating("yan-r", "yan"), no_show("yan", 1, "2026-07-03T10:00:00+01:00"),
             {"type": "appointment.no_show", "counterparty": "yan", "occurred_at": "2026-07-03T10:00:00+01:00",
              "data": {"appointment": "y2"}}]
    first, second, third = submit_all(writer, store, [clean, mixed, clean[1:]])
    assert (first.stored, first.duplicates, first.decisions, first.rejected) == (2, 0, 1, [])
    assert first.results == [{"id": "xia-cp", "status": "stored"}, {"id": "xia-ns1", "status": "stored"}]
    assert (second.stored, second.duplicates, second.decisions) == (2, 0, 1)
    assert [(r["id"], r["status"], r.get("code"), r.get("field")) for r in second.results or []] == [
        ("yan-cp", "stored", None, None), ("yan-r", "rejected", "invalid", "data.rating"),
        ("yan-ns1", "stored", None, None), (None, "rejected", "invalid", "id")]
    assert [(r.line, r.event, r.field) for r in second.rejected] == [(1, "yan-r", "data.rating"), (3, None, "id")]
    assert (third.stored, third.duplicates, third.rejected) == (0, 1, [])
    assert stored_ids(store, ["xia-cp", "xia-ns1", "yan-cp", "yan-r", "yan-ns1"]) == {
        "xia-cp", "xia-ns1", "yan-cp", "yan-ns1"}


# -- decisions -------------------------------------------------------------------------------------
def test_each_request_gets_the_decisions_its_events_caused_and_together_they_are_one_calls(
        make_store: MakeStore, writer: GroupCommit) -> None:
    store, together = clinic(make_store("decided")), clinic(make_store("one-call"))
    requests = [late_cancel("zak", 2), [upsert("zak"), upsert("quiet")], late_cancel("amy", 4) + late_cancel("amy", 9),
                [no_show("zak", 1, "2026-07-20T10:00:00+01:00")], [no_show("ben", 1, "2026-07-21T10:00:00+01:00")]]
    reports = submit_all(writer, store, requests)
    whole = ingest.ingest(together, parsed([e for r in requests for e in r]), detailed=True)
    assert sum(r.decisions for r in reports) == whole.decisions > 0
    assert queries.decisions(store) == queries.decisions(together)
    # each request is credited with the decisions made about its own events, and only those
    by_event = Counter(str(d["event"]) for d in queries.decisions(store))
    assert sum(by_event.values()) == whole.decisions, "no decision here was rewritten: one row each"
    for n, (request, report) in enumerate(zip(requests, reports, strict=True)):
        assert report.decisions == sum(by_event[e["id"]] for e in request), f"request {n}"
    assert [r.decisions > 0 for r in reports] == [True, False, True, True, True]


# -- failures -------------------------------------------------------------------------------------
def test_a_request_that_makes_the_group_fail_fails_alone(make_store: MakeStore, writer: GroupCommit) -> None:
    store, alone = clinic(make_store("faulty")), clinic(make_store("faulty-alone"))
    faulty = cast(Store, Faulty(store, "boom"))
    good = [[upsert("cat"), no_show("cat", 1, "2026-07-02T10:00:00+01:00")], [upsert("dan")]]
    bad = [upsert("eli"), {**no_show("eli", 1, "2026-07-02T10:00:00+01:00"), "id": "boom-1"}]
    with busy(writer, store):
        futures = [writer.submit(faulty, parsed(good[0])), writer.submit(faulty, parsed(bad)),
                   writer.submit(faulty, parsed(good[1]))]
    first, second = futures[0].result(WAIT), futures[2].result(WAIT)
    with pytest.raises(RuntimeError, match="boom-1"):
        futures[1].result(WAIT)
    assert [seen(first), seen(second)] == [seen(r) for r in one_by_one(alone, good)]
    assert writer.groups == 3, "the busy writer's own, then the two good requests alone (the group rolled back)"
    assert stored_ids(store, ["cat-cp", "cat-ns1", "dan-cp", "eli-cp", "boom-1"]) == {"cat-cp", "cat-ns1", "dan-cp"}
    # the writer goes on, and the failed request's events can be sent again once the fault is gone
    assert writer.submit(store, parsed(bad)).result(WAIT).stored == 2


def test_a_failing_request_alone_gets_its_own_exception(make_store: MakeStore, writer: GroupCommit) -> None:
    store = clinic(make_store("faulty-one"))
    failed = writer.submit(cast(Store, Faulty(store, "boom")), parsed([upsert("boom")]))
    with pytest.raises(RuntimeError, match="boom-cp"):
        failed.result(WAIT)
    assert writer.groups == 0
    assert writer.submit(store, parsed([upsert("fay")])).result(WAIT).stored == 1


def test_a_request_cancelled_while_queued_is_not_stored(make_store: MakeStore, writer: GroupCommit) -> None:
    store = clinic(make_store("cancelled"))
    with busy(writer, store):
        futures = [writer.submit(store, parsed([upsert(key)])) for key in ("gil", "hal", "ivy")]
        assert futures[1].cancel()
    with pytest.raises(CancelledError):
        futures[1].result(WAIT)
    assert [futures[0].result(WAIT).results, futures[2].result(WAIT).results] == [
        [{"id": "gil-cp", "status": "stored"}], [{"id": "ivy-cp", "status": "stored"}]]
    assert stored_ids(store, ["gil-cp", "hal-cp", "ivy-cp"]) == {"gil-cp", "ivy-cp"}


# -- close -----------------------------------------------------------------------------------------
def test_close_stores_what_was_queued_before_it_returns(make_store: MakeStore) -> None:
    store = clinic(make_store("closing"))
    writer = GroupCommit()
    gate = Held(store)
    held = writer.submit(cast(Store, gate), parsed([{"type": "holds the writer"}], "held"))
    assert gate.entered.wait(WAIT)
    futures = [writer.submit(store, parsed([upsert(f"jo{n}")])) for n in range(4)]
    # the writer is still busy when close() queues its stop behind the four requests
    releaser = threading.Timer(0.2, gate.release.set)
    releaser.start()
    writer.close()
    # checked before anything else waits: whatever is done now was done by the time close() returned
    assert held.done()
    assert all(f.done() for f in futures), "close() returned before the queued requests were stored"
    releaser.join()
    assert [f.result().stored for f in futures] == [1, 1, 1, 1]
    assert writer.groups == 2
    assert stored_ids(store, [f"jo{n}-cp" for n in range(4)]) == {f"jo{n}-cp" for n in range(4)}
    # a closed writer starts again with the next request
    assert writer.submit(store, parsed([upsert("kay")])).result(WAIT).stored == 1
    writer.close()


# -- split on its own ----------------------------------------------------------------------------------
def test_split_gives_each_request_its_slice_counts_and_decisions() -> None:
    first = parsed([no_show("lee", 1, "2026-07-02T10:00:00+01:00"), bad_rating("lee-r", "lee"),
                    upsert("lee")])
    second = parsed([no_show("lee", 1, "2026-07-02T10:00:00+01:00"), upsert("mo", at="2026-07-09T08:00:00+01:00"),
                     upsert("lee", "Not Lee")])
    third = parsed([{"type": "appointment.no_show"}])
    invalid_rating, invalid_type = first[1][2], third[0][2]
    assert isinstance(invalid_rating, Rejection) and isinstance(invalid_type, Rejection)
    conflict = "lee-cp is already stored with other content"
    results: list[dict[str, Any]] = [
        {"id": "lee-ns1", "status": "stored"},
        {"id": "lee-r", "status": "rejected", "code": "invalid", "field": "data.rating",
         "reason": invalid_rating.message},
        {"id": "lee-cp", "status": "stored"},
        {"id": "lee-ns1", "status": "duplicate"},
        {"id": "mo-cp", "status": "stored"},
        {"id": "lee-cp", "status": "rejected", "code": "conflict", "field": "id", "reason": conflict},
        {"id": None, "status": "rejected", "code": "invalid", "field": "type", "reason": invalid_type.message}]
    # 2 decisions about lee-ns1, 1 about mo-cp, and 4 about an event outside the group (a refold)
    report = IngestReport(stored=3, duplicates=1, decisions=7, results=results,
                          caused=Counter({"lee-ns1": 2, "mo-cp": 1, "older": 4}),
                          rejected=[invalid_rating, Rejection("body", 2, "lee-cp", "id", conflict), invalid_type])
    parts = split(report, [first, second, third])
    assert [p.results for p in parts] == [results[:3], results[3:6], results[6:]]
    assert [(p.stored, p.duplicates) for p in parts] == [(2, 0), (1, 1), (0, 0)]
    # an invalid item's own Rejection; a conflict's made at the item's own place in its request
    assert [p.rejected for p in parts] == [[invalid_rating], [Rejection("body", 2, "lee-cp", "id", conflict)],
                                           [invalid_type]]
    # the duplicate of lee-ns1 claims nothing; what no event of the group caused goes to the request with the
    # group's latest event (mo-cp, 9 July)
    assert [p.decisions for p in parts] == [2, 1 + 4, 0]
    assert sum(p.decisions for p in parts) == report.decisions


def test_split_of_a_group_without_valid_events() -> None:
    only = parsed([{"type": "appointment.no_show"}])
    rejected = only[0][2]
    assert isinstance(rejected, Rejection)
    report = IngestReport(rejected=[rejected], results=[{"id": None, "status": "rejected", "code": "invalid",
                                                         "field": "type", "reason": rejected.message}],
                          caused=Counter())
    parts = split(report, [[], only])
    assert [(p.results, p.stored, p.duplicates, p.decisions, p.rejected) for p in parts] == [
        ([], 0, 0, 0, []), (report.results, 0, 0, 0, [rejected])]


# -- rejections keep their place; close() racing submit() --------------------------------------------------------
def test_rejections_keep_their_file_and_line() -> None:
    """Rejections name the caller's file and line, not 'body' and a position (the CLI's messages use them)."""
    store = MemoryStore("lines")
    workspace.init(store, "en", "Europe/London", 0)
    ingest.ingest(store, parsed([upsert("ola")]))
    invalid = Rejection("events.jsonl", 7, "ola-r", "data.rating", "must be 1 to 5")
    conflicting = validate(upsert("ola", "Not Ola"))
    writer = GroupCommit()
    try:
        report = writer.submit(store, [("events.jsonl", 7, invalid), ("events.jsonl", 9, conflicting)]).result(WAIT)
    finally:
        writer.close()
    assert [(r.where, r.line, r.event, r.field) for r in report.rejected] == [
        ("events.jsonl", 7, "ola-r", "data.rating"), ("events.jsonl", 9, "ola-cp", "id")]


def test_a_submit_racing_close_is_still_stored(monkeypatch: pytest.MonkeyPatch) -> None:
    """The interleaving forced: close() runs whole between submit's check for a writer and the end of submit.
    The request must not be left on a queue that no writer reads (its future would never complete)."""
    store = MemoryStore("race")
    workspace.init(store, "en", "Europe/London", 0)
    writer = GroupCommit()
    writer.submit(store, []).result(WAIT)  # the writer thread runs
    lock = threading.Lock()

    class CloseOnRelease:
        """Stands for the lock of `submit`; its first release runs a whole close() before submit goes on."""

        def __init__(self) -> None:
            self.armed = True

        def __enter__(self) -> None:
            lock.acquire()

        def __exit__(self, *exc: object) -> None:
            lock.release()
            if self.armed:
                self.armed = False
                writer.close()

    monkeypatch.setattr(writer, "_lock", CloseOnRelease())
    queued = writer.submit(store, parsed([upsert("pam")]))
    try:
        assert queued.result(1.0).stored == 1
    except TimeoutError:
        pytest.fail("the request was queued behind the writer's stop and no writer will ever take it")
    finally:
        writer.close()


# -- a late event's refold names older events: its decisions are still the late request's ------------------------
def test_a_late_event_is_credited_with_the_refold_it_causes(make_store: MakeStore, writer: GroupCommit) -> None:
    store, alone = clinic(make_store("late")), clinic(make_store("late-alone"))
    history = parsed(jsonl(CLINIC / "events.jsonl"))
    for target in (store, alone):
        ingest.ingest(target, history)
    late = jsonl(CLINIC / "late.jsonl")  # Max's visit of 6 May arrives after his later no-shows: a refold
    unrelated = [upsert("nia", at="2026-06-10T08:00:00+01:00")]  # the group's latest event
    grouped = submit_all(writer, store, [late, unrelated])
    separately = one_by_one(alone, [late, unrelated])
    assert separately[0].decisions > 3, "alone, the late request is told about the whole refold"
    assert [r.decisions for r in grouped] == [r.decisions for r in separately]
