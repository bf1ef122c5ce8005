"""Replay decides as live processing did, whatever came before: later rulebook versions, late events, events
dated ahead of the clock, and events stored before today's checks with values the door now refuses. On
memory, SQLite and PostgreSQL alike."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from firmly.domain.clock import parse_instant
from firmly.domain.events import Event, digest, validate
from firmly.domain.ports import Store
from firmly.domain.rulebook import parse_rulebook
from firmly.service import accounts, clock, ingest, replay, rulebooks

EXAMPLE = Path(__file__).resolve().parents[2] / "src" / "firmly" / "examples" / "clinic-en"
CLINIC = (EXAMPLE / "rulebook.yaml").read_text()
WALL = parse_instant("2026-07-01T00:00:00+00:00")


def _load(store: Store, text: str, version: str | None = None) -> rulebooks.Loaded:
    if version is not None:
        text = text.replace('version: "2026-05"', f'version: "{version}"')
    return rulebooks.load(store, parse_rulebook(text, "rulebook.yaml"), WALL)


def _ingest(store: Store, *envelopes: dict[str, Any], now: int = WALL) -> ingest.IngestReport:
    report = ingest.ingest(store, ingest.parsed("events", list(envelopes)), now=now)
    assert report.rejected == []
    return report


def _example(store: Store) -> None:
    report = ingest.ingest(store, ingest.read_file(EXAMPLE / "events.jsonl"), now=WALL)
    assert report.stored == 29


def _versions(store: Store, counterparty: str) -> dict[str, str]:
    with store.read():
        return {r["event"]: r["version"] for r in store.decisions(counterparty=counterparty)}


def test_a_second_version_leaves_the_decisions_made_at_the_clock_as_they_were(store: Store) -> None:
    # tom's last cancellation (2026-06-04T04:00Z) set the engine clock; v2 is loaded after it, with no
    # effective_from: it governs what happens after the clock, not the decision already made at it.
    _load(store, CLINIC)
    _example(store)
    assert _versions(store, "tom")["t5-cancel"] == "smile@2026-05"
    loaded = _load(store, CLINIC, "v2")
    assert not loaded.replayed  # nothing from its start on was decided yet: nothing to decide again
    with store.read():
        v2 = next(r for r in store.rulebooks() if r.version == "v2")
        assert v2.effective_from == parse_instant("2026-06-04T04:00:00+00:00") + 1
    _ingest(store, {"id": "ann-late", "type": "appointment.cancelled", "counterparty": "ann",
                    "occurred_at": "2026-06-01T09:00:00+01:00", "data": {"appointment": "a9"}})
    assert replay.replay(store).rewritten == 0
    assert _versions(store, "tom")["t5-cancel"] == "smile@2026-05"
    # and what happens after the load is decided under v2, live and in replay alike
    _ingest(store, {"id": "t6-book", "type": "appointment.booked", "counterparty": "tom",
                    "occurred_at": "2026-06-10T09:00:00+01:00",
                    "data": {"appointment": "t6", "starts_at": "2026-06-12T10:00:00+01:00"}},
            {"id": "t6-cancel", "type": "appointment.cancelled", "counterparty": "tom",
             "occurred_at": "2026-06-12T08:00:00+01:00", "data": {"appointment": "t6"}})
    assert _versions(store, "tom")["t6-cancel"] == "smile@v2"
    assert replay.replay(store).rewritten == 0


def test_a_version_in_force_from_a_past_moment_decides_the_events_since_again(store: Store) -> None:
    _load(store, CLINIC)
    _example(store)
    clock.tick(store, parse_instant("2026-06-10T00:00:00+01:00"), now=WALL)
    stricter = CLINIC.replace("min_notice: 12h", "min_notice: 36h").replace(
        'version: "2026-05"', 'version: "2026-05-20"\neffective_from: "2026-05-20T00:00:00+01:00"')
    loaded = rulebooks.load(store, parse_rulebook(stricter, "stricter.yaml"), WALL)
    assert loaded.replayed
    versions = _versions(store, "ann")
    assert versions["a2-book"] == "smile@2026-05"  # its reminders, before the new version
    assert versions["a3-cancel"] == "smile@2026-05-20"  # 34 hours' notice: kept before, broken now
    assert replay.replay(store).rewritten == 0


def test_a_version_loaded_while_an_event_is_dated_ahead_of_the_clock_decides_it(store: Store) -> None:
    # An event dated a little ahead of the wall clock (within the horizon) is decided when it comes, under the
    # version then in force; a version loaded before its moment has come governs it, so the load decides it again.
    _load(store, CLINIC)
    _example(store)
    now = parse_instant("2026-06-10T00:00:00+00:00")
    _ingest(store, {"id": "k9-book", "type": "appointment.booked", "counterparty": "kim",
                    "occurred_at": "2026-06-10T05:00:00+00:00",
                    "data": {"appointment": "k9", "starts_at": "2026-06-10T09:00:00+00:00"}},
            {"id": "k9-cancel", "type": "appointment.cancelled", "counterparty": "kim",
             "occurred_at": "2026-06-10T06:00:00+00:00", "data": {"appointment": "k9"}}, now=now)
    assert _versions(store, "kim")["k9-cancel"] == "smile@2026-05"
    loaded = _load(store, CLINIC, "v2")
    assert loaded.replayed
    assert _versions(store, "kim")["k9-cancel"] == "smile@v2"
    assert replay.replay(store).rewritten == 0


STUDIO = """\
rulebook: desk
version: "1"
title: Desk
locale: en
currency: EUR
timezone: Europe/Berlin
applies_to: [client]
account:
  mode: prepaid
  low_balance: "10.00"
  top_up: "300.00"
  credit_limit: "1000.00"
prices:
  consultation: {title: Consultation, price: "120.00"}
rules:
  late_grace:
    title: A payment a day late is forgiven
    why: Anyone can miss a day.
    kind: grace
    event: grace.requested
    max_late: 24h
"""


def _stored(i: str, type_: str, at: str, **data: Any) -> Event:
    """An event as an older version stored it: written into the log without today's checks."""
    envelope = {"id": i, "type": type_, "counterparty": "eve", "occurred_at": at, "data": data}
    return Event(i, type_, "eve", at, parse_instant(at), data, digest(envelope))


def test_values_stored_before_the_checks_are_skipped_with_a_reason(store: Store,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(Exception, match="at most 100 years"):  # the door refuses them today
        validate({"id": "x", "type": "grace.requested", "counterparty": "eve",
                  "occurred_at": "2026-03-01T10:00:00+01:00", "data": {"text": "sorry", "late_by": "40000d"}})
    rulebooks.load(store, parse_rulebook(STUDIO, "desk.yaml"), WALL)
    with store.write():
        store.append_events([
            _stored("up", "counterparty.upserted", "2026-03-01T09:00:00+01:00", kind="client", name="Eve",
                    prices={"consultation": "٩٠.٠٠"}),  # Arabic-Indic digits: the rulebook's price holds
            _stored("pay-bad", "payment.received", "2026-03-01T10:00:00+01:00", amount="١٢٠.٠٠"),
            _stored("pay-good", "payment.received", "2026-03-01T10:01:00+01:00", amount="100.00"),
            _stored("svc-nan", "service.rendered", "2026-03-01T11:00:00+01:00", service="consultation",
                    quantity="NaN"),
            _stored("svc-good", "service.rendered", "2026-03-01T11:01:00+01:00", service="consultation"),
            _stored("grace-far", "grace.requested", "2026-03-02T10:00:00+01:00", text="Sorry, I paid late.",
                    late_by="40000d"),
            _stored("grace-near", "grace.requested", "2026-03-02T10:01:00+01:00", text="Sorry, I paid late.",
                    late_by="3h"),
        ])
    with caplog.at_level(logging.WARNING, logger="firmly.engine"):
        report = replay.replay(store)
    assert report.events == 7
    reasons = caplog.text
    assert "event pay-bad: amount skipped" in reasons
    assert "event svc-nan: quantity skipped" in reasons
    assert "event grace-far: late_by skipped: must be at most 100 years" in reasons
    assert "event up: prices.consultation skipped" in reasons
    # the good events beside them are decided: 100.00 paid, one consultation at the rulebook's 120.00
    assert accounts.show(store, "eve")["balance"] == "-20.00"
    with store.read():
        graces = {r["event"]: r["status"] for r in store.decisions(counterparty="eve", rule="late_grace")}
    assert graces == {"grace-far": "proposed", "grace-near": "applied"}  # lateness unknown: a person decides
    assert replay.replay(store).rewritten == 0
    assert Decimal(accounts.show(store, "eve")["balance"]) == Decimal("-20.00")
