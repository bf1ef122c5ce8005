"""Use cases through the Store port, on memory, SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firmly.domain.clock import parse_instant
from firmly.domain.errors import Conflict, FirmlyError, NotFound
from firmly.domain.ports import Store
from firmly.domain.rulebook import parse_rulebook
from firmly.service import clock, ingest, queries, replay, review, rulebooks, simulate

EXAMPLE = Path(__file__).resolve().parents[2] / "src" / "firmly" / "examples" / "clinic-en"


def _load(store: Store, text: str | None = None) -> None:
    book = parse_rulebook(text or (EXAMPLE / "rulebook.yaml").read_text(), "rulebook.yaml")
    rulebooks.load(store, book, 0)


def _ingest(store: Store, name: str) -> ingest.IngestReport:
    return ingest.ingest(store, ingest.read_file(EXAMPLE / name))


def _everything(store: Store) -> str:
    with store.read():
        decisions = store.decisions()
        keys = [r.key for r in store.counterparties()]
    pages = [queries.counterparty(store, k) for k in keys]
    return json.dumps([decisions, pages], sort_keys=True, default=str)


def test_ingest_is_idempotent_and_refuses_a_reused_id(store: Store, tmp_path: Path) -> None:
    _load(store)
    first = _ingest(store, "events.jsonl")
    assert (first.stored, first.duplicates, first.rejected) == (29, 0, [])
    again = _ingest(store, "events.jsonl")
    assert (again.stored, again.duplicates, again.rejected) == (0, 29, [])
    changed = tmp_path / "changed.jsonl"
    line = json.loads((EXAMPLE / "events.jsonl").read_text().splitlines()[-1])
    line["data"]["appointment"] = "other"
    changed.write_text(json.dumps(line) + "\n")
    before = _everything(store)
    refused = ingest.ingest(store, ingest.read_file(changed))
    assert refused.stored == 0 and [r.field for r in refused.rejected] == ["id"]
    assert line["id"] in str(refused.rejected[0])
    assert _everything(store) == before


def test_bad_lines_are_reported_and_good_ones_stored(store: Store, tmp_path: Path) -> None:
    _load(store)
    bad = tmp_path / "mixed.jsonl"
    bad.write_text("\n".join([
        json.dumps({"id": "ok", "type": "appointment.no_show", "counterparty": "dina",
                    "occurred_at": "2026-05-10T10:00:00+01:00", "data": {"appointment": "d1"}}),
        "{not json",
        json.dumps({"id": "no-offset", "type": "appointment.no_show", "counterparty": "dina",
                    "occurred_at": "2026-05-10 10:00", "data": {"appointment": "d1"}}),
    ]) + "\n")
    report = ingest.ingest(store, ingest.read_file(bad))
    assert report.stored == 1
    assert [(r.line, r.field) for r in report.rejected] == [(2, "json"), (3, "occurred_at")]
    assert queries.counterparty(store, "dina")["rules"]["no_show"]["broken"] == 1


def test_csv_events_are_read_with_their_fields(store: Store, tmp_path: Path) -> None:
    _load(store)
    csv_file = tmp_path / "events.csv"
    csv_file.write_text(
        "id,type,counterparty,occurred_at,appointment,starts_at\n"
        "c1,appointment.booked,eva,2026-05-01T10:00:00+01:00,e1,2026-05-05T10:00:00+01:00\n"
        "c2,appointment.cancelled,eva,2026-05-05T06:00:00+01:00,e1,\n"
        "c3,appointment.booked,eva,2026-05-01T10:00:00+01:00,,\n")
    report = ingest.ingest(store, ingest.read_file(csv_file))
    assert report.stored == 2
    assert [(r.line, r.field) for r in report.rejected] == [(4, "data.appointment")]
    assert queries.counterparty(store, "eva")["rules"]["late_change"]["broken"] == 1


def test_replay_rebuilds_byte_identical_state(store: Store) -> None:
    _load(store)
    _ingest(store, "events.jsonl")
    clock.tick(store, parse_instant("2026-06-10T00:00:00+01:00"))
    _ingest(store, "late.jsonl")
    before = _everything(store)
    replay.replay(store)
    assert _everything(store) == before


def test_a_late_event_supersedes_what_it_changes(store: Store) -> None:
    _load(store)
    _ingest(store, "events.jsonl")
    _ingest(store, "late.jsonl")
    rows = queries.decisions(store, counterparty="max", rule="no_show")
    assert [(r["action"], r["status"]) for r in rows] == [
        ("feedback", "applied"), ("feedback", "superseded"), ("warning", "applied"), ("warning", "superseded"),
        ("fee", "applied")]


def test_review_acts_change_status_and_survive_replay(store: Store) -> None:
    _load(store)
    _ingest(store, "events.jsonl")
    clock.tick(store, parse_instant("2026-06-10T00:00:00+01:00"))
    proposal = review.pending(store)[0]
    assert queries.counterparty(store, "tom")["status"] == "restricted"
    with pytest.raises(FirmlyError):
        review.act(store, proposal["id"], "approve", "  ", "ops")
    with pytest.raises(FirmlyError):
        review.act(store, proposal["id"], "soften", "too harsh", "ops", step=5)
    with pytest.raises(NotFound):
        review.act(store, "d-nothing", "approve", "why", "ops")
    done = review.act(store, proposal["id"], "approve", "five in five weeks", "ops")
    assert done["status"] == "approved"
    assert queries.counterparty(store, "tom")["status"] == "suspended"
    with pytest.raises(Conflict):
        review.act(store, proposal["id"], "dismiss", "changed my mind", "ops")
    replay.replay(store)
    assert queries.counterparty(store, "tom")["status"] == "suspended"
    assert review.pending(store) == []
    [entry] = review.log(store)
    assert (entry["decision"], entry["act"], entry["author"], entry["reason"]) == (
        proposal["id"], "approve", "ops", "five in five weeks")


def test_soften_applies_a_lower_step(store: Store) -> None:
    _load(store)
    _ingest(store, "events.jsonl")
    proposal = review.pending(store)[0]
    review.act(store, proposal["id"], "soften", "a first long absence", "ops", step=2)
    rows = queries.decisions(store, counterparty="tom", rule="late_change")
    assert [r["status"] for r in rows if r["id"] == proposal["id"]] == ["softened"]
    steps = [(r["action"], r["status"]) for r in rows if r["action"] != "reminder"]
    assert steps[-1] == ("warning", "applied")  # the softened step, applied at the engine clock
    assert queries.counterparty(store, "tom")["status"] == "restricted"  # no suspension


def test_simulation_stores_nothing_and_finds_more_fees(store: Store) -> None:
    _load(store)
    _ingest(store, "events.jsonl")
    before = _everything(store)
    stricter = parse_rulebook((EXAMPLE / "stricter.yaml").read_text(), "stricter.yaml")
    result = simulate.simulate(store, stricter)
    assert result["totals"]["fee"]["simulated"] > result["totals"]["fee"]["current"]
    assert [c["key"] for c in result["counterparties"]] == ["ann"]
    assert _everything(store) == before


def test_a_first_rulebook_governs_events_stored_before_it(store: Store) -> None:
    _ingest(store, "events.jsonl")
    assert queries.counterparty(store, "tom")["rules"] == {}
    _load(store)
    assert queries.counterparty(store, "tom")["rules"]["late_change"]["broken"] == 5


def test_a_version_with_other_content_is_refused(store: Store) -> None:
    _load(store)
    text = (EXAMPLE / "rulebook.yaml").read_text().replace("12h", "10h")
    with pytest.raises(Conflict):
        _load(store, text)
    _load(store)  # the same text again is a no-op


def test_rule_ids_must_be_unique_across_rulebooks(store: Store) -> None:
    _load(store)
    other = (EXAMPLE / "rulebook.yaml").read_text().replace("rulebook: smile", "rulebook: other")
    with pytest.raises(FirmlyError, match="late_change"):
        _load(store, other)


def test_unknown_counterparty_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="nobody"):
        queries.counterparty(store, "nobody")
