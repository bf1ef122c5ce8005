"""Personal exceptions through the service, on memory, SQLite and PostgreSQL alike: set, listed, ended, applied
from an earlier time (a refold), refused with a clear message; replay reproduces them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firmly.domain.clock import parse_instant
from firmly.domain.errors import Conflict, FirmlyError, NotFound
from firmly.domain.ports import Store
from firmly.domain.rulebook import parse_rulebook
from firmly.service import clock, exceptions, ingest, queries, replay, rulebooks

EXAMPLE = Path(__file__).resolve().parents[2] / "src" / "firmly" / "examples" / "leniency-ru"


def _ready(store: Store) -> None:
    rulebooks.load(store, parse_rulebook((EXAMPLE / "rulebook.yaml").read_text(), "rulebook.yaml"), 0)
    ingest.ingest(store, ingest.read_file(EXAMPLE / "events.jsonl"))
    clock.tick(store, parse_instant("2026-03-10T00:00:00+03:00"))


def _actions(store: Store, key: str) -> list[tuple[str, str, str]]:
    return [(d["action"], d["status"], d["event"]) for d in queries.decisions(store, key, "missed_visit")]


def test_an_exception_set_now_exempts_what_comes_while_it_holds(store: Store) -> None:
    _ready(store)
    row = exceptions.set_exception(store, "ivanova", "missed_visit", "2026-04-10T00:00:00+03:00", "паводок", "anna")
    assert (row["state"], row["from"], row["by"]) == ("active", "2026-03-09T21:00:00+00:00", "anna")
    ingest.ingest(store, ingest.read_file(EXAMPLE / "later.jsonl"))
    assert _actions(store, "ivanova") == [("fee", "applied", "iv-ns-1"), ("exempt", "applied", "iv-ns-2"),
                                          ("warning", "applied", "iv-ns-3")]
    before = json.dumps(queries.decisions(store), sort_keys=True, default=str)
    replay.replay(store)
    assert json.dumps(queries.decisions(store), sort_keys=True, default=str) == before


def test_an_exception_from_an_earlier_time_refolds_with_a_note(store: Store) -> None:
    _ready(store)
    exceptions.set_exception(store, "ivanova", "missed_visit", "2026-04-10T00:00:00+03:00", "паводок", "anna",
                             start="2026-03-01T00:00:00+03:00")
    # both about the same no-show, at the same time: their order is not the point
    assert sorted(_actions(store, "ivanova")) == [("exempt", "applied", "iv-ns-1"), ("fee", "superseded", "iv-ns-1")]
    (exempt,) = [d for d in queries.decisions(store, "ivanova", "missed_visit") if d["action"] == "exempt"]
    assert "применено с более раннего времени" in exempt["explanation"]
    assert queries.counterparty(store, "ivanova")["rules"]["missed_visit"]["strikes"] == 0


def test_an_ended_exception_no_longer_holds_and_cannot_end_twice(store: Store) -> None:
    _ready(store)
    row = exceptions.set_exception(store, "ivanova", "missed_visit", "2026-04-10T00:00:00+03:00", "паводок", "anna")
    ended = exceptions.end_exception(store, row["id"], "дороги открыли", "anna")
    assert ended["state"] == "ended" and ended["ended"]["reason"] == "дороги открыли"
    ingest.ingest(store, ingest.read_file(EXAMPLE / "later.jsonl"))
    assert [a for a, _, _ in _actions(store, "ivanova")] == ["fee", "warning", "fee"]
    with pytest.raises(Conflict):
        exceptions.end_exception(store, row["id"], "again", "anna")
    assert [r["id"] for r in exceptions.listing(store)] == [row["id"]]


@pytest.mark.parametrize(("key", "rule", "until", "reason", "message"), [
    ("nobody", "missed_visit", "2026-04-10T00:00:00+03:00", "r", "no counterparty 'nobody'"),
    ("ivanova", "late", "2026-04-10T00:00:00+03:00", "r", "its rules: forgive_on_request, missed_visit"),
    ("ivanova", "missed_visit", "2026-03-01T00:00:00+03:00", "r", "until: must be later"),
    ("ivanova", "missed_visit", "next week", "r", "until:"),
    ("ivanova", "missed_visit", "2026-04-10T00:00:00+03:00", " ", "--reason is required"),
])
def test_a_wrong_exception_is_refused_in_words(store: Store, key: str, rule: str, until: str, reason: str,
                                               message: str) -> None:
    _ready(store)
    with pytest.raises(FirmlyError) as caught:
        exceptions.set_exception(store, key, rule, until, reason, "anna")
    assert message in str(caught.value)
    assert exceptions.listing(store) == []
    with pytest.raises(NotFound):
        exceptions.end_exception(store, "exception-none", "r", "anna")
