"""Properties of the prepaid account (RULEBOOK.md "Prepaid account and price list") over generated
histories of a few clients: top-ups, services at the price list or the client's own prices (changed at
random times), quota bills, fees and surcharges from a ladder, invoices, duplicates and any arrival order.

Each history is folded by the pure engine. Duplicates are dropped before the fold as the store drops
them (the event id is the idempotency key: the first copy is kept), so the engine sees the log the
store would give it. The ledger is checked against the figures the fold keeps on `Account`, against
the double-entry rules and against a small model of the price list and the credit limit. The last
property sends the same histories through the use cases (ingest in chunks, late events, a re-sent
file, replay) on the in-memory store and expects the ledger of one fold.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Any

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from tests.unit.conftest import book, events, raw

from firmly.adapters.memory import MemoryStore
from firmly.domain.clock import iso, parse_instant
from firmly.domain.engine import Decision, Engine, Policy
from firmly.domain.engine.state import CounterpartyState
from firmly.domain.events import Event, validate
from firmly.domain.ledger import BALANCE, DUE, OWN, ZERO, Posting, Terms, statement, trial_balance
from firmly.domain.money import fmt, quantize
from firmly.domain.rulebook import Rulebook
from firmly.service import ingest, replay, rulebooks, workspace

RULEBOOK = """\
rulebook: ledger
version: "1"
title: Prepaid accounts
locale: en
currency: RUB
timezone: UTC
applies_to: [client]

ladders:
  money:
    window: 365d
    first_step_may_sanction: true
    steps:
      - fee: "300.00"

tiers:
  vip:
    exempt: [no_show]
    surcharge: {{no_show: "200.00"}}

{account}
prices:
  consultation: {{title: Consultation, price: "150.00"}}
  quote: {{title: Quote, price: "80.00"}}
  revision: {{title: Revision, price: "120.50"}}

rules:
  no_show:
    title: Come or call
    why: The hour is kept for you.
    kind: forbidden
    event: appointment.no_show
    ladder: money

  quotes:
    title: One free quote per order
    why: Each quote is an engineer's work.
    kind: quota
    event: request.received
    when: data.topic == "quote"
    max: 1
    per: order
    bill: quote
"""

ACCOUNT = """\
account:
  mode: {mode}
  low_balance: "1000.00"
  top_up: "5000.00"
"""
# Prepaid without credit, prepaid with some, postpaid without a limit, and no `account:` at all (services
# and sanctions are then simply owed).
ACCOUNTS = (ACCOUNT.format(mode="prepaid") + '  credit_limit: "0.00"\n',
            ACCOUNT.format(mode="prepaid") + '  credit_limit: "250.00"\n',
            ACCOUNT.format(mode="postpaid"), "")
BOOKS = tuple(book(RULEBOOK.format(account=account)) for account in ACCOUNTS)
NO_ACCOUNT = len(ACCOUNTS) - 1
LIST_PRICES = {code: p.price for code, p in BOOKS[0].prices.items()}
CODES = ("consultation", "quote", "revision", "training")  # training is on no price list but a client's own
PAYMENTS = ("0.01", "35.50", "150.00", "400.00", "999.99", "1200.00", "3000.00")
PRICES = ("0.00", "0.01", "99.99", "150.00", "1000.00", "2500.00")
CLIENTS = ("c0", "c1", "c2")
START = parse_instant("2026-01-01T00:00:00+00:00")
HOUR = 3_600_000_000

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

gap = st.integers(1, 72)  # hours after the client's previous event: one client's events never share an instant
step = st.one_of(
    st.tuples(st.just("pay"), gap, st.sampled_from(PAYMENTS)),
    st.tuples(st.just("service"), gap, st.tuples(st.sampled_from(CODES), st.none() | st.integers(1, 3))),
    st.tuples(st.just("service"), gap, st.tuples(st.sampled_from(CODES), st.none())),
    st.tuples(st.just("price"), gap, st.dictionaries(st.sampled_from(CODES), st.sampled_from(PRICES),
                                                     min_size=1, max_size=2)),
    st.tuples(st.just("no_show"), gap, st.none()),
    st.tuples(st.just("quote"), gap, st.sampled_from(("o1", "o2"))),
    st.tuples(st.just("invoice"), gap, st.sampled_from(PAYMENTS)),
    st.tuples(st.just("tier"), gap, st.sampled_from(("vip", "standard"))),
)
histories = st.lists(st.lists(step, min_size=6, max_size=60), min_size=1, max_size=len(CLIENTS))
duplicates = st.lists(st.integers(0, 10**6), max_size=6)  # which envelopes arrive more than once
accounts = st.integers(0, len(BOOKS) - 1)


def build(history: list[list[tuple[str, int, Any]]]) -> list[dict[str, Any]]:
    """Envelopes in order of each client's own time; clients start together, so their events may share
    instants with each other's (whose order then depends on arrival)."""
    out: list[dict[str, Any]] = []
    for index, steps in enumerate(history):
        cp = CLIENTS[index]
        t = START
        for n, (kind, hours, arg) in enumerate(steps):
            t += hours * HOUR
            at, eid = iso(t), f"{cp}-{n}-{kind}"
            if kind == "pay":
                out.append(raw(eid, "payment.received", cp, at, amount=arg))
            elif kind == "service":
                code, quantity = arg
                extra = {} if quantity is None else {"quantity": quantity}
                out.append(raw(eid, "service.rendered", cp, at, service=code, **extra))
            elif kind == "price":
                out.append(raw(eid, "counterparty.upserted", cp, at, kind="client", prices=arg))
            elif kind == "no_show":
                out.append(raw(eid, "appointment.no_show", cp, at, appointment=f"{cp}-a{n}"))
            elif kind == "quote":
                out.append(raw(eid, "request.received", cp, at, request=eid, channel="email", topic="quote",
                               order=f"{cp}-{arg}"))
            elif kind == "invoice":
                out.append(raw(eid, "invoice.issued", cp, at, invoice=eid, amount=arg, due_at=iso(t + 240 * HOUR)))
            else:
                out.append(raw(eid, "counterparty.upserted", cp, at, kind="client", tier=arg))
    return out


def arrival(envelopes: list[dict[str, Any]], again: list[int], rnd: random.Random | None) -> list[dict[str, Any]]:
    """The envelopes as they arrive: some sent twice, all in a random order when `rnd` is given."""
    sent = list(envelopes) + [envelopes[i % len(envelopes)] for i in again] if envelopes else []
    if rnd is not None:
        rnd.shuffle(sent)
    return sent


def stored(sent: Iterable[dict[str, Any]]) -> list[Event]:
    """What the store keeps of what arrived: the first copy of each id, numbered in arrival order."""
    seen: set[str] = set()
    kept = []
    for envelope in sent:
        if envelope["id"] not in seen:
            seen.add(envelope["id"])
            kept.append(envelope)
    return events(kept)


@dataclass
class Ledger:
    """One fold of a history: the states, the last word on each decision, the postings."""

    book: Rulebook
    log: list[Event]
    states: dict[str, CounterpartyState]
    decisions: dict[str, Decision]
    postings: list[Posting]

    @property
    def terms(self) -> Terms | None:
        return Engine(Policy([self.book])).table(CounterpartyState("x"), START).account

    def of(self, cp: str) -> list[Posting]:
        return sorted((p for p in self.postings if p.counterparty == cp), key=lambda p: (p.at, p.n))

    def by_event(self, cp: str) -> list[tuple[str, int, list[Posting]]]:
        """The client's postings grouped by the event that made them, in ledger order."""
        groups: list[tuple[str, int, list[Posting]]] = []
        for p in self.of(cp):
            if groups and groups[-1][0] == p.event:
                groups[-1][2].append(p)
            else:
                groups.append((p.event, p.at, [p]))
        return groups

    def decided(self, action: str) -> list[Decision]:
        return [d for d in self.decisions.values() if d.action == action]


def fold(book_: Rulebook, log: list[Event], *, replay: bool = False) -> Ledger:
    """`Engine.run` over the stored events (it sorts them by time, then arrival); with `replay`, the
    log in (occurred_at, arrival) order streamed as `firmly replay` does."""
    engine = Engine(Policy([book_]))
    if replay:
        states, out = engine.run(sorted(log, key=lambda e: (e.at, e.seq)), ordered=True)
    else:
        states, out = engine.run(log)
    final: dict[str, Decision] = {}
    for d in out:
        final[d.id] = d
    return Ledger(book_, log, states, final, engine.take_postings())


def ledger_of(history: Any, again: list[int], which: int, rnd: random.Random | None = None) -> Ledger:
    return fold(BOOKS[which], stored(arrival(build(history), again, rnd)))


def running(postings: Iterable[Posting], balance: Decimal = ZERO) -> Iterable[tuple[Posting, Decimal, Decimal]]:
    """Each posting with the client's balance before and after it (from `balance` on)."""
    for p in postings:
        before = balance
        if p.credit == BALANCE:
            balance += p.amount
        elif p.debit == BALANCE:
            balance -= p.amount
        yield p, before, balance


def price_at(log: list[Event], cp: str, code: str, at: int) -> Decimal | None:
    """The model: the client's own price set last before `at`, else the price list's, else none."""
    price = LIST_PRICES.get(code)
    for ev in sorted(log, key=lambda e: e.at):
        if ev.counterparty == cp and ev.type == "counterparty.upserted" and ev.at < at:
            own = (ev.data.get("prices") or {}).get(code)
            if own is not None:
                price = Decimal(own)
    return price


# -- (a) the statement and the running figures --------------------------------------------------------
@PROPERTY
@given(histories, duplicates, accounts)
def test_the_statement_of_the_postings_equals_the_account_the_fold_keeps(history: Any, again: list[int],
                                                                        which: int) -> None:
    f = ledger_of(history, again, which)
    for cp, st_ in f.states.items():
        mine = f.of(cp)
        if st_.account is None:
            assert mine == [], "postings only where the fold opened an account"
            continue
        balance, due, entries = statement(mine)
        assert (balance, due) == (st_.account.balance, st_.account.due), cp
        assert st_.account.postings == len(mine) == len(entries)
        assert [p.n for p in mine] == list(range(1, len(mine) + 1)), "n numbers the client's ledger"
    n = len(f.postings)
    event("postings: " + ("0" if n == 0 else "1-9" if n < 10 else "10-29" if n < 30 else "30+"))
    event(f"sanctions: {'yes' if any(p.memo in ('fee', 'surcharge') for p in f.postings) else 'no'}")
    event(f"due left: {'yes' if any(s.account and s.account.due > 0 for s in f.states.values()) else 'no'}")


# -- (b) the credit limit -----------------------------------------------------------------------------
@PROPERTY
@given(histories, duplicates, accounts)
def test_services_and_bills_never_pass_the_credit_limit_and_sanctions_never_overdraw(
        history: Any, again: list[int], which: int) -> None:
    f = ledger_of(history, again, which)
    limit = f.terms.credit_limit if f.terms is not None else None
    for cp in f.states:
        for p, before, after in running(f.of(cp)):
            if p.memo in ("service", "bill") and limit is not None:
                assert after >= -limit, (cp, p, before, after)
            elif p.memo in ("fee", "surcharge") and p.debit == BALANCE:
                assert after >= 0, ("a sanction takes only what the balance holds", p, before, after)
                assert before > 0
    balances = {(p.counterparty, p.at): after for p, _, after in
                (r for cp in f.states for r in running(f.of(cp)))}
    for d in f.decided("refused"):
        assert limit is not None, "nothing is refused without a limit"
        assert d.amount is not None
        was = Decimal(d.params["balance"]) if d.params else None
        assert was is not None and was - d.amount < -limit, ("refused although it fits", d)
        assert not any(p.event == d.event and p.memo in ("service", "bill") for p in f.postings), d
        earlier = [b for (cp, at), b in balances.items() if cp == d.counterparty and at < d.at]
        assert was == (earlier[-1] if earlier else ZERO), "the balance the refusal names is the ledger's"
    event(f"refused: {min(len(f.decided('refused')), 3)}")


# -- (c) causes ---------------------------------------------------------------------------------------
@PROPERTY
@given(histories, duplicates, accounts)
def test_every_debit_names_the_event_and_the_decision_that_caused_it(history: Any, again: list[int],
                                                                     which: int) -> None:
    f = ledger_of(history, again, which)
    ids = {ev.id: ev for ev in f.log}
    for p in f.postings:
        assert p.event in ids, ("a posting names an event of the input", p)
        assert ids[p.event].counterparty == p.counterparty
        if p.debit not in OWN:
            assert p.memo in ("payment", "settlement") and ids[p.event].type == "payment.received", p
            continue
        if p.memo in ("bill", "fee", "surcharge"):
            assert p.decision in f.decisions, ("a bill or sanction names its decision", p)
            d = f.decisions[p.decision]
            assert (d.action, d.event, d.counterparty, d.status) == (p.memo, p.event, p.counterparty, "applied"), p
        elif p.memo == "service":
            assert p.decision is None and ids[p.event].type == "service.rendered", p
            assert p.service == ids[p.event].data["service"]
        else:
            assert p.memo == "invoice" and ids[p.event].type == "invoice.issued", p


# -- (d) double entry ---------------------------------------------------------------------------------
@PROPERTY
@given(histories, duplicates, accounts)
def test_the_trial_balance_sums_to_zero(history: Any, again: list[int], which: int) -> None:
    f = ledger_of(history, again, which)
    totals = trial_balance(f.postings)
    assert sum(totals.values(), ZERO) == ZERO
    assert all(p.amount >= 0 for p in f.postings), "amounts are unsigned; the accounts give the direction"
    held = sum((st_.account.balance for st_ in f.states.values() if st_.account), ZERO)
    owed = sum((st_.account.due for st_ in f.states.values() if st_.account), ZERO)
    assert totals.get(BALANCE, ZERO) == -held, "the balance account holds what clients paid in advance"
    assert totals.get(DUE, ZERO) == owed


# -- (e) order and replay -----------------------------------------------------------------------------
def facts(f: Ledger) -> tuple[set[tuple[Any, ...]], dict[str, tuple[Any, ...]]]:
    postings = {(p.id, p.counterparty, p.at, p.n, p.debit, p.credit, p.amount, p.event, p.decision, p.service,
                 p.memo) for p in f.postings}
    return postings, {d.id: (*d.key(), d.params) for d in f.decisions.values()}


@PROPERTY
@given(histories, duplicates, accounts, st.randoms(use_true_random=False))
def test_any_arrival_order_and_a_replay_give_the_same_ledger(history: Any, again: list[int], which: int,
                                                             rnd: random.Random) -> None:
    envelopes = build(history)
    in_order = fold(BOOKS[which], stored(envelopes))
    shuffled_log = stored(arrival(envelopes, again, rnd))
    shuffled = fold(BOOKS[which], shuffled_log)
    replayed = fold(BOOKS[which], shuffled_log, replay=True)
    assert facts(shuffled) == facts(in_order)
    assert facts(replayed) == facts(in_order)
    assert len(shuffled.postings) == len(in_order.postings)


# -- (f) posting ids ----------------------------------------------------------------------------------
@PROPERTY
@given(histories, duplicates, accounts)
def test_posting_ids_are_unique(history: Any, again: list[int], which: int) -> None:
    f = ledger_of(history, again, which)
    ids = [p.id for p in f.postings]
    assert len(ids) == len(set(ids))


# -- (g) prices ---------------------------------------------------------------------------------------
@PROPERTY
@given(histories, duplicates, accounts, st.randoms(use_true_random=False))
def test_a_price_change_applies_from_its_time_onward_never_before(history: Any, again: list[int], which: int,
                                                                   rnd: random.Random) -> None:
    f = ledger_of(history, again, which, rnd)
    charged = {p.event: p for p in f.postings if p.memo in ("service", "bill")}
    refused = {d.event: d for d in f.decided("refused")}
    bills = {d.event: d for d in f.decided("bill")}
    for ev in f.log:
        if ev.type == "service.rendered":
            price = price_at(f.log, ev.counterparty, ev.data["service"], ev.at)
            if price is None:
                assert ev.id not in charged and ev.id not in refused, "not on any price list: nothing to charge"
                continue
            amount = quantize(price * Decimal(str(ev.data.get("quantity") or 1)))
            if amount == 0:
                assert ev.id not in charged and ev.id not in refused, "a free service posts nothing"
                continue
        elif ev.id in bills:
            price = price_at(f.log, ev.counterparty, "quote", ev.at)
            assert price is not None
            amount = price
            assert bills[ev.id].amount == amount
        else:
            continue
        if ev.id in charged:
            assert charged[ev.id].amount == amount, (ev, charged[ev.id])
        else:
            assert ev.id in refused, ("priced, so either charged or refused", ev)
            assert refused[ev.id].amount == amount


# -- (h) every money decision is posted ---------------------------------------------------------------
@PROPERTY
@given(histories, duplicates, accounts)
def test_every_bill_and_sanction_decision_is_posted_in_full(history: Any, again: list[int], which: int) -> None:
    f = ledger_of(history, again, which)
    for d in f.decisions.values():
        mine = [p for p in f.postings if p.decision == d.id]
        if d.action in ("bill", "fee", "surcharge"):
            assert d.amount is not None
            assert sum((p.amount for p in mine), ZERO) == d.amount, (d, mine)
            assert all(p.memo == d.action for p in mine)
            assert d.action != "bill" or len(mine) == 1
        else:
            assert mine == [], ("only bills and sanctions post", d)
    assert not set(d.event for d in f.decided("refused")) & set(d.event for d in f.decided("bill"))


# -- (i) top-up invoices ------------------------------------------------------------------------------
@PROPERTY
@given(histories, duplicates, accounts)
@example(history=[[("pay", 1, "1200.00"), ("no_show", 1, None)]], again=[], which=0)  # a fee: 1200 -> 900
def test_each_fall_below_the_low_balance_issues_one_top_up_invoice(history: Any, again: list[int],
                                                                   which: int) -> None:
    """ "each fall below this issues one invoice to top up; the next one only after the balance has
    recovered above it" — whatever made it fall: a service, a bill or a sanction."""
    f = ledger_of(history, again, which)
    terms = f.terms
    invoices = f.decided("top_up_invoice")
    if terms is None or terms.mode != "prepaid":
        assert invoices == [], "top-up invoices are for prepaid accounts"
        return
    assert terms.low_balance is not None
    low = terms.low_balance
    for cp in f.states:
        mine = sorted((d for d in invoices if d.counterparty == cp), key=lambda d: d.at)
        asked = {d.event for d in mine}
        assert len(asked) == len(mine), "one invoice per event at most"
        balance = ZERO
        after: list[tuple[int, str, Decimal]] = []  # (at, event, balance after the event's postings)
        for ev_id, at, group in f.by_event(cp):
            before = balance
            balance = [after_ for _, _, after_ in running(group, before)][-1]
            after.append((at, ev_id, balance))
            if before >= low > balance:
                assert ev_id in asked, (f"{cp}: the balance fell below {low} at {ev_id} "
                                        f"({before} -> {balance}) and no top-up invoice was issued")
        for d in mine:
            found = [b for at, ev_id, b in after if ev_id == d.event]
            assert found and found[-1] < low, ("a top-up invoice only when the balance is low", d)
        for first, second in pairwise(mine):
            assert any(first.at < at < second.at and b >= low for at, _, b in after), (
                "a second invoice only after the balance recovered", first, second)


# -- (k) no account kept in advance ------------------------------------------------------------------
@PROPERTY
@given(histories, duplicates)
@example(history=[[("quote", 1, "o1"), ("quote", 1, "o1"), ("pay", 1, "150.00")]], again=[])  # a quota bill
def test_without_an_account_nothing_is_held_or_taken_from_a_balance(history: Any, again: list[int]) -> None:
    """Where no rulebook keeps an account, services, bills and sanctions are owed and payments settle
    what is owed: no posting touches a balance, which stays zero."""
    f = ledger_of(history, again, NO_ACCOUNT)
    assert f.terms is None
    held = [p for p in f.postings if BALANCE in (p.debit, p.credit)]
    assert held == [], "no account is kept in advance, so nothing is held on or charged to a balance"
    for cp, st_ in f.states.items():
        assert st_.account is None or st_.account.balance == ZERO, cp
    assert all(d.action != "refused" for d in f.decisions.values()), "nothing is refused without a limit"


# -- (j) the same through the use cases: chunks, late events, duplicates, replay ----------------------
SERVICE = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def stored_ledger(store: MemoryStore, keys: Iterable[str]) -> set[tuple[Any, ...]]:
    with store.read():
        return {(p.id, p.counterparty, p.at, p.n, p.debit, p.credit, p.amount, p.event, p.decision, p.service,
                 p.memo) for key in keys for p in store.postings(key)}


def live_decisions(store: MemoryStore) -> dict[str, tuple[Any, ...]]:
    with store.read():
        rows = store.decisions()
    return {r["id"]: (r["action"], r["status"], r["event"], r["amount"]) for r in rows if r["status"] != "superseded"}


@SERVICE
@given(histories, duplicates, accounts, st.randoms(use_true_random=False), st.lists(st.integers(1, 30), min_size=1))
def test_ingesting_in_any_order_and_chunks_posts_the_ledger_one_fold_does(
        history: Any, again: list[int], which: int, rnd: random.Random, sizes: list[int]) -> None:
    """Late events (a payment, a price change arriving after what followed it) refold their client and
    post its ledger anew; a re-sent event posts nothing twice; replay posts the same ledger again."""
    sent = arrival(build(history), again, rnd)
    store = MemoryStore()
    workspace.init(store, "en", "UTC", 0)
    rulebooks.load(store, BOOKS[which], 0)
    start, turn, late = 0, 0, False
    latest: dict[str, int] = {}
    while start < len(sent):
        size = sizes[turn % len(sizes)]
        chunk = [validate(envelope) for envelope in sent[start:start + size]]
        late = late or any(ev.at < latest.get(ev.counterparty, ev.at) for ev in chunk)
        for ev in chunk:
            latest[ev.counterparty] = max(ev.at, latest.get(ev.counterparty, ev.at))
        ingest.ingest(store, [("history", n, ev) for n, ev in enumerate(chunk, start + 1)])
        start, turn = start + size, turn + 1
    expected = fold(BOOKS[which], stored(sent))
    keys = sorted(expected.states)
    want = facts(expected)[0]
    assert stored_ledger(store, keys) == want
    assert live_decisions(store) == {d.id: (d.action, d.status, d.event, fmt(d.amount))
                                     for d in expected.decisions.values()}
    again_report = ingest.ingest(store, [("again", n, validate(e)) for n, e in enumerate(sent, 1)])
    assert again_report.stored == 0
    assert stored_ledger(store, keys) == want, "the same file again posts nothing"
    replay.replay(store)
    assert stored_ledger(store, keys) == want
    event(f"chunks: {min(turn, 5)}{'+' if turn >= 5 else ''}")
    event(f"late arrivals: {'yes' if late else 'no'}")
