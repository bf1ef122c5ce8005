"""The Store port: the same behaviour on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses

import pytest

from firmly.domain.engine import CounterpartyState
from firmly.domain.events import Event, validate
from firmly.domain.ports import OutboxRow, Store, StoredRulebook
from tests.contract.conftest import MakeStore


def event(i: str, kind: str, cp: str, at: str, **data: object) -> Event:
    return validate({"id": i, "type": kind, "counterparty": cp, "occurred_at": at, "data": data})


def test_events_get_arrival_order_and_are_found_by_counterparty_and_partner(store: Store) -> None:
    first = event("b", "appointment.booked", "anna", "2026-03-02T10:00:00+03:00", appointment="a1",
                  starts_at="2026-03-05T10:00:00+03:00", partner="clinic-1")
    second = event("a", "appointment.attended", "boris", "2026-03-01T10:00:00+03:00", appointment="x")
    with store.write():
        store.append_events([first, second])
    assert (first.seq, second.seq) == (1, 2)
    with store.read():
        assert [e.id for e in store.all_events()] == ["a", "b"]  # by occurred_at, then arrival
        assert [e.id for e in store.events_about(["clinic-1"])] == ["b"]
        assert [e.id for e in store.events_about(["anna", "boris"])] == ["a", "b"]
        assert store.digests(["a", "b", "c"]) == {"a": second.digest, "b": first.digest}
        loaded = next(e for e in store.all_events() if e.id == "b")
    assert loaded.data == first.data and loaded.at == first.at and loaded.occurred_at == first.occurred_at


def test_a_failed_write_stores_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.write():
        store.append_events([event("x", "appointment.no_show", "anna", "2026-03-01T10:00:00+03:00",
                                   appointment="a")])
        raise RuntimeError("boom")
    with store.read():
        assert store.digests(["x"]) == {}
        assert list(store.all_events()) == []


def test_workspaces_never_see_each_other(make_store: MakeStore) -> None:
    one, two = make_store("one"), make_store("two")
    with one.write():
        one.append_events([event("e1", "appointment.no_show", "anna", "2026-03-01T10:00:00+03:00",
                                 appointment="a")])
        one.save_states([CounterpartyState("anna")], 0)
        one.put_decisions([_row("d-1", "anna")])
        one.add_rulebook(StoredRulebook("clinic", "1", "h", "rulebook: clinic", 0, None))
    with two.read():
        assert two.digests(["e1"]) == {}
        assert list(two.all_events()) == []
        assert two.load_states(["anna"]) == {}
        assert two.counterparties() == []
        assert two.decisions() == []
        assert two.rulebooks() == []
    with two.write():  # the same event id is free in another workspace
        two.append_events([event("e1", "appointment.attended", "anna", "2026-03-01T10:00:00+03:00",
                                 appointment="a")])
    with one.read():
        assert next(iter(one.all_events())).type == "appointment.no_show"


def _row(i: str, cp: str, at: int = 5, status: str = "applied", n: int = 1) -> dict[str, object]:
    return {"id": i, "counterparty": cp, "rule": "no_show", "at": at, "n": n, "action": "feedback",
            "status": status, "amount": "1000.00", "currency": "RUB", "event": "e1", "evidence": ["e1", "e0"],
            "step": 1, "version": "clinic@1", "explanation": "Правило нарушено", "params": {"strikes": 1}}


def test_decisions_are_upserted_filtered_and_ordered(store: Store) -> None:
    with store.write():
        store.put_decisions([_row("d-2", "anna", at=7), _row("d-1", "anna", at=5), _row("d-3", "boris", at=5)])
        store.put_decisions([_row("d-2", "anna", at=7, status="superseded")])
    with store.read():
        rows = store.decisions()
        assert [r["id"] for r in rows] == ["d-1", "d-3", "d-2"]  # by time, then counterparty
        assert [r["id"] for r in store.decisions(status="superseded")] == ["d-2"]
        assert [r["id"] for r in store.decisions(counterparty="boris")] == ["d-3"]
        assert [r["id"] for r in store.decisions(ids=["d-1", "zz"])] == ["d-1"]
        one = store.decisions(ids=["d-1"])[0]
    assert one["evidence"] == ["e1", "e0"] and one["amount"] == "1000.00" and one["params"] == {"strikes": 1}


def test_states_round_trip_and_wake_the_clock(store: Store) -> None:
    sleepy, due = CounterpartyState("anna"), CounterpartyState("boris", "supplier")
    due.timers = [(100, 1, "x", "", "")]
    due.tier = "vip"
    with store.write():
        store.save_states([sleepy, due], 0)
    with store.read():
        loaded = store.load_states(["anna", "boris", "nobody"])
        assert set(loaded) == {"anna", "boris"}
        assert loaded["boris"].tier == "vip" and loaded["boris"].kind == "supplier"
        assert store.states_due(99) == []
        assert store.states_due(100) == ["boris"]
        assert [r.key for r in store.counterparties(kind="supplier")] == ["boris"]
        assert [r.key for r in store.counterparties(status="active")] == ["anna", "boris"]


def test_clock_and_rulebook_versions(store: Store) -> None:
    with store.write():
        store.set_clock(10, 5)
        store.add_rulebook(StoredRulebook("clinic", "1", "h1", "a", 1, None))
        store.add_rulebook(StoredRulebook("clinic", "2", "h2", "b", 2, 10))
    with store.read():
        info = store.workspace_info()
        assert info is not None and (info.clock, info.ticked) == (10, 5)
        assert [(b.version, b.effective_from) for b in store.rulebooks()] == [("1", None), ("2", 10)]


def test_a_rulebook_version_keeps_who_loaded_it(store: Store) -> None:
    with store.write():
        store.add_rulebook(StoredRulebook("clinic", "1", "h1", "a", 1, None))
        store.add_rulebook(StoredRulebook("clinic", "2", "h2", "b", 2, 10, "anna@example.org"))
    with store.read():
        assert [b.loaded_by for b in store.rulebooks()] == [None, "anna@example.org"]



# Outbox times before anything else in the test database: a claim takes due messages of every workspace, and
# PostgreSQL's database is shared by the whole session
T = -10**12


def _message(i: str, due: int) -> OutboxRow:
    return OutboxRow(f"m-{i}", f"d-{i}", "anna", "email", "anna@example.org", "Subject", "Body", None, "pending",
                     0, due, due)


def test_a_claim_taken_over_after_its_lease_is_fenced_off_from_its_old_holder(make_store: MakeStore) -> None:
    """Worker A's claim runs out while it is busy; B claims the message. A can neither renew the claim (the
    check right before sending) nor mark the message; B can, once. A's other message, which nobody took, is
    still A's even past its lease."""
    store, other = make_store("main"), make_store("other")
    with store.write():
        store.put_outbox([_message("1", T + 100), _message("2", T + 100)])
    with other.write():  # claims span workspaces: A's claim and B's come from a store of another workspace
        a = other.claim_outbox(T + 100, 10, T + 200, "claim-a")
        assert other.claim_outbox(T + 199, 10, T + 300, "claim-b") == []  # still under A's lease
        b = other.claim_outbox(T + 200, 1, T + 300, "claim-b")
    assert sorted((r.id, r.status, r.next_at, r.claim, r.workspace) for r in a) == [
        ("m-1", "sending", T + 200, "claim-a", store.workspace), ("m-2", "sending", T + 200, "claim-a",
                                                                  store.workspace)]
    assert len(b) == 1 and b[0].claim == "claim-b"
    taken, kept = (a[0], a[1]) if a[0].id == b[0].id else (a[1], a[0])
    with store.write():
        assert not store.renew_outbox(taken, T + 400)  # A must not send it: B has it
        taken.status, taken.sent_at = "sent", T + 250
        assert not store.finish_outbox(taken)  # nor mark it
        assert store.renew_outbox(kept, T + 400)  # its lease ran out, but nobody took it: still A's
    with store.read():
        rows = {r.id: r for r in store.outbox()}
    assert (rows[taken.id].status, rows[taken.id].next_at, rows[taken.id].claim) == ("sending", T + 300, "claim-b")
    assert (rows[kept.id].next_at, rows[kept.id].claim) == (T + 400, "claim-a")
    mine = b[0]
    mine.status, mine.attempts, mine.sent_at = "sent", 1, T + 260
    with store.write():
        assert store.renew_outbox(mine, T + 500)
        assert store.finish_outbox(mine)
        assert not store.finish_outbox(mine)  # a claim ends when its message is marked: once only
        assert not store.renew_outbox(mine, T + 600)
    with store.read():
        done = next(r for r in store.outbox() if r.id == mine.id)
    assert (done.status, done.attempts, done.sent_at, done.claim) == ("sent", 1, T + 260, None)
    with other.write():  # later, only the message A kept comes round again: never the one that was sent
        again = other.claim_outbox(T + 400, 10, T + 900, "claim-c")
    assert [r.id for r in again if r.workspace == store.workspace] == [kept.id]


def test_a_claim_takes_the_earliest_due_messages_in_the_order_they_fell_due(store: Store) -> None:
    """One statement claims a batch; the worker sends it in the order the messages fell due, whatever the order
    of their ids or of their storing."""
    early = T - 500_000  # before every other test's messages: this claim sees only these
    with store.write():
        store.put_outbox([_message("z", early + 300), _message("a", early + 200), _message("m", early + 100),
                          _message("b", early + 400)])
        claimed = store.claim_outbox(early + 300, 2, early + 900, "claim-o")
        assert [(r.id, r.status, r.next_at, r.claim) for r in claimed] == [
            ("m-m", "sending", early + 900, "claim-o"), ("m-a", "sending", early + 900, "claim-o")]
        rest = store.claim_outbox(early + 800, 10, early + 2000, "claim-p")  # the first two still held
        assert [r.id for r in rest if r.workspace == store.workspace] == ["m-z", "m-b"]
        for row in claimed + rest:  # sent: out of the way of the other tests' claims
            row.status, row.sent_at = "sent", early + 1000
        assert all(store.finish_outbox_batch(claimed + rest))


def test_a_message_under_no_claim_is_finished_only_as_such(store: Store) -> None:
    """`firmly outbox retry` sets a failed message pending again: it is under no claim (claim None)."""
    with store.write():
        store.put_outbox([_message("1", T)])
        claimed = store.claim_outbox(T, 1, T + 200, "claim-a")[0]
        claimed.status, claimed.error = "failed", "550 no such user"
        assert store.finish_outbox(claimed)
    with store.read():
        failed = store.outbox("failed")[0]
    assert failed.claim is None
    failed.status, failed.next_at = "pending", T + 300
    with store.write():
        assert store.finish_outbox(failed)
        assert not store.renew_outbox(failed, T + 400)  # nothing to renew: it is not claimed
    with store.read():
        assert [(r.status, r.next_at) for r in store.outbox()] == [("pending", T + 300)]


def test_a_message_keeps_its_sender_and_note_through_claim_and_finish(store: Store) -> None:
    """The sender a thread's messages come from (From and Reply-To) and the roles that had no contact are
    stored with the message, come back with its claim and stay when it is marked; a message without them
    (the workspace's one default sender) reads them as None."""
    voiced = OutboxRow("m-voiced", "d-v", "north", "email", "desk@north.example", "Subject", "Body", None, "pending",
                       0, T - 1000, T - 1000, sender="anna@care.example", sender_name="Анна Берг, CareLink",
                       note="management,legal")
    with store.write():
        store.put_outbox([voiced, _message("plain", T - 1000)])
    with store.read():
        listed = {r.id: r for r in store.outbox()}
    assert (listed["m-voiced"].sender, listed["m-voiced"].sender_name, listed["m-voiced"].note) == (
        "anna@care.example", "Анна Берг, CareLink", "management,legal")
    assert (listed["m-plain"].sender, listed["m-plain"].sender_name, listed["m-plain"].note) == (None, None, None)
    with store.write():
        claimed = {r.id: r for r in store.claim_outbox(T - 1000, 10, T - 900, "claim-s")
                   if r.workspace == store.workspace}
        assert claimed["m-voiced"].sender == "anna@care.example"
        assert claimed["m-voiced"].sender_name == "Анна Берг, CareLink"
        for row in claimed.values():
            row.status, row.sent_at = "sent", T - 990
            assert store.finish_outbox(row)
    with store.read():
        done = {r.id: r for r in store.outbox("sent")}
    assert (done["m-voiced"].sender, done["m-voiced"].note) == ("anna@care.example", "management,legal")


def test_a_claimed_batch_is_marked_at_once_and_only_where_still_under_its_claim(make_store: MakeStore) -> None:
    """A worker marks its claimed batch in one go: what was sent, what failed with its reason and next attempt.
    A message whose claim ran out and was taken over by another worker meanwhile is not marked by the first
    (it says so), and stays as the second worker has it; the second marks it later, once."""
    store, other = make_store("main"), make_store("other")
    U, LATER = T - 10**9, 10**13  # before every other test's messages; next attempts past every claim's time
    with store.write():
        store.put_outbox([_message(str(i), U + 1000) for i in range(1, 5)])
    with other.write():
        a = {r.id: r for r in other.claim_outbox(U + 1000, 10, U + 1100, "claim-a")
             if r.workspace == store.workspace}
        b = other.claim_outbox(U + 1100, 1, U + 1200, "claim-b")  # A's lease ran out: B takes one over
    assert sorted(a) == ["m-1", "m-2", "m-3", "m-4"] and len(b) == 1 and b[0].id in a
    taken = a[b[0].id]
    sent, retried, failed = (a[i] for i in sorted(a) if i != taken.id)
    for row in (sent, taken):
        row.status, row.attempts, row.sent_at, row.error = "sent", 1, U + 1150, None
    retried.status, retried.attempts, retried.next_at, retried.error = "pending", 1, LATER, "SMTP 451: later"
    failed.status, failed.attempts, failed.error = "failed", 1, "SMTP 550: no such user"
    batch = [sent, taken, retried, failed]
    with store.write():
        assert store.finish_outbox_batch(batch) == [True, False, True, True]
        assert store.finish_outbox_batch(batch) == [False, False, False, False]  # a claim ends when marked
        assert store.finish_outbox_batch([]) == []
    with store.read():
        rows = {r.id: r for r in store.outbox()}
    assert (rows[sent.id].status, rows[sent.id].attempts, rows[sent.id].sent_at, rows[sent.id].claim) == (
        "sent", 1, U + 1150, None)
    assert (rows[taken.id].status, rows[taken.id].next_at, rows[taken.id].claim) == ("sending", U + 1200, "claim-b")
    assert (rows[retried.id].status, rows[retried.id].next_at, rows[retried.id].error, rows[retried.id].claim) == (
        "pending", LATER, "SMTP 451: later", None)
    assert (rows[failed.id].status, rows[failed.id].error, rows[failed.id].sent_at) == (
        "failed", "SMTP 550: no such user", None)
    mine = b[0]
    mine.status, mine.attempts, mine.sent_at = "sent", 1, U + 1160
    unclaimed = dataclasses.replace(rows[failed.id], status="pending", next_at=LATER + 1)
    with other.write():  # marked from a store of another workspace, as a worker does; one row under no claim
        assert other.finish_outbox_batch([mine, unclaimed]) == [True, True]
    with store.read():
        rows = {r.id: r for r in store.outbox()}
    assert (rows[mine.id].status, rows[mine.id].sent_at, rows[mine.id].claim) == ("sent", U + 1160, None)
    assert (rows[failed.id].status, rows[failed.id].next_at) == ("pending", LATER + 1)


def test_the_emails_sent_today_are_counted_for_many_counterparties_at_once(store: Store) -> None:
    """The daily limit's count for a claimed batch, in one query: per counterparty, only what was sent (not what
    waits or failed), since the given moment, of the given channel, of this workspace; 0 for one with none."""
    U = T - 2 * 10**9  # before every other test's messages, so no other test's claim takes these
    rows = [OutboxRow(f"c-{i}", f"d-{i}", cp, channel, "x@example.org", "S", "B", None, status, 1, U, U,
                      sent_at=sent)
            for i, (cp, channel, status, sent) in enumerate([
                ("anna", "email", "sent", U + 10), ("anna", "email", "sent", U + 20), ("anna", "email", "sent", U - 5),
                ("anna", "webhook", "sent", U + 10), ("anna", "email", "failed", None),
                ("boris", "email", "sent", U + 30), ("boris", "email", "pending", None)])]
    with store.write():
        store.put_outbox(rows)
    with store.read():
        assert store.sent_counts(["anna", "boris", "vera"], U, "email") == {"anna": 2, "boris": 1, "vera": 0}
        assert store.sent_counts(["anna"], U) == {"anna": 3}
        assert store.sent_counts([], U, "email") == {}
        assert store.sent_counts(["anna", "boris"], U, "email") == {
            cp: store.sent_since(cp, U, "email") for cp in ("anna", "boris")}
