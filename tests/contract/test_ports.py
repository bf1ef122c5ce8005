"""The narrow ports, method by method, the same on memory, SQLite and PostgreSQL: what test_store.py and the
use-case suites do not already call directly (the workspace, the event log's lookups, states streamed,
decision facts and tallies, the ledger, tokens, the outbox's daily count, settings, attendance, logins and
sessions, and the operator's ping and counts)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from firmly.domain.engine import CounterpartyState
from firmly.domain.ledger import Posting
from firmly.domain.ports import AttemptRow, OutboxRow, SessionRow, TokenRow, UserRow
from firmly.domain.tone import Tone
from tests.contract.conftest import Contracted, MakeStore
from tests.contract.test_store import _row, event


# -- transactions and workspaces --------------------------------------------------------------------
def test_stores_of_one_database_share_its_identity_and_say_whether_workspaces_write_at_once(
        make_store: MakeStore) -> None:
    one, two = make_store("one"), make_store("two")
    assert one.database is two.database
    assert one.parallel_workspaces == two.parallel_workspaces
    assert isinstance(one.parallel_workspaces, bool)


def test_migrate_twice_changes_nothing_stored(store: Contracted) -> None:
    with store.write():
        store.set_setting("kept", "yes")
    store.migrate()
    store.migrate()
    with store.read():
        assert store.settings() == {"kept": "yes"}


def test_ensure_workspace_creates_once_and_changes_only_what_is_given(make_store: MakeStore) -> None:
    store = make_store("ws")
    with store.write():
        before = store.workspace_info()
        assert before is not None and (before.locale, before.timezone) == ("ru", "Europe/Moscow")
        same = store.ensure_workspace(None, None, 99)
        assert (same.locale, same.timezone) == ("ru", "Europe/Moscow")
        changed = store.ensure_workspace("en", None, 99)
        assert (changed.id, changed.locale, changed.timezone) == (store.workspace, "en", "Europe/Moscow")
        assert store.ensure_workspace(None, "Europe/London", 99).timezone == "Europe/London"
    with store.read():
        info = store.workspace_info()
        assert info is not None and (info.locale, info.timezone) == ("en", "Europe/London")


def test_all_workspaces_lists_each_workspace_of_the_database_once(make_store: MakeStore) -> None:
    one, two = make_store("one"), make_store("two")
    with one.read():
        names = one.all_workspaces()
    assert {one.workspace, two.workspace} <= set(names)
    assert names == sorted(set(names))


# -- the event log ----------------------------------------------------------------------------------
def test_events_of_a_type_and_whether_any_is_dated_from_a_moment(store: Contracted) -> None:
    late = event("late", "appointment.no_show", "anna", "2026-03-05T10:00:00+00:00", appointment="a2")
    early = event("early", "appointment.no_show", "boris", "2026-03-01T10:00:00+00:00", appointment="a1")
    other = event("other", "appointment.attended", "anna", "2026-03-03T10:00:00+00:00", appointment="a3")
    with store.write():
        store.append_events([late, early, other])
    with store.read():
        assert [e.id for e in store.events_of_type("appointment.no_show")] == ["early", "late"]  # oldest first
        assert store.events_of_type("payment.received") == []
        assert store.has_events_from(late.at)
        assert not store.has_events_from(late.at + 1)
        assert store.has_events_from(early.at - 1)


def test_set_tones_renews_the_stored_tone_of_those_events_only(store: Contracted) -> None:
    said = event("m1", "message.received", "anna", "2026-03-01T10:00:00+00:00", text="thanks")
    kept = event("m2", "message.received", "anna", "2026-03-01T11:00:00+00:00", text="fine")
    with store.write():
        store.append_events([said, kept])
    tone = Tone("hostile", ("insult",), ("idiot",), (), "en")
    said.tone = tone
    with store.write():
        store.set_tones([said])
    with store.read():
        found = {e.id: e.tone for e in store.all_events()}
    assert found["m1"] == tone and found["m2"] == kept.tone


# -- states and decisions ---------------------------------------------------------------------------
def test_states_stream_every_counterparty_or_those_of_one_kind(store: Contracted) -> None:
    client, partner = CounterpartyState("anna"), CounterpartyState("clinic-1")
    partner.kind = "partner"
    with store.write():
        store.save_states([client, partner], 0)
    with store.read():
        assert sorted(s.key for s in store.states()) == ["anna", "clinic-1"]
        assert [s.key for s in store.states("partner")] == ["clinic-1"]
        assert list(store.states("supplier")) == []


def test_decision_facts_and_tally(store: Contracted) -> None:
    with store.write():
        store.put_decisions([_row("d-1", "anna", at=5), _row("d-2", "anna", at=9, status="superseded"),
                             _row("d-3", "boris", at=7)])
    with store.read():
        facts = store.decision_facts()
        assert set(facts) == {"d-1", "d-2", "d-3"}
        assert facts["d-1"] == ("anna", "no_show", 5, 1, "feedback", "applied", "1000.00", "RUB", "e1",
                                ("e1", "e0"), 1, "clinic@1", {"strikes": 1})
        assert set(store.decision_facts(["boris"])) == {"d-3"}
        assert store.decision_facts([]) == {}
        assert store.decision_tally(frozenset(), None, None) == {("anna", "feedback"): 2, ("boris", "feedback"): 1}
        assert store.decision_tally(frozenset({"superseded"}), None, None) == {("anna", "feedback"): 1,
                                                                               ("boris", "feedback"): 1}
        assert store.decision_tally(frozenset(), 6, 8) == {("boris", "feedback"): 1}


def test_decision_counts_cover_every_workspace(make_store: MakeStore) -> None:
    one, two = make_store("one"), make_store("two")
    with one.write():
        one.put_decisions([_row("d-1", "anna"), _row("d-2", "anna", status="superseded")])
    with two.write():
        two.put_decisions([_row("d-1", "anna")])
    counts = one.decision_counts()
    mine = [c for c in counts if c[0] in (one.workspace, two.workspace)]
    assert mine == sorted([(one.workspace, "feedback", "applied", 1), (one.workspace, "feedback", "superseded", 1),
                           (two.workspace, "feedback", "applied", 1)])
    one.ping()


# -- the ledger ---------------------------------------------------------------------------------------
def _posting(i: str, cp: str, n: int, amount: str = "100.00") -> Posting:
    return Posting(i, cp, 10 + n, n, "cash", f"client:{cp}", Decimal(amount), "RUB", f"e{n}", memo="payment")


def test_postings_are_replaced_by_id_and_dropped_by_counterparty(store: Contracted) -> None:
    with store.write():
        store.put_postings([_posting("p2", "anna", 2), _posting("p1", "anna", 1), _posting("q1", "boris", 1)])
        store.put_postings([_posting("p2", "anna", 2, "250.50")])
    with store.read():
        assert [(p.id, p.amount) for p in store.postings("anna")] == [("p1", Decimal("100.00")),
                                                                      ("p2", Decimal("250.50"))]
        assert store.postings("anna")[0] == _posting("p1", "anna", 1)
    with store.write():
        store.drop_postings(["anna"])
    with store.read():
        assert store.postings("anna") == [] and [p.id for p in store.postings("boris")] == ["q1"]
    with store.write():
        store.drop_postings()
    with store.read():
        assert store.postings("boris") == []


# -- tokens -------------------------------------------------------------------------------------------
def test_tokens_are_listed_newest_first_revoked_once_and_found_whatever_the_workspace(
        make_store: MakeStore) -> None:
    one, two = make_store("one"), make_store("two")
    first = TokenRow("t1", one.workspace, "admin", "ops", "h1", 1, None)
    second = TokenRow("t2", one.workspace, "viewer", "crm", "h2", 2, None)
    with one.write():
        one.add_token(first)
        one.add_token(second)
    with one.read():
        assert [t.id for t in one.tokens()] == ["t2", "t1"]
    with two.read():
        assert two.tokens() == []
        assert two.find_token("t1") == first  # how a request finds its workspace
        assert two.find_token("nope") is None
    with two.write():
        assert not two.revoke_token("t1", 5)  # another workspace's token
    with one.write():
        assert one.revoke_token("t1", 5)
        assert not one.revoke_token("t1", 6)  # revoked once
    with one.read():
        found = one.find_token("t1")
        assert found is not None and found.revoked_at == 5


# -- the outbox and settings ------------------------------------------------------------------------
def _sent(i: str, cp: str, channel: str, sent_at: int | None, status: str = "sent") -> OutboxRow:
    return OutboxRow(i, f"d-{i}", cp, channel, "x@example.org", "s", "b", None, status, 1, 0, 0, sent_at)


def test_sent_since_counts_what_went_to_a_counterparty_by_channel(store: Contracted) -> None:
    with store.write():
        store.put_outbox([_sent("1", "anna", "email", 10), _sent("2", "anna", "webhook", 20),
                          _sent("3", "anna", "email", 30), _sent("4", "anna", "email", None, "pending"),
                          _sent("5", "boris", "email", 40)])
    with store.read():
        assert store.sent_since("anna", 0) == 3
        assert store.sent_since("anna", 20) == 2
        assert store.sent_since("anna", 0, "email") == 2
        assert store.sent_since("anna", 31) == 0


def test_settings_are_set_replaced_and_forgotten_per_workspace(make_store: MakeStore) -> None:
    one, two = make_store("one"), make_store("two")
    with one.write():
        one.set_setting("webhook_secret", "a")
        one.set_setting("webhook_secret", "b")
        one.set_setting("other", "c")
        one.set_setting("missing", None)
    with one.read(), two.read():
        assert one.settings() == {"webhook_secret": "b", "other": "c"}
        assert two.settings() == {}
    with one.write():
        one.set_setting("other", None)
    with one.read():
        assert one.settings() == {"webhook_secret": "b"}


# -- attendance ---------------------------------------------------------------------------------------
def test_attendance_is_awaited_until_due_and_forgotten_once_settled(store: Contracted) -> None:
    with store.write():
        store.expect_attendance("hk1", "apt-2", "anna", 20)
        store.expect_attendance("hk1", "apt-1", "boris", 10)
        store.expect_attendance("hk1", "apt-3", "anna", 30)
        store.expect_attendance("hk1", "apt-3", "anna", 40)  # rescheduled: due later
    with store.read():
        assert store.attendance_due(5) == []
        assert store.attendance_due(30) == [("hk1", "apt-1", "boris", 10), ("hk1", "apt-2", "anna", 20)]
    with store.write():
        store.expect_attendance("hk1", "apt-1", "boris", None)
    with store.read():
        assert store.attendance_due(100) == [("hk1", "apt-2", "anna", 20), ("hk1", "apt-3", "anna", 40)]


def test_a_payload_is_kept_once_and_found_by_each_event_it_gave(store: Contracted) -> None:
    with store.write():
        store.keep_payload("hk1", "dg1", '{"a": 1}', 5, ["e1", "e2", "e1"])
        store.keep_payload("hk1", "dg2", '{"a": 2}', 6, ["e2", "e3"])  # e2 keeps its first delivery
        store.keep_payload("hk1", "clock", "", 7, ["e4"])  # clock-made: no body
    with store.read():
        assert store.payload_of("e1") == ("hk1", '{"a": 1}')
        assert store.payload_of("e2") == ("hk1", '{"a": 1}')
        assert store.payload_of("e3") == ("hk1", '{"a": 2}')
        assert store.payload_of("e4") is None
        assert store.payload_of("nope") is None


# -- logins, sessions and attempts --------------------------------------------------------------------
def test_users_are_found_by_email_and_id_whatever_the_workspace_and_listed_by_email(
        make_store: MakeStore) -> None:
    one, two = make_store("one"), make_store("two")
    bea = UserRow("u2", one.workspace, "bea@example.org", "viewer", "hash-b", 1)
    al = UserRow("u1", one.workspace, "al@example.org", "admin", "hash-a", 2)
    with one.write():
        one.put_user(bea)
        one.put_user(al)
        one.put_user(UserRow("u2", one.workspace, "bea@example.org", "operator", "hash-c", 1))  # replaced
    with one.read():
        assert [(u.email, u.role) for u in one.users()] == [("al@example.org", "admin"),
                                                             ("bea@example.org", "operator")]
    with two.read():
        assert two.users() == []
        assert two.find_user("al@example.org") == al
        assert two.user("u1") == al
        assert two.find_user("nobody@example.org") is None and two.user("nope") is None


def test_sessions_are_added_found_and_dropped_one_by_one_or_by_user(store: Contracted) -> None:
    user = UserRow("u1", store.workspace, "al@example.org", "admin", "hash", 0)

    def session(i: str, expires: int, user_id: str = "u1") -> SessionRow:
        return SessionRow(i, user_id, store.workspace, f"csrf-{i}", 0, expires)

    with store.write():
        store.put_user(user)
        for row in (session("s1", 10), session("s2", 20), session("s3", 30), session("s9", 5, "u9")):
            store.add_session(row)
    with store.read():
        assert store.find_session("s1") == session("s1", 10)
    with store.write():
        store.drop_session("s1")
        store.drop_sessions("u1", before=25)  # the expired ones only
    with store.read():
        assert [store.find_session(i) is not None for i in ("s1", "s2", "s3", "s9")] == [False, False, True, True]
    with store.write():
        store.drop_sessions("u1")
    with store.read():
        assert store.find_session("s3") is None and store.find_session("s9") is not None


def test_login_attempts_are_kept_by_key_and_forgotten_by_key_or_age(store: Contracted) -> None:
    rows = [AttemptRow("account:al@example.org", 2, 10, 0), AttemptRow("address:10.0.0.1", 5, 20, 99),
            AttemptRow("address:10.0.0.2", 1, 30, 0)]
    with store.write():
        for row in rows:
            store.put_login_attempt(row)
        store.put_login_attempt(AttemptRow("account:al@example.org", 3, 12, 0))  # replaced
    keys = [r.key for r in rows]
    with store.read():
        found = store.login_attempts([*keys, "account:nobody"])
        assert found[keys[0]] == AttemptRow(keys[0], 3, 12, 0) and found[keys[1]] == rows[1]
        assert "account:nobody" not in found
    with store.write():
        store.drop_login_attempts(before=15)
    with store.read():
        assert set(store.login_attempts(keys)) == {keys[1], keys[2]}
    with store.write():
        store.drop_login_attempts([keys[1]])
    with store.read():
        assert set(store.login_attempts(keys)) == {keys[2]}
    with store.write():
        store.drop_login_attempts()
    with store.read():
        assert store.login_attempts(keys) == {}


@pytest.mark.parametrize("method", ["write", "read"])
def test_a_transaction_opened_inside_another_joins_it(store: Contracted, method: str) -> None:
    with store.write(), getattr(store, method)():
        store.set_setting("inner", "1")
    with store.read():
        assert store.settings() == {"inner": "1"}


def test_a_failed_write_in_one_workspace_leaves_the_others_of_the_database_in_step(make_store: MakeStore) -> None:
    """The memory store once rolled back by swapping its whole data for a copy: its other workspaces' stores
    kept the old data, and never saw each other's writes again."""
    one, two = make_store("one"), make_store("two")
    with pytest.raises(RuntimeError), one.write():
        one.set_setting("lost", "x")
        raise RuntimeError("boom")
    with two.write():
        two.add_token(TokenRow("t-after", two.workspace, "viewer", "crm", "h", 1, None))
    with one.read():
        assert one.settings() == {}
        assert one.find_token("t-after") is not None
