"""The prepaid ledger through the use cases, on memory, SQLite and PostgreSQL alike: ingest posts it,
a re-ingest posts nothing twice, a late payment refolds and reposts it, replay rebuilds it unchanged."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from firmly.domain.ledger import statement, trial_balance
from firmly.domain.ports import Store
from firmly.domain.rulebook import parse_rulebook
from firmly.service import accounts, ingest, replay, rulebooks

RULEBOOK = """\
rulebook: prepaid
version: "2026-01"
title: Key clients on a prepaid account
locale: en
currency: RUB
timezone: Europe/Moscow
applies_to: [client]

ladders:
  firm:
    window: 90d
    steps:
      - feedback
      - warning
      - fee: "2000.00"

account:
  mode: prepaid
  low_balance: "2000.00"
  top_up: "10000.00"
  credit_limit: "0.00"

prices:
  consultation: {title: Consultation, price: "1500.00"}
  quote: {title: Quote, price: "800.00"}
  revision: {title: Revision, price: "1200.00"}

rules:
  single_channel:
    title: Tasks come through the shared mailbox
    why: Then no task is lost.
    kind: channel
    allowed: ["email:orders"]
    ladder: firm

  quote_revisions:
    title: Two quotes per order are free
    why: Each quote is an engineer's work.
    kind: quota
    event: request.received
    when: data.topic == "quote"
    max: 2
    per: order
    bill: quote
"""


def ev(id: str, type: str, counterparty: str, day: int, hour: int = 11, **data: Any) -> dict[str, Any]:
    return {"id": id, "type": type, "counterparty": counterparty,
            "occurred_at": f"2026-01-{day:02d}T{hour:02d}:00:00+03:00", "data": data}


def quote(n: int, day: int) -> dict[str, Any]:
    return ev(f"mega-quote-{n}", "request.received", "mega", day, 15, request=f"rq-{n}", channel="email:orders",
              topic="quote", order="o-1")


# mega pays 6000.00 and has its own consultation price (1000.00): 3 consultations (3000), the third quote
# on one order billed (800), a revision (1200) leaves 1000.00 (under 2000: a top-up invoice), the second
# revision (1200) would overdraw and is refused, the last consultation takes the balance to 0.00.
EVENTS = [
    ev("cp-mega", "counterparty.upserted", "mega", 9, 9, kind="client", name="Mega",
       prices={"consultation": "1000.00"}),
    ev("cp-alfa", "counterparty.upserted", "alfa", 9, 9, kind="client", name="Alfa"),
    ev("alfa-pay", "payment.received", "alfa", 10, 10, amount="5000.00"),
    ev("alfa-cons", "service.rendered", "alfa", 11, service="consultation"),
    ev("alfa-work", "work.logged", "alfa", 20, 18, minutes=60, in_tariff=True),
    ev("mega-pay", "payment.received", "mega", 10, 10, amount="6000.00"),
    *(ev(f"mega-cons-{n}", "service.rendered", "mega", 11 + n, service="consultation") for n in (1, 2, 3)),
    *(quote(n, 14 + n) for n in (1, 2, 3)),
    ev("mega-rev-1", "service.rendered", "mega", 18, service="revision"),
    ev("mega-rev-2", "service.rendered", "mega", 20, service="revision"),
    ev("mega-cons-4", "service.rendered", "mega", 21, service="consultation"),
    ev("mega-work", "work.logged", "mega", 21, 18, minutes=600, in_tariff=False),
]
# A payment made on the 19th that reaches firmly only after all of the above.
LATE = [ev("mega-pay-late", "payment.received", "mega", 19, 10, amount="3000.00")]


def write(path: Path, envelopes: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in envelopes), encoding="utf-8")
    return path


def run(store: Store, path: Path) -> ingest.IngestReport:
    report = ingest.ingest(store, ingest.read_file(path))
    assert report.rejected == []
    return report


def money_decisions(store: Store, key: str) -> list[tuple[str, str, str, str | None]]:
    with store.read():
        rows = store.decisions(counterparty=key)
    return [(r["action"], r["event"], r["status"], r["amount"]) for r in rows
            if r["action"] in ("bill", "refused", "top_up_invoice", "fee")]


def check_books(store: Store, keys: list[str]) -> None:
    """The statement of the stored postings is what the stored state's running figures say, and the
    ledger balances."""
    with store.read():
        states = store.load_states(keys)
        everything = [p for key in keys for p in store.postings(key)]
        for key in keys:
            account = states[key].account
            assert account is not None
            balance, due, _ = statement(store.postings(key))
            assert (balance, due) == (account.balance, account.due), key
    assert sum(trial_balance(everything).values(), Decimal(0)) == 0
    assert len({p.id for p in everything}) == len(everything)


def test_the_ledger_is_posted_once_reposted_after_a_late_payment_and_rebuilt_by_replay(
        store: Store, tmp_path: Path) -> None:
    rulebooks.load(store, parse_rulebook(RULEBOOK, "prepaid.yaml"), 0)
    events_file = write(tmp_path / "events.jsonl", EVENTS)
    first = run(store, events_file)
    assert (first.stored, first.duplicates) == (len(EVENTS), 0)

    mega = accounts.show(store, "mega")
    assert (mega["balance"], mega["due"], mega["currency"]) == ("0.00", "0.00", "RUB")
    assert [(e["kind"], e["amount"], e["event"], e["memo"]) for e in mega["entries"]] == [
        ("credit", "6000.00", "mega-pay", "payment"),
        ("debit", "1000.00", "mega-cons-1", "service"),  # its own price, not the list's 1500.00
        ("debit", "1000.00", "mega-cons-2", "service"),
        ("debit", "1000.00", "mega-cons-3", "service"),
        ("debit", "800.00", "mega-quote-3", "bill"),
        ("debit", "1200.00", "mega-rev-1", "service"),
        ("debit", "1000.00", "mega-cons-4", "service"),
    ]
    assert money_decisions(store, "mega") == [
        ("bill", "mega-quote-3", "applied", "800.00"),
        ("top_up_invoice", "mega-rev-1", "applied", "10000.00"),
        ("refused", "mega-rev-2", "applied", "1200.00"),
    ]
    assert accounts.show(store, "alfa")["balance"] == "3500.00"
    check_books(store, ["mega", "alfa"])

    # The same file again: every event a duplicate, nothing posted twice.
    again = run(store, events_file)
    assert (again.stored, again.duplicates) == (0, len(EVENTS))
    assert accounts.show(store, "mega") == mega

    # A payment from before the refusal arrives late: mega's history is refolded and its ledger posted anew.
    late_file = write(tmp_path / "late.jsonl", LATE)
    assert run(store, late_file).stored == 1
    after = accounts.show(store, "mega")
    # 1000.00 after the first revision, + 3000.00 = 4000.00: the second revision (1200.00) is now
    # charged, then the last consultation (1000.00): 1800.00, under 2000.00 again.
    assert after["balance"] == "1800.00"
    assert [(e["kind"], e["amount"], e["event"]) for e in after["entries"]][5:] == [
        ("debit", "1200.00", "mega-rev-1"),
        ("credit", "3000.00", "mega-pay-late"),
        ("debit", "1200.00", "mega-rev-2"),
        ("debit", "1000.00", "mega-cons-4"),
    ]
    assert {e["id"] for e in mega["entries"]} < {e["id"] for e in after["entries"]}, "posting ids are stable"
    assert money_decisions(store, "mega") == [
        ("bill", "mega-quote-3", "applied", "800.00"),
        ("top_up_invoice", "mega-rev-1", "applied", "10000.00"),
        ("refused", "mega-rev-2", "superseded", "1200.00"),  # kept for the audit, no longer counted
        ("top_up_invoice", "mega-cons-4", "applied", "10000.00"),  # recovered above 2000.00, fell again
    ]
    assert accounts.show(store, "alfa")["balance"] == "3500.00", "only the late event's client is refolded"
    check_books(store, ["mega", "alfa"])
    assert run(store, late_file).duplicates == 1
    assert accounts.show(store, "mega") == after

    # Replay derives the same ledger and the same decisions from the log.
    with store.read():
        decisions = store.decisions()
    alfa = accounts.show(store, "alfa")
    report = replay.replay(store)
    assert report.rewritten == 0
    assert accounts.show(store, "mega") == after
    assert accounts.show(store, "alfa") == alfa
    with store.read():
        assert store.decisions() == decisions
    check_books(store, ["mega", "alfa"])
