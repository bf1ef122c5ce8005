"""`event.retracted` and `by: unknown` through the use cases, on memory, SQLite and PostgreSQL: a withdrawn
no-show's strike is superseded and stays so after a replay; a cancellation nobody is known to have made is
never a strike."""

from __future__ import annotations

from typing import Any

from firmly.domain.ports import Store
from firmly.domain.rulebook import parse_rulebook
from firmly.service import ingest, queries, replay, rulebooks, simulate
from tests.contract.test_use_cases import EXAMPLE


def _event(eid: str, kind: str, at: str, **data: Any) -> dict[str, Any]:
    return {"id": eid, "type": kind, "counterparty": "jo", "occurred_at": at, "data": data}


def _send(store: Store, *raws: dict[str, Any]) -> ingest.IngestReport:
    report = ingest.ingest(store, ingest.parsed("test", list(raws)))
    assert not report.rejected, report.rejected
    return report


def _load(store: Store) -> None:
    rulebooks.load(store, parse_rulebook((EXAMPLE / "rulebook.yaml").read_text(), "rulebook.yaml"), 0)


def test_a_retracted_no_show_is_folded_away_and_stays_so_after_replay(store: Store) -> None:
    _load(store)
    _send(store, _event("b1", "appointment.booked", "2026-06-01T09:00:00+00:00", appointment="a1",
                        starts_at="2026-06-05T10:00:00+00:00"),
          _event("ns1", "appointment.no_show", "2026-06-05T11:00:00+00:00", appointment="a1"))
    strike = [r for r in queries.decisions(store, counterparty="jo", rule="no_show") if r["action"] == "feedback"]
    assert [r["status"] for r in strike] == ["applied"]
    assert queries.counterparty(store, "jo")["rules"]["no_show"]["strikes"] == 1

    _send(store, _event("ns1-x", "event.retracted", "2026-06-05T12:00:00+00:00", event="ns1",
                        reason="the patient was in the waiting room"))
    after = {r["id"]: r["status"] for r in queries.decisions(store, counterparty="jo")}
    assert after[strike[0]["id"]] == "superseded"
    assert queries.counterparty(store, "jo")["rules"]["no_show"]["strikes"] == 0
    before_replay = queries.decisions(store, counterparty="jo")
    replay.replay(store)
    assert queries.decisions(store, counterparty="jo") == before_replay
    assert queries.counterparty(store, "jo")["rules"]["no_show"]["strikes"] == 0
    what_if = simulate.simulate(store, parse_rulebook((EXAMPLE / "rulebook.yaml").read_text(), "rulebook.yaml"))
    assert "feedback" not in what_if["totals"] or what_if["totals"]["feedback"]["simulated"] == 0

    # A retraction of the retraction restores the fact
    _send(store, _event("ns1-x-x", "event.retracted", "2026-06-05T13:00:00+00:00", event="ns1-x"))
    assert queries.counterparty(store, "jo")["rules"]["no_show"]["strikes"] == 1


def test_a_late_cancellation_by_unknown_is_no_strike(store: Store) -> None:
    _load(store)
    _send(store, _event("b1", "appointment.booked", "2026-06-01T09:00:00+00:00", appointment="a1",
                        starts_at="2026-06-05T10:00:00+00:00"),
          _event("c1", "appointment.cancelled", "2026-06-05T08:00:00+00:00", appointment="a1", by="unknown"),
          _event("b2", "appointment.booked", "2026-06-06T09:00:00+00:00", appointment="a2",
                 starts_at="2026-06-08T10:00:00+00:00"),
          _event("c2", "appointment.cancelled", "2026-06-08T08:00:00+00:00", appointment="a2"))
    ladder = [(r["event"], r["action"]) for r in queries.decisions(store, counterparty="jo", rule="late_change")
              if r["action"] != "reminder"]
    assert ladder == [("c2", "feedback")]  # the one by the client (the default), not the one by unknown
    reminders = [r for r in queries.decisions(store, counterparty="jo") if r["action"] == "reminder"
                 and r["status"] == "scheduled"]
    assert reminders == []  # the cancelled visit is not reminded of, whoever cancelled it
